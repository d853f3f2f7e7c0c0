package org.glmmaas.gateway.dialect.openai;

import java.util.List;
import java.util.UUID;
import org.glmmaas.gateway.dialect.Shapes;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.TokenLogprob;
import org.glmmaas.proto.inference.v1.TopLogprob;
import org.glmmaas.proto.inference.v1.Usage;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** OpenAI's legacy text_completion shapes on {@code /v1/completions}. */
public final class OpenAiCompletions {

  private OpenAiCompletions() {}

  /** A fresh response id. */
  public static String newId() {
    return "cmpl-" + UUID.randomUUID().toString().replace("-", "");
  }

  /**
   * One choice of a completion (or of a chunk).
   *
   * @param index choice index (prompt index × n + choice)
   * @param text the text (of this chunk)
   * @param logprobs the completions logprobs object, or null
   * @param finish how it ended, or null while streaming
   */
  public record Choice(int index, String text, ObjectNode logprobs, FinishReason finish) {}

  /** The whole, non-streaming body. */
  public static String completion(
      String id, long created, String model, List<Choice> choices, Usage usage) {
    ObjectNode root = head(id, created, model);
    add(root.putArray("choices"), choices);
    root.set("usage", Shapes.usage(usage));
    return Json.write(root);
  }

  /** A chunk: one or more choices' new text, or their finish. */
  public static String chunk(
      String id, long created, String model, List<Choice> choices, boolean includeUsage) {
    ObjectNode root = head(id, created, model);
    add(root.putArray("choices"), choices);
    if (includeUsage) {
      root.putNull("usage");
    }
    return Json.write(root);
  }

  /** The chunk after the last finish when the client asked for usage: no choices, the usage. */
  public static String usageChunk(String id, long created, String model, Usage usage) {
    ObjectNode root = head(id, created, model);
    root.putArray("choices");
    root.set("usage", Shapes.usage(usage));
    return Json.write(root);
  }

  /**
   * The completions logprobs object: tokens, token_logprobs, top_logprobs (token to logprob maps),
   * text_offset (each token's character offset in the choice's text, from {@code offset}).
   */
  public static ObjectNode logprobs(List<TokenLogprob> lps, int offset) {
    ObjectNode n = Json.object();
    ArrayNode tokens = n.putArray("tokens");
    ArrayNode values = n.putArray("token_logprobs");
    ArrayNode tops = n.putArray("top_logprobs");
    ArrayNode offsets = n.putArray("text_offset");
    int at = offset;
    for (TokenLogprob t : lps) {
      tokens.add(t.getToken());
      values.add((double) t.getLogprob());
      ObjectNode top = tops.addObject();
      for (TopLogprob a : t.getTopLogprobsList()) {
        top.put(a.getToken(), (double) a.getLogprob());
      }
      offsets.add(at);
      at += t.getToken().length();
    }
    return n;
  }

  private static void add(ArrayNode arr, List<Choice> choices) {
    for (Choice c : choices) {
      ObjectNode o = arr.addObject();
      o.put("text", c.text());
      o.put("index", c.index());
      if (c.logprobs() != null) {
        o.set("logprobs", c.logprobs());
      } else {
        o.putNull("logprobs");
      }
      if (c.finish() == null) {
        o.putNull("finish_reason");
      } else {
        o.put("finish_reason", c.finish() == FinishReason.LENGTH ? "length" : "stop");
      }
    }
  }

  private static ObjectNode head(String id, long created, String model) {
    ObjectNode root = Json.object();
    root.put("id", id);
    root.put("object", "text_completion");
    root.put("created", created);
    root.put("model", model);
    root.putNull("system_fingerprint");
    return root;
  }
}
