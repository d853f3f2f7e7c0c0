package org.glmmaas.worker.chat;

import java.util.Set;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * GLM-4.5 / GLM-4.6 (and GLM-4-0414's tagged form): each call is {@code <tool_call>name
 * <arg_key>k</arg_key><arg_value>v</arg_value>…</tool_call>}, several per turn, text around them.
 * Also accepted inside the tags: {@code name\n{json}} and {@code {"name": …, "arguments": {…}}}.
 * Argument values that parse as JSON keep their type; others are strings.
 */
public final class Glm45ToolCallParser implements ToolCallParser {

  static final String OPEN = "<tool_call>";
  static final String CLOSE = "</tool_call>";
  private static final String KEY_OPEN = "<arg_key>";
  private static final String KEY_CLOSE = "</arg_key>";
  private static final String VALUE_OPEN = "<arg_value>";
  private static final String VALUE_CLOSE = "</arg_value>";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @Override
  public String family() {
    return "glm-4.5";
  }

  @Override
  public String callPrefix(String name) {
    return OPEN + name + "\n";
  }

  @Override
  public String callSuffix() {
    return CLOSE;
  }

  @Override
  public Session newSession(Set<String> toolNames, boolean parallel) {
    return new Glm45Session(parallel);
  }

  private static final class Glm45Session implements Session {
    private final boolean parallel;
    private final StringBuilder buf = new StringBuilder();
    private State state = State.TEXT;
    private int numCalls;
    private boolean dropping;
    private boolean argsOpened;
    private int bodyForm; // 0 unknown, 1 json, 2 xml, 3 whole-object

    private enum State {
      TEXT,
      NAME,
      BODY
    }

    Glm45Session(boolean parallel) {
      this.parallel = parallel;
    }

    @Override
    public int numCalls() {
      return numCalls;
    }

    @Override
    public void push(String text, Consumer<OutputEvent> out) {
      buf.append(text);
      boolean progress = true;
      while (progress) {
        progress =
            switch (state) {
              case TEXT -> text(out, false);
              case NAME -> name(out);
              case BODY -> body(out, false);
            };
      }
    }

    @Override
    public void finish(Consumer<OutputEvent> out) {
      switch (state) {
        case TEXT -> text(out, true);
        case NAME -> {
          String name = buf.toString().strip();
          buf.setLength(0);
          if (!name.isEmpty() && !name.startsWith("{")) {
            start(name, out);
            emitArgs("{}", out);
            numCalls++;
          }
        }
        case BODY -> body(out, true);
      }
      state = State.TEXT;
    }

    /** Emits text up to a call's opening tag (holding back what may begin one). */
    private boolean text(Consumer<OutputEvent> out, boolean last) {
      int open = buf.indexOf(OPEN);
      if (open >= 0) {
        emitText(buf.substring(0, open), out);
        buf.delete(0, open + OPEN.length());
        state = State.NAME;
        return true;
      }
      int keep = last ? 0 : partialSuffix(buf, OPEN);
      emitText(buf.substring(0, buf.length() - keep), out);
      buf.delete(0, buf.length() - keep);
      return false;
    }

    private void emitText(String s, Consumer<OutputEvent> out) {
      if (s.isEmpty() || (numCalls > 0 && s.isBlank())) {
        return; // whitespace between calls
      }
      out.accept(new OutputEvent.Text(s));
    }

    private boolean name(Consumer<OutputEvent> out) {
      String s = buf.toString();
      String lead = s.stripLeading();
      if (lead.startsWith("{")) {
        state = State.BODY;
        bodyForm = 3;
        return true;
      }
      int end = firstOf(s, "\n", KEY_OPEN, "{", CLOSE);
      if (end < 0) {
        return false;
      }
      String name = s.substring(0, end).strip();
      buf.delete(0, end);
      start(name, out);
      state = State.BODY;
      bodyForm = 0;
      argsOpened = false;
      return true;
    }

    private void start(String name, Consumer<OutputEvent> out) {
      dropping = !parallel && numCalls > 0;
      if (!dropping) {
        out.accept(new OutputEvent.CallStart(numCalls, CallIds.next(), name));
      }
    }

    private void emitArgs(String args, Consumer<OutputEvent> out) {
      if (!dropping && !args.isEmpty()) {
        out.accept(new OutputEvent.CallArguments(numCalls, args));
      }
    }

