package org.glmmaas.worker.text;

import java.util.List;

/**
 * One message of a chat: role "system", "user", "assistant", "tool"/"observation".
 *
 * @param role the role
 * @param content text content ("" when none)
 * @param name optional author name, or ""
 * @param toolCallId for "tool": the call this answers, or ""
 * @param toolCalls for "assistant": the calls it made (maybe empty)
 * @param reasoningContent for "assistant": a thinking model's reasoning, or ""
 */
public record ChatTurn(
    String role,
    String content,
    String name,
    String toolCallId,
    List<ToolCallSpec> toolCalls,
    String reasoningContent) {

  public ChatTurn {
    content = content == null ? "" : content;
    name = name == null ? "" : name;
    toolCallId = toolCallId == null ? "" : toolCallId;
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    reasoningContent = reasoningContent == null ? "" : reasoningContent;
  }

  public ChatTurn(String role, String content) {
    this(role, content, "", "", List.of(), "");
  }

  /** A tool call an assistant turn carries: id, function name, arguments (JSON object text). */
  public record ToolCallSpec(String id, String name, String arguments) {}
}
