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
 * @param promptTokenBound an upper bound on the prompt's tokens ({@link #estimate})
 */
public record ChatRequest(
    String model,
    boolean stream,
    String requestId,
    String userId,
    GenerateRequest prompt,
    Options options,
    String affinityKey,
    int promptTokenBound)
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

  /** Template tokens allowed per message (role markers, separators, name, tool-call markup). */
  static final int PER_MESSAGE = 16;

  /** Template tokens allowed once per prompt (prefix tokens, generation prompt). */
  static final int PER_PROMPT = 16;

  /**
   * Template tokens allowed when tools are offered (the template's tool preamble), plus per tool
   * and twice the bytes of its definition (the template may pretty-print the schema).
   */
  static final int TOOLS_PREAMBLE = 512;

  static final int PER_TOOL = 32;

  /**
   * An upper bound on the prompt's tokens. The GLM vocabularies are byte-level BPE (their GGUF
   * files say tokenizer.ggml.model "gpt2") and user text never becomes a special token, so every
   * token of client text covers at least one UTF-8 byte: text of b bytes is at most b tokens,
   * whatever the language (a Chinese character is 3 bytes and at least 1/3 token; 1 token per 3
   * characters undercounted it). The chat template's own markup is allowed for by the constants
   * above; the ledger logs and counts any usage that still exceeds its reservation
   * (docs/architecture.md).
   */
  static int estimate(GenerateRequest g) {
    long bytes = 0;
    long overhead = PER_PROMPT;
    if (g.hasChat()) {
      for (ChatMessage m : g.getChat().getMessagesList()) {
        bytes +=
            utf8(m.getContent())
                + utf8(m.getReasoningContent())
                + utf8(m.getName())
                + utf8(m.getToolCallId())
                + utf8(m.getRole());
        for (var c : m.getToolCallsList()) {
          bytes += utf8(c.getName()) + utf8(c.getArguments()) + utf8(c.getId());
          overhead += PER_MESSAGE;
        }
        overhead += PER_MESSAGE;
      }
      if (g.getChat().getToolsCount() > 0) {
        overhead += TOOLS_PREAMBLE;
      }
      for (var t : g.getChat().getToolsList()) {
        bytes +=
            2L
                * (utf8(t.getName())
                    + utf8(t.getDescription())
                    + Math.max(utf8(t.getParametersJson()), 32));
        overhead += PER_TOOL;
      }
    } else if (g.hasFim()) {
      bytes +=
          utf8(g.getFim().getPrefix())
              + utf8(g.getFim().getSuffix())
              + utf8(g.getFim().getPath())
              + utf8(g.getFim().getLanguage());
      overhead += PER_MESSAGE;
    } else if (g.hasText()) {
      bytes += utf8(g.getText());
    } else if (g.hasTokenIds()) {
      bytes += g.getTokenIds().getIdsCount();
    }
    if (g.hasResponseFormat()) {
      bytes += 2L * utf8(g.getResponseFormat().getSchemaJson());
    }
    return (int) Math.min(Integer.MAX_VALUE, bytes + overhead);
  }

  /** UTF-8 length of {@code s} without encoding it. */
  static long utf8(String s) {
    long n = s.length();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        n +=
            c >= 0x800 && !Character.isSurrogate(c) ? 2 : 1; // a surrogate pair: 4 bytes in 2 chars
      }
    }
    return n;
  }
}
