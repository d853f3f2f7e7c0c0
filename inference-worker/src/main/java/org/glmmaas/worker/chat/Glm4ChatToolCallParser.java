package org.glmmaas.worker.chat;

import java.util.Set;
import java.util.function.Consumer;

/**
 * GLM-4-9B-chat (and GLM-4-0414 in its plain form): a call is the assistant turn's output {@code
 * name\n{json arguments}} right after {@code <|assistant|>}; one call per turn. The output is a
 * call when its first line (leading whitespace ignored) is exactly the name of an offered function.
 */
public final class Glm4ChatToolCallParser implements ToolCallParser {

  @Override
  public String family() {
    return "glm-4-chat";
  }

  @Override
  public String callPrefix(String name) {
    return name + "\n";
  }

  @Override
  public String callSuffix() {
    return "";
  }

  @Override
  public Session newSession(Set<String> toolNames, boolean parallel) {
    return new Session() {
      private final StringBuilder buf = new StringBuilder();
      private int state; // 0 deciding, 1 text, 2 arguments
      private int numCalls;

      @Override
      public void push(String text, Consumer<OutputEvent> out) {
        if (text.isEmpty()) {
          return;
        }
        switch (state) {
          case 1 -> out.accept(new OutputEvent.Text(text));
          case 2 -> out.accept(new OutputEvent.CallArguments(0, text));
          default -> decide(text, out);
        }
      }

      private void decide(String text, Consumer<OutputEvent> out) {
        buf.append(text);
        String s = buf.toString().stripLeading();
        int nl = s.indexOf('\n');
        if (nl >= 0) {
          String name = s.substring(0, nl).strip();
          if (toolNames.contains(name)) {
            state = 2;
            numCalls = 1;
            out.accept(new OutputEvent.CallStart(0, CallIds.next(), name));
            String rest = s.substring(nl + 1);
            if (!rest.isEmpty()) {
              out.accept(new OutputEvent.CallArguments(0, rest));
            }
          } else {
            state = 1;
            out.accept(new OutputEvent.Text(buf.toString()));
          }
          buf.setLength(0);
          return;
        }
        if (s.isEmpty()) {
          return;
        }
        for (String name : toolNames) {
          if (name.startsWith(s)) {
            return; // may still become a call
          }
        }
        state = 1;
        out.accept(new OutputEvent.Text(buf.toString()));
        buf.setLength(0);
      }

      @Override
      public void finish(Consumer<OutputEvent> out) {
        if (state == 0 && !buf.isEmpty()) {
          String name = buf.toString().strip();
          if (toolNames.contains(name)) {
            numCalls = 1;
            out.accept(new OutputEvent.CallStart(0, CallIds.next(), name));
            out.accept(new OutputEvent.CallArguments(0, "{}"));
          } else {
            out.accept(new OutputEvent.Text(buf.toString()));
          }
          buf.setLength(0);
        }
        state = 1;
      }

      @Override
      public int numCalls() {
        return numCalls;
      }
    };
  }
}
