package org.glmmaas.worker.chat;

/** Picks the tool-call parser of a model from its chat template. */
public final class ToolCallParsers {

  private ToolCallParsers() {}

  /**
   * GLM-4.5-style templates (they render {@code <tool_call>}) get {@link Glm45ToolCallParser};
   * ChatGLM3's ({@link #chatGlm3}) {@link ChatGlm3ToolCallParser}; others (GLM-4 chat) {@link
   * Glm4ChatToolCallParser}.
   */
  public static ToolCallParser forTemplate(String templateSource) {
    if (templateSource.contains(Glm45ToolCallParser.OPEN)) {
      return new Glm45ToolCallParser();
    }
    return chatGlm3(templateSource) ? new ChatGlm3ToolCallParser() : new Glm4ChatToolCallParser();
  }

  /**
   * ChatGLM2/ChatGLM3 templates: they open with {@code [gMASK]sop} (no angle brackets; GLM-4 writes
   * {@code [gMASK]<sop>}), llama.cpp's test for its chatglm3 template.
   */
  public static boolean chatGlm3(String templateSource) {
    return org.glmmaas.worker.text.JinjaChatTemplate.isChatGlm3(templateSource);
  }

  /** Whether the template renders thinking ({@code <think>}). */
  public static boolean thinks(String templateSource) {
    return templateSource.contains(ReasoningSplitter.OPEN);
  }
}
