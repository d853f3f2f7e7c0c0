package org.glmmaas.worker.text;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Incremental detokenizer with stop strings, one per request.
 *
 * <ul>
 *   <li>Token bytes are decoded as UTF-8 only up to the last complete character: a character split
 *       across tokens (common in Chinese) is held until its last byte arrives; bytes that can never
 *       be valid become U+FFFD, exactly as a one-shot decode of all bytes would.
 *   <li>Text that may be the beginning of a stop string is held back until it either completes the
 *       stop string (generation stops; the stop string and anything after it are never emitted) or
 *       cannot anymore.
 *   <li>The concatenated deltas (pushes, then {@link #flush()}) equal {@link #text()}: the one-shot
 *       decode of all tokens, cut before the first stop string.
 * </ul>
 */
public final class StopStringDecoder implements StreamDecoder {

  private final Tokenizer tokenizer;
  private final String[] stops;
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE);

  private byte[] pending = new byte[16];
  private int pendingLength;
  private final StringBuilder decoded = new StringBuilder();
  private int emitted;
  private boolean stopped;
  private String matchedStop;
  private boolean flushed;

  /**
   * @throws IllegalArgumentException for an empty stop string or one with an unpaired surrogate
   */
  public StopStringDecoder(Tokenizer tokenizer, List<String> stopStrings) {
    this.tokenizer = tokenizer;
    List<String> list = stopStrings == null ? List.of() : stopStrings;
    this.stops = new String[list.size()];
    for (int i = 0; i < stops.length; i++) {
      String s = list.get(i);
      if (s == null || s.isEmpty()) {
        throw new IllegalArgumentException(
            "stop[" + i + "] is empty: stop strings must have at least one character");
      }
      if (!BpeTokenizer.withoutUnpairedSurrogates(s).equals(s)) {
        throw new IllegalArgumentException("stop[" + i + "] contains an unpaired UTF-16 surrogate");
      }
      stops[i] = s;
    }
  }

  /** A token's bytes, without a copy for the tokenizers of this package. */
  private byte[] pieceOf(int tokenId) {
    if (tokenizer instanceof BpeTokenizer bpe) {
      return bpe.bytesOf(tokenId);
    }
    if (tokenizer instanceof SentencePieceTokenizer spm) {
      return spm.bytesOf(tokenId);
    }
    return tokenizer.tokenBytes(tokenId);
  }

  @Override
  public String push(int tokenId) {
    if (stopped || flushed) {
      return "";
    }
    byte[] piece = pieceOf(tokenId);
    appendPending(piece);
    int complete = completeLength();
    if (complete > 0) {
      decodeInto(0, complete);
      System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
      pendingLength -= complete;
    }
    return advance(false);
  }

  @Override
  public String flush() {
    if (flushed) {
      return "";
    }
    flushed = true;
    if (stopped) {
      return "";
    }
    if (pendingLength > 0) {
      decodeInto(0, pendingLength);
      pendingLength = 0;
    }
    return advance(true);
  }

  @Override
  public boolean stopped() {
    return stopped;
  }

  @Override
  public String matchedStop() {
    return matchedStop;
  }

  @Override
  public String text() {
    return decoded.substring(0, emitted);
  }

  /** Looks for a stop string in the new text and returns what may be emitted now. */
  private String advance(boolean atEnd) {
    // held-back text always covers any possible start of a stop string: search only after it
    int from = emitted;
    int best = -1;
    String bestStop = null;
    for (String stop : stops) {
      int at = decoded.indexOf(stop, from);
      if (at >= 0 && (best < 0 || at < best || (at == best && stop.length() > bestStop.length()))) {
        best = at;
        bestStop = stop;
      }
    }
    int end;
    if (best >= 0) {
      stopped = true;
      matchedStop = bestStop;
      end = best;
      decoded.setLength(best);
      pendingLength = 0;
    } else if (atEnd) {
      end = decoded.length();
    } else {
      end = decoded.length() - heldBack();
      if (end > emitted && Character.isHighSurrogate(decoded.charAt(end - 1))) {
        end--; // never split a surrogate pair
      }
    }
    if (end <= emitted) {
      return "";
    }
    String delta = decoded.substring(emitted, end);
    emitted = end;
    return delta;
  }

  /** Length of the longest suffix of the decoded text that is a proper prefix of a stop string. */
  private int heldBack() {
    int len = decoded.length();
    int longest = 0;
    for (String stop : stops) {
      for (int k = Math.min(stop.length() - 1, len - emitted); k > longest; k--) {
        if (regionEquals(len - k, stop, k)) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }

  private boolean regionEquals(int start, String stop, int k) {
    for (int i = 0; i < k; i++) {
      if (decoded.charAt(start + i) != stop.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private void appendPending(byte[] piece) {
    if (pendingLength + piece.length > pending.length) {
      pending =
          java.util.Arrays.copyOf(
              pending, Math.max(pending.length * 2, pendingLength + piece.length));
    }
    System.arraycopy(piece, 0, pending, pendingLength, piece.length);
    pendingLength += piece.length;
  }

  /**
   * How many pending bytes end on a character boundary: everything but a trailing lead byte whose
   * continuation bytes have not all arrived yet.
   */
  private int completeLength() {
    int n = pendingLength;
    for (int back = 1; back <= Math.min(3, n); back++) {
      int b = pending[n - back] & 0xFF;
      if ((b & 0xC0) == 0x80) {
        continue; // continuation byte: look further back for its lead
      }
      int need = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
      return need > back ? n - back : n;
    }
    return n;
  }

  private void decodeInto(int from, int to) {
    utf8.reset();
    CharBuffer chars;
    try {
      chars = utf8.decode(ByteBuffer.wrap(pending, from, to - from));
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IllegalStateException("UTF-8 decoding with replacement cannot fail", e);
    }
    decoded.append(chars);
  }
}
