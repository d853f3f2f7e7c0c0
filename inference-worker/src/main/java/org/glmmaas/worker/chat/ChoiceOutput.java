package org.glmmaas.worker.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * One choice's generated text, turned into what the client gets: reasoning (when the template
 * thinks), tool-call fragments (when tools are offered, by the family's parser) and content. Counts
 * the tokens spent reasoning.
 */
public final class ChoiceOutput {

  private final ReasoningSplitter reasoning;
  private final ToolCallParser.Session tools;
  private int numReasoningTokens;

  /**
   * @param reasoning null when the model does not think
   * @param tools null when no tool may be called
   */
  public ChoiceOutput(ReasoningSplitter reasoning, ToolCallParser.Session tools) {
    this.reasoning = reasoning;
    this.tools = tools;
  }

  /** Events of one step's text, produced by {@code numTokens} tokens. */
  public List<OutputEvent> push(String text, int numTokens) {
    List<OutputEvent> events = new ArrayList<>();
    boolean wasReasoning = reasoning != null && reasoning.inReasoning();
    if (reasoning == null) {
      route(new OutputEvent.Text(text), events);
    } else {
      reasoning.push(text, e -> route(e, events));
    }
    if (wasReasoning
        || (reasoning != null && reasoning.inReasoning())
        || events.stream().anyMatch(e -> e instanceof OutputEvent.Reasoning)) {
      numReasoningTokens += numTokens;
    }
    return events;
  }

  /** Events held back until the end. */
  public List<OutputEvent> finish() {
    List<OutputEvent> events = new ArrayList<>();
    if (reasoning != null) {
      reasoning.finish(e -> route(e, events));
    }
    if (tools != null) {
      tools.finish(events::add);
    }
    return events;
  }

  private void route(OutputEvent e, List<OutputEvent> events) {
    if (tools != null && e instanceof OutputEvent.Text t) {
      tools.push(t.text(), events::add);
    } else if (!(e instanceof OutputEvent.Text t && t.text().isEmpty())) {
      events.add(e);
    }
  }

  public int numToolCalls() {
    return tools == null ? 0 : tools.numCalls();
  }

  public int numReasoningTokens() {
    return numReasoningTokens;
  }
}
