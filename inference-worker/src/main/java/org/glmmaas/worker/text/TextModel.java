package org.glmmaas.worker.text;

import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.grammar.ConstraintFactory;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.sample.SamplingConfig;

/**
 * Everything text-shaped about one model: tokenizer, chat template, samplers and stream decoders.
 * Built once from the model's GGUF metadata.
 */
public interface TextModel {

  Tokenizer tokenizer();

  ChatTemplate chatTemplate();

  /** A new sampler for one request (config already validated). */
  Sampler newSampler(SamplingConfig config);

  /**
   * The constrained-decoding factory over this model's vocabulary (built on first use, then shared:
   * its grammars and token masks are cached).
   */
  ConstraintFactory constraints();

  /** A new stream decoder for one request, with its stop strings. */
  StreamDecoder newStreamDecoder(java.util.List<String> stopStrings);

  /** Builds the text model of a GGUF file's metadata (implemented by the text layer). */
  static TextModel fromMetadata(GgufMetadata metadata) {
    return GlmTextModel.of(metadata);
  }
}
