package org.glmmaas.worker.text;

import java.util.BitSet;

/**
 * A rendered chat prompt and which of its chars are user data (message contents, tool results, tool
 * definitions): those are tokenized as plain text, so user text never becomes a control token.
 *
 * @param text the rendered prompt
 * @param literal the chars of {@code text} that came from user data
 */
public record RenderedChat(String text, BitSet literal) {

  /** Token ids of this prompt: the template's markup with special tokens, user data as text. */
  public int[] encode(Tokenizer tokenizer) {
    return tokenizer.encode(text, literal);
  }
}
