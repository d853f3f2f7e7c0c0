package org.glmmaas.gateway.dialect.bigmodel;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.BigModelErrors;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Usage;
import tools.jackson.databind.node.ObjectNode;

/**
 * BigModel's (open.bigmodel.cn) shapes on {@code /api/paas/v4}: every chunk repeats the role, the
 * last chunk carries finish_reason and usage, ids are long digit strings.
 */
public final class BigModelDialect implements Dialect {

  @Override
  public String newId() {
    // BigModel ids look like "8313807536837492492": a timestamp prefix plus random digits.
    long now = System.currentTimeMillis();
    long rnd = ThreadLocalRandom.current().nextLong(1_000_000L, 10_000_000L);
    return now + String.valueOf(rnd);
  }

  @Override
  public String errorBody(GlmError e) {
    return Json.write(BigModelErrors.body(e));
  }

  @Override
  public String finishReason(FinishReason reason) {
    return switch (reason) {
      case STOP -> "stop";
      case LENGTH -> "length";
      default -> "network_error";
    };
  }

  @Override
  public String completion(StreamContext ctx, String content, FinishReason reason, Usage usage) {
    return Json.write(completionNode(ctx, content, reason, usage));
  }

  /** The non-streaming body; also the payload of a SUCCESS async result. */
  public ObjectNode completionNode(
      StreamContext ctx, String content, FinishReason reason, Usage usage) {
    ObjectNode root = Json.object();
    root.put("id", ctx.id());
    root.put("request_id", ctx.id());
    root.put("created", ctx.created());
    root.put("model", ctx.model());
    root.put("object", "chat.completion");
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    choice.put("finish_reason", finishReason(reason));
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    message.put("content", content);
    root.set("usage", usage(usage));
    return root;
  }

  @Override
  public String chunk(StreamContext ctx, String text) {
    ObjectNode root = head(ctx);
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode delta = choice.putObject("delta");
    delta.put("role", "assistant");
    delta.put("content", text);
    return Json.write(root);
  }

  @Override
  public List<String> finalChunks(StreamContext ctx, FinishReason reason, Usage usage) {
    ObjectNode root = head(ctx);
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    choice.put("finish_reason", finishReason(reason));
    ObjectNode delta = choice.putObject("delta");
    delta.put("role", "assistant");
    delta.put("content", "");
    root.set("usage", usage(usage));
    return List.of(Json.write(root));
  }

  private static ObjectNode head(StreamContext ctx) {
    ObjectNode root = Json.object();
    root.put("id", ctx.id());
    root.put("created", ctx.created());
    root.put("model", ctx.model());
    return root;
  }

  static ObjectNode usage(Usage u) {
    ObjectNode n = Json.object();
    n.put("prompt_tokens", u.getPromptTokens());
    n.put("completion_tokens", u.getCompletionTokens());
    n.putObject("prompt_tokens_details").put("cached_tokens", u.getCachedTokens());
    n.put("total_tokens", u.getPromptTokens() + u.getCompletionTokens());
    return n;
  }
}
