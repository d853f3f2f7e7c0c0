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
      private final NameLine nameLine = new NameLine(toolNames);
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
          default -> apply(nameLine.push(text), out);
        }
      }

      private void apply(NameLine.Decision d, Consumer<OutputEvent> out) {
        switch (d) {
          case NameLine.Call c -> {
            state = 2;
            numCalls = 1;
            out.accept(new OutputEvent.CallStart(0, CallIds.next(), c.name()));
            if (!c.rest().isEmpty()) {
              out.accept(new OutputEvent.CallArguments(0, c.rest()));
            }
          }
          case NameLine.Text t -> {
            state = 1;
            out.accept(new OutputEvent.Text(t.text()));
          }
          case NameLine.Pending p -> {}
        }
      }

      @Override
      public void finish(Consumer<OutputEvent> out) {
        if (state == 0) {
          if (nameLine.finishInto(out)) {
            numCalls = 1;
          }
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