    private boolean body(Consumer<OutputEvent> out, boolean last) {
      if (bodyForm == 0) {
        String lead = buf.toString().stripLeading();
        if (lead.isEmpty()) {
          if (last) {
            emitArgs("{}", out);
            endCall();
          }
          return false;
        }
        if (lead.startsWith("{")) {
          bodyForm = 1;
          buf.delete(0, buf.length() - lead.length());
        } else if (lead.startsWith("<") && !lead.startsWith(CLOSE) && KEY_OPEN.startsWith(lead)) {
          if (!last) {
            return false; // not yet known
          }
          bodyForm = 2;
        } else {
          bodyForm = 2;
        }
      }
      int close = buf.indexOf(CLOSE);
      switch (bodyForm) {
        case 1 -> {
          if (close >= 0) {
            emitArgs(buf.substring(0, close).stripTrailing(), out);
            buf.delete(0, close + CLOSE.length());
            endCall();
            return true;
          }
          int keep = last ? 0 : Math.max(partialSuffix(buf, CLOSE), trailingWhitespace(buf));
          emitArgs(buf.substring(0, buf.length() - keep), out);
          buf.delete(0, buf.length() - keep);
          if (last) {
            endCall();
          }
          return false;
        }
        case 2 -> {
          boolean progress = xmlPairs(out);
          if (close >= 0 || last) {
            int c = buf.indexOf(CLOSE);
            emitArgs(argsOpened ? "}" : "{}", out);
            buf.delete(0, c >= 0 ? c + CLOSE.length() : buf.length());
            endCall();
            return true;
          }
          return progress;
        }
        default -> {
          if (close < 0 && !last) {
            return false;
          }
          String body = close >= 0 ? buf.substring(0, close) : buf.toString();
          buf.delete(0, close >= 0 ? close + CLOSE.length() : buf.length());
          wholeObject(body, out);
          return true;
        }
      }
    }

    private boolean xmlPairs(Consumer<OutputEvent> out) {
      boolean any = false;
      while (true) {
        int k = buf.indexOf(KEY_OPEN);
        int kc = buf.indexOf(KEY_CLOSE);
        int v = buf.indexOf(VALUE_OPEN);
        int vc = buf.indexOf(VALUE_CLOSE);
        int c = buf.indexOf(CLOSE);
        if (k < 0 || kc < k || v < kc || vc < v || (c >= 0 && vc > c)) {
          return any;
        }
        String key = buf.substring(k + KEY_OPEN.length(), kc).strip();
        String value = buf.substring(v + VALUE_OPEN.length(), vc);
        buf.delete(0, vc + VALUE_CLOSE.length());
        String piece = (argsOpened ? ", " : "{") + quote(key) + ": " + valueJson(value);
        argsOpened = true;
        emitArgs(piece, out);
        any = true;
      }
    }

    private void wholeObject(String body, Consumer<OutputEvent> out) {
      try {
        JsonNode node = JSON.readTree(body);
        String name = node.path("name").asString("");
        JsonNode args = node.path("arguments");
        start(name, out);
        emitArgs(
            args.isString()
                ? args.asString()
                : args.isMissingNode() ? "{}" : JSON.writeValueAsString(args),
            out);
        endCall();
      } catch (JacksonException e) {
        emitText(OPEN + body + CLOSE, out); // not a call after all
        state = State.TEXT;
      }
    }

    private void endCall() {
      if (!dropping) {
        numCalls++;
      }
      dropping = false;
      state = State.TEXT;
      bodyForm = 0;
      argsOpened = false;
    }
  }

  static String valueJson(String raw) {
    String v = raw.strip();
    try {
      JsonNode n = JSON.readTree(v);
      if (n != null && !n.isMissingNode()) {
        return JSON.writeValueAsString(n);
      }
    } catch (JacksonException e) {
      // a plain string
    }
    return quote(raw);
  }

  static String quote(String s) {
    return JSON.writeValueAsString(s);
  }

  private static int firstOf(String s, String... needles) {
    int best = -1;
    for (String n : needles) {
      int i = s.indexOf(n);
      if (i >= 0 && (best < 0 || i < best)) {
        best = i;
      }
    }
    return best;
  }

  /** Length of the longest suffix of {@code buf} that is a proper prefix of {@code tag}. */
  static int partialSuffix(CharSequence buf, String tag) {
    int max = Math.min(buf.length(), tag.length() - 1);
    for (int n = max; n > 0; n--) {
      boolean match = true;
      for (int i = 0; i < n; i++) {
        if (buf.charAt(buf.length() - n + i) != tag.charAt(i)) {
          match = false;
          break;
        }
      }
      if (match) {
        return n;
      }
    }
    return 0;
  }

  private static int trailingWhitespace(CharSequence buf) {
    int n = 0;
    while (n < buf.length() && Character.isWhitespace(buf.charAt(buf.length() - 1 - n))) {
      n++;
    }
    return n;
  }
}
