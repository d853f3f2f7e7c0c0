package org.glmmaas.gateway.dialect.openai;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.error.OpenAiErrors;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Usage;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** OpenAI's chat.completion / chat.completion.chunk shapes and error envelope on {@code /v1}. */
public final class OpenAiDialect implements Dialect {

  @Override
  public String newId() {
    return "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
  }

  @Override
  public String errorBody(GlmError e) {
    return Json.write(OpenAiErrors.body(e));
  }

  @Override
  public String finishReason(FinishReason reason) {
    return switch (reason) {
      case LENGTH -> "length";
      case STOP -> "stop";
      default -> "stop";
    };
  }

  @Override
  public String completion(StreamContext ctx, String content, FinishReason reason, Usage usage) {
    ObjectNode root = Json.object();
    root.put("id", ctx.id());
    root.put("object", "chat.completion");
    root.put("created", ctx.created());
    root.put("model", ctx.model());
    ArrayNode choices = root.putArray("choices");
    ObjectNode choice = choices.addObject();
    choice.put("index", 0);
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    message.put("content", content);
    message.putNull("refusal");
    choice.putNull("logprobs");
    choice.put("finish_reason", finishReason(reason));
    root.set("usage", usage(usage));
    root.putNull("system_fingerprint");
    return Json.write(root);
  }

  @Override
  public String chunk(StreamContext ctx, String text) {
    ObjectNode root = head(ctx);
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode delta = choice.putObject("delta");
    delta.put("role", "assistant");
    delta.put("content", text);
    choice.putNull("logprobs");
    choice.putNull("finish_reason");
    if (ctx.includeUsage()) {
      root.putNull("usage");
    }
    return Json.write(root);
  }

  @Override
  public List<String> finalChunks(StreamContext ctx, FinishReason reason, Usage usage) {
    List<String> out = new ArrayList<>(2);
    ObjectNode last = head(ctx);
    ObjectNode choice = last.putArray("choices").addObject();
    choice.put("index", 0);
    choice.putObject("delta");
    choice.putNull("logprobs");
    choice.put("finish_reason", finishReason(reason));
    if (ctx.includeUsage()) {
      last.putNull("usage");
    }
    out.add(Json.write(last));
    if (ctx.includeUsage()) {
      ObjectNode u = head(ctx);
      u.putArray("choices");
      u.set("usage", usage(usage));
      out.add(Json.write(u));
    }
    return out;
  }

  private static ObjectNode head(StreamContext ctx) {
    ObjectNode root = Json.object();
    root.put("id", ctx.id());
    root.put("object", "chat.completion.chunk");
    root.put("created", ctx.created());
    root.put("model", ctx.model());
    root.putNull("system_fingerprint");
    return root;
  }

  static ObjectNode usage(Usage u) {
    ObjectNode n = Json.object();
    n.put("prompt_tokens", u.getPromptTokens());
    n.put("completion_tokens", u.getCompletionTokens());
    n.put("total_tokens", u.getPromptTokens() + u.getCompletionTokens());
    n.putObject("prompt_tokens_details").put("cached_tokens", u.getCachedTokens());
    return n;
  }
}
