package org.glmmaas.worker.grammar;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The vocabulary as the grammar engine sees it: every token's decoded bytes, sorted so that the
 * tokens sharing a prefix form one contiguous range (the byte-level trie of the vocabulary, walked
 * as ranges of this order), which tokens may never be produced under a constraint (control tokens),
 * and the end-of-generation ids.
 */
public final class Vocabulary {

  private final int size;
  private final byte[][] bytes;
  private final int[] sorted; // ids of the grammar-usable tokens, by unsigned byte order
  private final int[] endOfGeneration;

  /**
   * @param bytes each token's bytes (index = id)
   * @param excluded ids that no constraint ever allows (control tokens, empty tokens)
   * @param endOfGeneration ids allowed only when the constraint is complete
   */
  public Vocabulary(byte[][] bytes, boolean[] excluded, int[] endOfGeneration) {
    this.size = bytes.length;
    this.bytes = bytes;
    this.endOfGeneration = endOfGeneration.clone();
    boolean[] skip = excluded.clone();
    for (int id : endOfGeneration) {
      skip[id] = true;
    }
    this.sorted =
        java.util.stream.IntStream.range(0, size)
            .filter(id -> !skip[id] && bytes[id].length > 0)
            .boxed()
            .sorted(Comparator.comparing((Integer id) -> bytes[id], Arrays::compareUnsigned))
            .mapToInt(Integer::intValue)
            .toArray();
  }

  public int size() {
    return size;
  }

  byte[] bytes(int id) {
    return bytes[id];
  }

  int[] sorted() {
    return sorted;
  }

  int[] endOfGeneration() {
    return endOfGeneration;
  }

  boolean isEndOfGeneration(int id) {
    for (int e : endOfGeneration) {
      if (e == id) {
        return true;
      }
    }
    return false;
  }
}
