package org.glmmaas.worker.text;

import java.util.Arrays;

/**
 * Open-addressing hash map from a pair of symbol ids to a BPE merge (its rank and the merged
 * symbol), with no boxing: the hot loop of {@link BpeTokenizer} looks pairs up here.
 */
final class PairRankMap {

  static final long ABSENT = -1L;
  private static final long EMPTY = -1L;

  private final long[] keys;
  private final long[] values;
  private final int mask;
  private int size;

  PairRankMap(int expected) {
    int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
    keys = new long[capacity];
    values = new long[capacity];
    Arrays.fill(keys, EMPTY);
    mask = capacity - 1;
  }

  static long key(int left, int right) {
    return ((long) left << 32) | (right & 0xFFFFFFFFL);
  }

  static int rank(long value) {
    return (int) (value >>> 32);
  }

  static int merged(long value) {
    return (int) value;
  }

  /** Adds the merge unless the pair is already present (the first, lowest rank wins). */
  boolean putIfAbsent(int left, int right, int rank, int merged) {
    long key = key(left, right);
    int i = slot(key);
    while (keys[i] != EMPTY) {
      if (keys[i] == key) {
        return false;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    values[i] = ((long) rank << 32) | (merged & 0xFFFFFFFFL);
    size++;
    return true;
  }

  /** The merge of this pair as {@code rank << 32 | merged}, or {@link #ABSENT}. */
  long get(int left, int right) {
    long key = key(left, right);
    int i = slot(key);
    long k;
    while ((k = keys[i]) != EMPTY) {
      if (k == key) {
        return values[i];
      }
      i = (i + 1) & mask;
    }
    return ABSENT;
  }

  int size() {
    return size;
  }

  private int slot(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    h ^= h >>> 29;
    return (int) h & mask;
  }
}
