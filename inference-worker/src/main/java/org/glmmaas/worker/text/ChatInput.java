package org.glmmaas.worker.text;

import java.util.List;

/**
 * What a chat template renders: the messages, the tools offered and the thinking switch.
 *
 * @param messages the conversation
 * @param tools the tools offered (maybe empty: the template then gets no {@code tools})
 * @param enableThinking the template's {@code enable_thinking}, or null for its default
 */
public record ChatInput(List<ChatTurn> messages, List<ToolSpec> tools, Boolean enableThinking) {

  public ChatInput {
    messages = List.copyOf(messages);
    tools = tools == null ? List.of() : List.copyOf(tools);
  }

  public static ChatInput of(List<ChatTurn> messages) {
    return new ChatInput(messages, List.of(), null);
  }
}
