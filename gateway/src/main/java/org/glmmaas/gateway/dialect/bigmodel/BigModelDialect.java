package org.glmmaas.gateway.dialect.bigmodel;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.dialect.Shapes;
import org.glmmaas.gateway.error.BigModelErrors;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Usage;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * BigModel's (open.bigmodel.cn) shapes on {@code /api/paas/v4}: every chunk repeats the role, the
 * last chunk carries finish_reason and usage, ids are long digit strings, a thinking model's
 * reasoning is {@code reasoning_content}, tool calls carry their {@code index}.
 */
public final class BigModelDialect implements Dialect {

  @Override
  public Api api() {
    return Api.BIGMODEL;
  }

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
      case TOOL_CALLS -> "tool_calls";
      default -> "network_error";
    };
  }

  @Override
  public String completion(StreamContext ctx, List<ChoiceResult> choices, Usage usage) {
    return Json.write(completionNode(ctx, choices, usage));
  }

  /** The non-streaming body; also the payload of a SUCCESS async result. */
  public ObjectNode completionNode(StreamContext ctx, List<ChoiceResult> results, Usage usage) {
    ObjectNode root = Json.object();
    root.put("id", ctx.id());
    root.put("request_id", ctx.id());
    root.put("created", ctx.created());
    root.put("model", ctx.model());
    root.put("object", "chat.completion");
    ArrayNode choices = root.putArray("choices");
    for (ChoiceResult r : results) {
      ObjectNode choice = choices.addObject();
      choice.put("index", r.index());
      choice.put("finish_reason", finishReason(r.finish()));
      ObjectNode message = choice.putObject("message");
      message.put("role", "assistant");
      if (r.content().isEmpty() && !r.toolCalls().isEmpty()) {
        message.putNull("content");
      } else {
        message.put("content", r.content());
      }
      if (!r.reasoning().isEmpty()) {
        message.put("reasoning_content", r.reasoning());
      }
      if (!r.toolCalls().isEmpty()) {
        message.set("tool_calls", Shapes.toolCalls(r.toolCalls(), true));
      }
      if (r.logprobs() != null) {
        choice.set("logprobs", Shapes.chatLogprobs(r.logprobs()));
      }
    }
    root.set("usage", Shapes.usage(usage));
    return root;
  }

  @Override
  public String chunk(StreamContext ctx, ChunkDelta d) {
    ObjectNode root = head(ctx);
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", d.index());
    ObjectNode delta = choice.putObject("delta");
    delta.put("role", "assistant");
    if (!d.content().isEmpty() || (d.toolCalls().isEmpty() && d.reasoning().isEmpty())) {
      delta.put("content", d.content());
    }
    if (!d.reasoning().isEmpty()) {
      delta.put("reasoning_content", d.reasoning());
    }
    if (!d.toolCalls().isEmpty()) {
      delta.set("tool_calls", Shapes.toolCallDeltas(d.toolCalls()));
    }
    if (d.logprobs() != null) {
      choice.set("logprobs", Shapes.chatLogprobs(d.logprobs()));
    }
    return Json.write(root);
  }

  @Override
  public List<String> finalChunks(StreamContext ctx, List<ChoiceResult> results, Usage usage) {
    ObjectNode root = head(ctx);
    ArrayNode choices = root.putArray("choices");
    for (ChoiceResult r : results) {
      ObjectNode choice = choices.addObject();
      choice.put("index", r.index());
      choice.put("finish_reason", finishReason(r.finish()));
      ObjectNode delta = choice.putObject("delta");
      delta.put("role", "assistant");
      delta.put("content", "");
    }
    root.set("usage", Shapes.usage(usage));
    return List.of(Json.write(root));
  }

  private static ObjectNode head(StreamContext ctx) {
    ObjectNode root = Json.object();
    root.put("id", ctx.id());
    root.put("created", ctx.created());
    root.put("model", ctx.model());
    return root;
  }
}
