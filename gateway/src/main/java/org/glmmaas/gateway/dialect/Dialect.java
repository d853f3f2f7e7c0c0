package org.glmmaas.gateway.dialect;

import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Usage;

/**
 * What differs between the BigModel and the OpenAI API: body shapes, ids, finish reasons and the
 * error adapter. Everything else is shared by {@link ChatHandler}.
 */
public interface Dialect {

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
  String completion(StreamContext ctx, String content, FinishReason reason, Usage usage);

  /** One chunk carrying generated text. */
  String chunk(StreamContext ctx, String text);

  /** The chunks after the last text: finish reason (and usage where the dialect sends it). */
  java.util.List<String> finalChunks(StreamContext ctx, FinishReason reason, Usage usage);

  /**
   * Facts shared by all chunks of one response.
   *
   * @param id response id
   * @param created unix seconds
   * @param model model id as the client named it
   * @param includeUsage OpenAI stream_options.include_usage
   */
  record StreamContext(String id, long created, String model, boolean includeUsage) {}
}
