package org.glmmaas.gateway.request;

import java.util.List;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.GenerateRequest;

/**
 * A validated chat call, the same for both dialects.
 *
 * @param model model id
 * @param stream answer as server-sent events
 * @param requestId the client's request_id (the response id), or null
 * @param userId end-user id (BigModel user_id, OpenAI user / safety_identifier), or null
 * @param prompt what the worker gets, ids left out: the chat (or a CodeGeeX fill-in-the-middle),
 *     sampling, tool choice, response format and n
 * @param options how the answer is shaped
 * @param affinityKey OpenAI prompt_cache_key: hashed for routing instead of the prompt's start
 * @param estimatedPromptTokens prompt tokens estimated high (1 per 3 characters, template overhead)
 */
public record ChatRequest(
    String model,
    boolean stream,
    String requestId,
    String userId,
    GenerateRequest prompt,
    Options options,
    String affinityKey,
    int estimatedPromptTokens)
    implements ApiCall {

  /**
   * How the answer is shaped.
   *
   * @param includeUsage OpenAI stream_options.include_usage
   * @param toolStream BigModel tool_stream: stream tool-call arguments in fragments (else each call
   *     arrives whole)
   * @param parallelToolCalls false: at most one tool call per choice
   * @param serviceTier OpenAI service_tier to echo ("default"), or null
   */
  public record Options(
      boolean includeUsage, boolean toolStream, boolean parallelToolCalls, String serviceTier) {}

  @Override
  public int n() {
    return Math.max(1, prompt.getN());
  }

  @Override
  public Integer maxTokens() {
    return prompt.getSampling().hasMaxTokens() ? prompt.getSampling().getMaxTokens() : null;
  }

  @Override
  public List<GenerateRequest> prompts() {
    return List.of(prompt);
  }

  /** The chat messages (empty for a fill-in-the-middle prompt). */
  public List<ChatMessage> messages() {
    return prompt.hasChat() ? prompt.getChat().getMessagesList() : List.of();
  }

  @Override
  public String affinityText(int budget) {
    if (affinityKey != null) {
      return "key\u0000" + affinityKey;
    }
    StringBuilder sb = new StringBuilder();
    if (prompt.hasFim()) {
      String p = prompt.getFim().getPrefix();
      return sb.append("fim\u0000").append(p, 0, Math.min(p.length(), budget)).toString();
    }
    for (ChatMessage m : messages()) {
      if (budget <= 0) {
        break;
      }
      sb.append(m.getRole()).append('\u0000');
      String content = m.getContent();
      sb.append(content, 0, Math.min(content.length(), budget)).append('\u0000');
      budget -= content.length();
    }
    return sb.toString();
  }

  /** A conservative 1 token per 3 characters plus 4 per message (and 10 per tool). */
  static int estimate(GenerateRequest g) {
    long chars = 0;
    int overhead = 1;
    if (g.hasChat()) {
      for (ChatMessage m : g.getChat().getMessagesList()) {
        chars += m.getContent().length() + m.getReasoningContent().length();
        for (var c : m.getToolCallsList()) {
          chars += c.getName().length() + c.getArguments().length() + c.getId().length();
        }
        overhead += 4;
      }
      for (var t : g.getChat().getToolsList()) {
        chars +=
            t.getName().length() + t.getDescription().length() + t.getParametersJson().length();
        overhead += 10;
      }
    } else if (g.hasFim()) {
      chars +=
          g.getFim().getPrefix().length()
              + g.getFim().getSuffix().length()
              + g.getFim().getPath().length()
              + g.getFim().getLanguage().length();
      overhead += 8;
    }
    return (int) Math.min(Integer.MAX_VALUE, chars / 3 + overhead);
  }
}
