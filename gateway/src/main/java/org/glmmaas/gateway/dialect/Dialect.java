package org.glmmaas.gateway.dialect;

import java.util.List;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.TokenLogprob;
import org.glmmaas.proto.inference.v1.ToolCall;
import org.glmmaas.proto.inference.v1.ToolCallDelta;
import org.glmmaas.proto.inference.v1.Usage;

/**
 * What differs between the BigModel and the OpenAI API: body shapes, ids, finish reasons and the
 * error adapter. Everything else is shared by the handlers.
 */
public interface Dialect {

  /** Which API this is. */
  Api api();

  /** A fresh unique response id, used when the client gave no request_id. */
  String newId();

  /** The error body of this dialect. */
  String errorBody(GlmError e);

  /** The data of the SSE event that reports an error after the stream started. */
  default String errorEvent(GlmError e) {
    return errorBody(e);
  }

  /** The dialect's name for a worker finish reason. */
  String finishReason(FinishReason reason);

  /** A whole, non-streaming chat completion. */
  String completion(StreamContext ctx, List<ChoiceResult> choices, Usage usage);

  /** One chunk carrying what one choice generated since the last chunk. */
  String chunk(StreamContext ctx, ChunkDelta delta);

  /** The chunks after the last delta: each choice's finish reason, and usage where it goes. */
  List<String> finalChunks(StreamContext ctx, List<ChoiceResult> choices, Usage usage);

  /**
   * Facts shared by all chunks of one response.
   *
   * @param id response id
   * @param created unix seconds
   * @param model model id as the client named it
   * @param includeUsage OpenAI stream_options.include_usage
   * @param logprobs whether the client asked for logprobs (choices then carry them)
   * @param serviceTier OpenAI service_tier to echo, or null
   */
  record StreamContext(
      String id,
      long created,
      String model,
      boolean includeUsage,
      boolean logprobs,
      String serviceTier) {

    public StreamContext(String id, long created, String model, boolean includeUsage) {
      this(id, created, model, includeUsage, false, null);
    }
  }

  /**
   * One choice, whole.
   *
   * @param index choice index
   * @param content generated text (may be empty)
   * @param reasoning a thinking model's reasoning text (may be empty)
   * @param toolCalls the calls it made (may be empty)
   * @param logprobs per generated token, or null when not asked for
   * @param finish how it ended
   */
  record ChoiceResult(
      int index,
      String content,
      String reasoning,
      List<ToolCall> toolCalls,
      List<TokenLogprob> logprobs,
      FinishReason finish) {}

  /**
   * What one choice generated since its last chunk.
   *
   * @param index choice index
   * @param content text (may be empty)
   * @param reasoning reasoning text (may be empty)
   * @param toolCalls tool-call fragments: a call's first carries id and name
   * @param logprobs per token of this delta, or null when not asked for
   */
  record ChunkDelta(
      int index,
      String content,
      String reasoning,
      List<ToolCallDelta> toolCalls,
      List<TokenLogprob> logprobs) {

    public boolean isEmpty() {
      return content.isEmpty()
          && reasoning.isEmpty()
          && toolCalls.isEmpty()
          && (logprobs == null || logprobs.isEmpty());
    }
  }
}
