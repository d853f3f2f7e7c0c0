package org.glmmaas.worker.text;

import org.glmmaas.worker.modelmaker.BpeVocabulary;
import org.glmmaas.worker.modelmaker.ModelMaker;

/**
 * Real text models for tests without {@code ../shared}: the model maker's BPE vocabulary (GLM-4
 * layout, 1,536 tokens) with a given chat template.
 */
public final class RealTextModels {

  private static volatile BpeVocabulary vocab;

  private RealTextModels() {}

  public static BpeVocabulary vocabulary() {
    if (vocab == null) {
      vocab = BpeVocabulary.build(1536, BpeVocabulary.DEFAULT_MERGES);
    }
    return vocab;
  }

  public static BpeTokenizer tokenizer() {
    BpeVocabulary v = vocabulary();
    return new BpeTokenizer(v.tokens(), v.tokenTypes(), v.merges(), v.eosId(), v.eotId(), -1);
  }

  /** The reference models' GLM-4 template. */
  public static GlmTextModel glm4() {
    return withTemplate(ModelMaker.CHAT_TEMPLATE);
  }

  public static GlmTextModel withTemplate(String template) {
    return new GlmTextModel(tokenizer(), new JinjaChatTemplate(template, "", "<|endoftext|>"));
  }
}
