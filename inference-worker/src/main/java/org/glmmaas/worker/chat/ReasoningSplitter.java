package org.glmmaas.worker.chat;

import java.util.function.Consumer;

/**
 * Splits a thinking model's output into reasoning ({@code <think>…</think>}) and the rest. The
 * reasoning block is recognised at the start of the output only (leading whitespace allowed), or
 * the output starts inside it when the prompt already opened it. Text that may begin a tag is held
 * back until known.
 */
public final class ReasoningSplitter {

  static final String OPEN = "<think>";
  static final String CLOSE = "</think>";

  private final StringBuilder buf = new StringBuilder();
  private int state; // 0 start, 1 reasoning, 2 content
  private boolean stripLeading;

  /**
   * @param startsInside the prompt ended with an open {@code <think>}
   */
  public ReasoningSplitter(boolean startsInside) {
    this.state = startsInside ? 1 : 0;
  }

  /** Whether the output is inside the reasoning block now. */
  public boolean inReasoning() {
    return state == 1;
  }

  public void push(String text, Consumer<OutputEvent> out) {
    buf.append(text);
    boolean progress = true;
    while (progress) {
      progress = step(out, false);
    }
  }

  public void finish(Consumer<OutputEvent> out) {
    step(out, true);
    if (!buf.isEmpty()) {
      emit(buf.toString(), out);
      buf.setLength(0);
    }
  }

  private boolean step(Consumer<OutputEvent> out, boolean last) {
    switch (state) {
      case 0 -> {
        String lead = buf.toString().stripLeading();
        if (lead.startsWith(OPEN)) {
          buf.delete(0, buf.length() - lead.length() + OPEN.length());
          state = 1;
          return true;
        }
        if (!last && (lead.isEmpty() || OPEN.startsWith(lead))) {
          return false;
        }
        state = 2;
        return true;
      }
      case 1 -> {
        int close = buf.indexOf(CLOSE);
        if (close >= 0) {
          emit(buf.substring(0, close), out);
          buf.delete(0, close + CLOSE.length());
          state = 2;
          stripLeading = true;
          return true;
        }
        int keep = last ? 0 : Glm45ToolCallParser.partialSuffix(buf, CLOSE);
        emit(buf.substring(0, buf.length() - keep), out);
        buf.delete(0, buf.length() - keep);
        return false;
      }
      default -> {
        String s = buf.toString();
        buf.setLength(0);
        if (stripLeading) {
          s = s.stripLeading();
          stripLeading = s.isEmpty();
        }
        emit(s, out);
        return false;
      }
    }
  }

  private void emit(String s, Consumer<OutputEvent> out) {
    if (s.isEmpty()) {
      return;
    }
    out.accept(state == 1 ? new OutputEvent.Reasoning(s) : new OutputEvent.Text(s));
  }
}
