package org.glmmaas.worker.text;

/**
 * GLM's byte-level BPE tokenizer as llama.cpp applies it (docs/architecture.md, "Text layer"). No
 * BOS is ever added: the {@code [gMASK]<sop>} prefix comes from the chat template.
 */
public interface Tokenizer {

  /**
   * @param parseSpecial when true, the exact texts of control and user-defined tokens become those
   *     tokens; when false they are ordinary text (user-defined tokens still match)
   */
  int[] encode(String text, boolean parseSpecial);

  /**
   * Encodes a rendered prompt with special-token parsing on, except inside user data: control
   * tokens never match where a char of their text is set in {@code literal} (message contents, tool
   * results), so only the template's own markup yields control tokens.
   */
  int[] encode(String text, java.util.BitSet literal);

  /** Text of the ids, special tokens rendered; invalid UTF-8 becomes U+FFFD. */
  String decode(int[] ids);

  /** The raw bytes one token stands for (a special token's text as UTF-8). */
  byte[] tokenBytes(int id);

  /** Tokens in the vocabulary. */
  int vocabSize();

  /**
   * End-of-generation ids computed from the model's metadata (docs/architecture.md, "Text layer").
   */
  int[] endOfGenerationIds();

  boolean isEndOfGeneration(int id);

  /**
   * Whether the token is a control token (or unknown/unused): markup only a template produces,
   * never generated under a grammar constraint.
   */
  default boolean isControl(int id) {
    return isEndOfGeneration(id);
  }
}
