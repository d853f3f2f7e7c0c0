package org.glmmaas.knowledge.ingest;

/**
 * A conservative estimate of the WordPiece tokens (bge-style embedding models) of a text, used to
 * size chunks without a tokenizer round trip: every CJK character is one token (the BERT tokenizers
 * split them one by one), every run of ASCII letters or digits counts one token per three
 * characters (rounded up; real WordPiece pieces are usually longer, so this over-counts), every
 * other non-space character one token. Over-counting only makes chunks smaller; a chunk estimated
 * at 256 stays far below the 512-token input limit of the demo model.
 */
public final class TokenEstimate {

  private TokenEstimate() {}

  public static int of(CharSequence text) {
    int tokens = 0;
    int run = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = Character.codePointAt(text, i);
      i += Character.charCount(cp);
      if (cp < 128 && Character.isLetterOrDigit(cp)) {
        run++;
        continue;
      }
      tokens += (run + 2) / 3;
      run = 0;
      if (!Character.isWhitespace(cp)) {
        tokens++;
      }
    }
    return tokens + (run + 2) / 3;
  }
}
