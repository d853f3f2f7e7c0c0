package org.glmmaas.gateway.dialect.openai;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.dialect.Shapes;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.error.OpenAiErrors;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Usage;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * OpenAI's chat.completion / chat.completion.chunk shapes and error envelope on {@code /v1}. A
 * thinking model's reasoning goes to {@code reasoning_content} (as vLLM and DeepSeek name it).
 */
public final class OpenAiDialect implements Dialect {

  @Override
  public Api api() {
    return Api.OPENAI;
  }

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
      case TOOL_CALLS -> "tool_calls";
      default -> "stop";
    };
  }

  @Override
  public String completion(StreamContext ctx, List<ChoiceResult> results, Usage usage) {
    ObjectNode root = Json.object();
    root.put("id", ctx.id());
    root.put("object", "chat.completion");
    root.put("created", ctx.created());
    root.put("model", ctx.model());
    ArrayNode choices = root.putArray("choices");
    for (ChoiceResult r : results) {
      ObjectNode choice = choices.addObject();
      choice.put("index", r.index());
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
        message.set("tool_calls", Shapes.toolCalls(r.toolCalls(), false));
      }
      message.putNull("refusal");
      if (r.logprobs() != null) {
        choice.set("logprobs", Shapes.chatLogprobs(r.logprobs()));
      } else {
        choice.putNull("logprobs");
      }
      choice.put("finish_reason", finishReason(r.finish()));
    }
    root.set("usage", Shapes.usage(usage));
    tier(root, ctx);
    root.putNull("system_fingerprint");
    return Json.write(root);
  }

  @Override
  public String chunk(StreamContext ctx, ChunkDelta d) {
    ObjectNode root = head(ctx);
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", d.index());
    ObjectNode delta = choice.putObject("delta");
    delta.put("role", "assistant");
    if (!d.content().isEmpty() || d.toolCalls().isEmpty()) {
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
    } else {
      choice.putNull("logprobs");
    }
    choice.putNull("finish_reason");
    if (ctx.includeUsage()) {
      root.putNull("usage");
    }
    return Json.write(root);
  }

  @Override
  public List<String> finalChunks(StreamContext ctx, List<ChoiceResult> results, Usage usage) {
    List<String> out = new ArrayList<>(2);
    ObjectNode last = head(ctx);
    ArrayNode choices = last.putArray("choices");
    for (ChoiceResult r : results) {
      ObjectNode choice = choices.addObject();
      choice.put("index", r.index());
      choice.putObject("delta");
      choice.putNull("logprobs");
      choice.put("finish_reason", finishReason(r.finish()));
    }
    if (ctx.includeUsage()) {
      last.putNull("usage");
    }
    out.add(Json.write(last));
    if (ctx.includeUsage()) {
      ObjectNode u = head(ctx);
      u.putArray("choices");
      u.set("usage", Shapes.usage(usage));
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
    tier(root, ctx);
    root.putNull("system_fingerprint");
    return root;
  }

  private static void tier(ObjectNode root, StreamContext ctx) {
    if (ctx.serviceTier() != null) {
      root.put("service_tier", ctx.serviceTier());
    }
  }
}
