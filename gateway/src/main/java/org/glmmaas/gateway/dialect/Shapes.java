package org.glmmaas.gateway.dialect;

import java.util.List;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.proto.inference.v1.TokenLogprob;
import org.glmmaas.proto.inference.v1.ToolCall;
import org.glmmaas.proto.inference.v1.ToolCallDelta;
import org.glmmaas.proto.inference.v1.TopLogprob;
import org.glmmaas.proto.inference.v1.Usage;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * JSON pieces both dialects share: tool calls (OpenAI's shape, which BigModel's SDKs read too),
 * chat logprobs and usage with its details.
 */
public final class Shapes {

  private Shapes() {}

  /** {@code message.tool_calls}: id, type "function", function {name, arguments}. */
  public static ArrayNode toolCalls(List<ToolCall> calls, boolean withIndex) {
    ArrayNode arr = tools.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
    for (int i = 0; i < calls.size(); i++) {
      ToolCall c = calls.get(i);
      ObjectNode n = arr.addObject();
      n.put("id", c.getId());
      n.put("type", "function");
      if (withIndex) {
        n.put("index", i);
      }
      ObjectNode f = n.putObject("function");
      f.put("name", c.getName());
      f.put("arguments", c.getArguments());
    }
    return arr;
  }

  /**
   * {@code delta.tool_calls}: fragments with their call's index; a call's first fragment carries
   * id, type and name, the rest only arguments.
   */
  public static ArrayNode toolCallDeltas(List<ToolCallDelta> deltas) {
    ArrayNode arr = tools.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
    for (ToolCallDelta d : deltas) {
      ObjectNode n = arr.addObject();
      n.put("index", d.getIndex());
      if (!d.getId().isEmpty()) {
        n.put("id", d.getId());
        n.put("type", "function");
      }
      ObjectNode f = n.putObject("function");
      if (!d.getName().isEmpty()) {
        f.put("name", d.getName());
      }
      f.put("arguments", d.getArguments());
    }
    return arr;
  }

  /**
   * Chat logprobs: {@code {"content": [{token, logprob, bytes, top_logprobs}], "refusal": null}}.
   */
  public static ObjectNode chatLogprobs(List<TokenLogprob> lps) {
    ObjectNode root = Json.object();
    ArrayNode content = root.putArray("content");
    for (TokenLogprob t : lps) {
      ObjectNode e = content.addObject();
      e.put("token", t.getToken());
      e.put("logprob", (double) t.getLogprob());
      bytes(e, t.getBytes().toByteArray(), t.getToken());
      ArrayNode top = e.putArray("top_logprobs");
      for (TopLogprob a : t.getTopLogprobsList()) {
        ObjectNode o = top.addObject();
        o.put("token", a.getToken());
        o.put("logprob", (double) a.getLogprob());
        bytes(o, a.getBytes().toByteArray(), a.getToken());
      }
    }
    root.putNull("refusal");
    return root;
  }

  private static void bytes(ObjectNode n, byte[] raw, String token) {
    byte[] b = raw.length > 0 ? raw : token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ArrayNode arr = n.putArray("bytes");
    for (byte x : b) {
      arr.add(x & 0xff);
    }
  }

  /**
   * Usage: prompt (counted once whatever n), completion (all choices), total, cached prompt tokens
   * and reasoning tokens.
   */
  public static ObjectNode usage(Usage u) {
    ObjectNode n = Json.object();
    n.put("prompt_tokens", u.getPromptTokens());
    n.put("completion_tokens", u.getCompletionTokens());
    n.put("total_tokens", u.getPromptTokens() + u.getCompletionTokens());
    n.putObject("prompt_tokens_details").put("cached_tokens", u.getCachedTokens());
    n.putObject("completion_tokens_details").put("reasoning_tokens", u.getReasoningTokens());
    return n;
  }
}
