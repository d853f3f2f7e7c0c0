package org.glmmaas.gateway.api;

import java.util.List;

/**
 * A validated chat call, the same for both dialects. Absent optional values are null.
 *
 * @param model model id
 * @param messages the conversation, never empty
 * @param stream answer as server-sent events
 * @param temperature sampling temperature in [0, 2]
 * @param topP nucleus mass in (0, 1]
 * @param maxTokens maximum generated tokens, count
 * @param stop stop strings (possibly empty)
 * @param doSample BigModel do_sample
 * @param seed sampler seed
 * @param requestId the client's request_id, used as the response id
 * @param userId end-user id (BigModel user_id, OpenAI user)
 * @param includeUsage OpenAI stream_options.include_usage
 */
public record ChatRequest(
    String model,
    List<Message> messages,
    boolean stream,
    Double temperature,
    Double topP,
    Integer maxTokens,
    List<String> stop,
    Boolean doSample,
    Long seed,
    String requestId,
    String userId,
    boolean includeUsage) {

  /** One chat turn. */
  public record Message(String role, String content, String name, String toolCallId) {}

  /** UTF-16 length of all message contents: the basis of the prompt-token estimate. */
  public int contentLength() {
    int n = 0;
    for (Message m : messages) {
      n += m.content().length();
    }
    return n;
  }

  /**
   * Estimated prompt tokens (before the worker tokenizes): a conservative 1 token per 3 chars, plus
   * 4 per message for the template.
   */
  public int estimatedPromptTokens() {
    return contentLength() / 3 + 4 * messages.size() + 1;
  }
}
