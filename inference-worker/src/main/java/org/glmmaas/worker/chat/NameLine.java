package org.glmmaas.worker.chat;

import java.util.Set;
import java.util.function.Consumer;

/**
 * Decides, as output streams in, whether an assistant turn opens with {@code name\n} where name is
 * an offered function (leading whitespace ignored): the call form of GLM-4-9B-chat and ChatGLM3,
 * whose parsers differ only in what follows the name line. Holds the undecided prefix.
 */
final class NameLine {

  /** What the output so far says. */
  sealed interface Decision {}

  /** Not yet known: the buffered prefix may still become a name line. */
  record Pending() implements Decision {}

  /** Plain text: {@code text} is everything buffered, to be emitted as is. */
  record Text(String text) implements Decision {}

  /** A call of {@code name}; {@code rest} is what followed the name line so far. */
  record Call(String name, String rest) implements Decision {}

  private static final Pending PENDING = new Pending();

  private final Set<String> toolNames;
  private final StringBuilder buf = new StringBuilder();

  NameLine(Set<String> toolNames) {
    this.toolNames = toolNames;
  }

  /** Adds streamed output; once the answer is Text or Call, the caller stops pushing. */
  Decision push(String text) {
    buf.append(text);
    String s = buf.toString().stripLeading();
    int nl = s.indexOf('\n');
    if (nl >= 0) {
      String name = s.substring(0, nl).strip();
      Decision d =
          toolNames.contains(name) ? new Call(name, s.substring(nl + 1)) : new Text(buf.toString());
      buf.setLength(0);
      return d;
    }
    if (s.isEmpty()) {
      return PENDING;
    }
    for (String name : toolNames) {
      if (name.startsWith(s)) {
        return PENDING; // may still become a call
      }
    }
    Decision d = new Text(buf.toString());
    buf.setLength(0);
    return d;
  }

  /**
   * The output ended undecided: the bare name of an offered function is a call without arguments
   * ({@code rest} empty), anything else text; null when nothing was buffered.
   */
  Decision finish() {
    if (buf.isEmpty()) {
      return null;
    }
    String name = buf.toString().strip();
    Decision d = toolNames.contains(name) ? new Call(name, "") : new Text(buf.toString());
    buf.setLength(0);
    return d;
  }

  /**
   * {@link #finish} as output events: a call of the bare name with {@code {}} arguments (then
   * true), or the buffered text; nothing when nothing was buffered.
   */
  boolean finishInto(Consumer<OutputEvent> out) {
    switch (finish()) {
      case Call c -> {
        out.accept(new OutputEvent.CallStart(0, CallIds.next(), c.name()));
        out.accept(new OutputEvent.CallArguments(0, "{}"));
        return true;
      }
      case Text t -> out.accept(new OutputEvent.Text(t.text()));
      case null, default -> {}
    }
    return false;
  }
}
