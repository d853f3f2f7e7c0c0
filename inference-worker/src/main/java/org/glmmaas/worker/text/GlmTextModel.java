package org.glmmaas.worker.text;

import java.util.List;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.grammar.ConstraintFactory;
import org.glmmaas.worker.grammar.GrammarEngine;
import org.glmmaas.worker.grammar.Vocabulary;
import org.glmmaas.worker.sample.LogitsSampler;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.sample.SamplingConfig;

/** The text side of one GLM model: tokenizer, chat template, samplers and stream decoders. */
public final class GlmTextModel implements TextModel {

  private final Tokenizer tokenizer;
  private final JinjaChatTemplate chatTemplate;
  private volatile GrammarEngine constraints;

  public GlmTextModel(Tokenizer tokenizer, JinjaChatTemplate chatTemplate) {
    this.tokenizer = tokenizer;
    this.chatTemplate = chatTemplate;
  }

  /**
   * Builds it from GGUF metadata: the vocabulary (byte-level BPE, or SentencePiece when {@code
   * tokenizer.ggml.model} is "llama"), and {@code tokenizer.chat_template} or the GLM-4 fallback
   * when the file has none.
   *
   * @throws IllegalArgumentException when the vocabulary is not supported or the template does not
   *     parse ({@link TemplateException})
   */
  public static GlmTextModel of(GgufMetadata metadata) {
    String model = metadata.string("tokenizer.ggml.model").orElse("");
    Tokenizer tokenizer =
        model.equals("llama")
            ? SentencePieceTokenizer.fromMetadata(metadata)
            : BpeTokenizer.fromMetadata(metadata);
    String bos = tokenText(metadata, tokenizer, "tokenizer.ggml.bos_token_id");
    String eos = tokenText(metadata, tokenizer, "tokenizer.ggml.eos_token_id");
    JinjaChatTemplate template =
        metadata
            .string("tokenizer.chat_template")
            .filter(s -> !s.isBlank())
            .map(s -> new JinjaChatTemplate(s, bos, eos))
            .orElseGet(JinjaChatTemplate::glm4Fallback);
    return new GlmTextModel(tokenizer, template);
  }

  private static String tokenText(GgufMetadata metadata, Tokenizer tokenizer, String key) {
    return metadata
        .integer(key)
        .filter(id -> id >= 0 && id < tokenizer.vocabSize())
        .map(
            id ->
                new String(
                    tokenizer.tokenBytes(id.intValue()), java.nio.charset.StandardCharsets.UTF_8))
        .orElse("");
  }

  @Override
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public JinjaChatTemplate chatTemplate() {
    return chatTemplate;
  }

  @Override
  public Sampler newSampler(SamplingConfig config) {
    return new LogitsSampler(config, tokenizer.vocabSize());
  }

  @Override
  public ConstraintFactory constraints() {
    GrammarEngine c = constraints;
    if (c == null) {
      synchronized (this) {
        c = constraints;
        if (c == null) {
          c = new GrammarEngine(vocabulary(tokenizer));
          constraints = c;
        }
      }
    }
    return c;
  }

  /** The grammar engine's view of a tokenizer: token bytes, control tokens, end of generation. */
  public static Vocabulary vocabulary(Tokenizer tokenizer) {
    int n = tokenizer.vocabSize();
    byte[][] bytes = new byte[n][];
    boolean[] excluded = new boolean[n];
    for (int id = 0; id < n; id++) {
      bytes[id] = tokenizer.tokenBytes(id);
      excluded[id] = tokenizer.isControl(id);
    }
    return new Vocabulary(bytes, excluded, tokenizer.endOfGenerationIds());
  }

  @Override
  public StreamDecoder newStreamDecoder(List<String> stopStrings) {
    return new StopStringDecoder(tokenizer, stopStrings);
  }
}
