package org.glmmaas.worker.chat;

/** Picks the tool-call parser of a model from its chat template. */
public final class ToolCallParsers {

  private ToolCallParsers() {}

  /**
   * GLM-4.5-style templates (they render {@code <tool_call>}) get {@link Glm45ToolCallParser};
   * others (GLM-4 chat) {@link Glm4ChatToolCallParser}.
   */
  public static ToolCallParser forTemplate(String templateSource) {
    return templateSource.contains(Glm45ToolCallParser.OPEN)
        ? new Glm45ToolCallParser()
        : new Glm4ChatToolCallParser();
  }

  /** Whether the template renders thinking ({@code <think>}). */
  public static boolean thinks(String templateSource) {
    return templateSource.contains(ReasoningSplitter.OPEN);
  }
}
