package org.glmmaas.worker.text;

/**
 * Turns generated token ids into text deltas for streaming: never emits half a UTF-8 character,
 * holds back text that may be the start of a stop string, and the concatenated deltas equal the
 * final text exactly. One instance per request.
 */
public interface StreamDecoder {

  /** Adds a generated token; returns the text that is now safe to emit (maybe empty). */
  String push(int tokenId);

  /** True once a stop string was found; the text before it has been (or will be) emitted. */
  boolean stopped();

  /** The stop string that matched, or null. */
  String matchedStop();

  /** At the end of generation: the held-back remainder (without any stop string). */
  String flush();

  /** All text emitted so far (after flush, the final text). */
  String text();
}
