package org.glmmaas.worker.text;

import org.glmmaas.worker.sample.SamplingConfig;

/**
 * When one request's generation ends, and why: an end-of-generation token (unless {@code
 * ignore_eos}), a stop string (via its {@link StreamDecoder}), or {@code max_tokens}. Feeds the
 * generated tokens to the decoder and returns the text to stream. One instance per request.
 */
public final class GenerationStop {

  /** Why generation finished; STOP_* map to the API's "stop", LENGTH to "length". */
  public enum Reason {
    END_OF_GENERATION_TOKEN,
    STOP_STRING,
    LENGTH
  }

  /** The outcome of one generated token: text to emit now, and the reason when it was the last. */
  public record Step(String delta, Reason finished) {
    public boolean done() {
      return finished != null;
    }
  }

  private final Tokenizer tokenizer;
  private final StreamDecoder decoder;
  private final int maxTokens;
  private final boolean ignoreEos;
  private int generated;
  private Reason finished;

  public GenerationStop(Tokenizer tokenizer, StreamDecoder decoder, SamplingConfig config) {
    this.tokenizer = tokenizer;
    this.decoder = decoder;
    this.maxTokens = config.maxTokens();
    this.ignoreEos = config.ignoreEos();
  }

  /** Builds it with a new stream decoder for the config's stop strings. */
  public static GenerationStop of(TextModel model, SamplingConfig config) {
    return new GenerationStop(model.tokenizer(), model.newStreamDecoder(config.stop()), config);
  }

  /**
   * Accounts one generated token.
   *
   * @throws IllegalStateException after generation finished
   */
  public Step onToken(int tokenId) {
    if (finished != null) {
      throw new IllegalStateException("generation already finished: " + finished);
    }
    generated++;
    if (!ignoreEos && tokenizer.isEndOfGeneration(tokenId)) {
      return finish(
          Reason.END_OF_GENERATION_TOKEN, ""); // the token itself is not text of the answer
    }
    String delta = decoder.push(tokenId);
    if (decoder.stopped()) {
      return finish(Reason.STOP_STRING, delta);
    }
    if (generated >= maxTokens) {
      return finish(Reason.LENGTH, delta);
    }
    return new Step(delta, null);
  }

  /**
   * Ends generation for a reason outside the text (context full: LENGTH); returns the held text.
   */
  public Step finishNow(Reason reason) {
    if (finished != null) {
      throw new IllegalStateException("generation already finished: " + finished);
    }
    return finish(reason, "");
  }

  private Step finish(Reason reason, String delta) {
    finished = reason;
    return new Step(delta + decoder.flush(), reason);
  }

  public int numGeneratedTokens() {
    return generated;
  }

  /** The stop string that ended generation, or null. */
  public String matchedStop() {
    return decoder.matchedStop();
  }

  /** The answer's full text so far (after the last step, the final text). */
  public String text() {
    return decoder.text();
  }
}
