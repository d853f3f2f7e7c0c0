package org.glmmaas.worker.grammar;

import java.util.Arrays;
import java.util.List;
import org.glmmaas.worker.grammar.Matcher.States;

/**
 * A {@link TokenConstraint} over one compiled grammar: the set of stacks the text so far leaves,
 * and whether the grammar may end here. See {@link GrammarEngine} for how the mask is made.
 */
final class GrammarConstraint implements TokenConstraint {

  private static final int MEMO = 16;

  final GrammarEngine engine;
  final Rule root;
  private List<Frame> stable;
  private boolean complete;
  private boolean terminated;
  private boolean fresh = true;

  // per-step suffix walks, remembered per (suffix set, continuation): inside a string or a number
  // the continuation stays the same object from token to token
  private final PositionMask.Suffixes[] memoSuffixes = new PositionMask.Suffixes[MEMO];
  private final Frame[] memoCont = new Frame[MEMO];
  private final int[][] memoResult = new int[MEMO][];
  private int memoNext;

  GrammarConstraint(GrammarEngine engine, Rule root) {
    this.engine = engine;
    this.root = root;
    States s = Matcher.start(new Frame.RuleFrame(root, 0, null));
    this.stable = List.copyOf(s.stable);
    this.complete = s.complete;
  }

  private GrammarConstraint(GrammarConstraint o) {
    this.engine = o.engine;
    this.root = o.root;
    this.stable = o.stable;
    this.complete = o.complete;
    this.terminated = o.terminated;
    this.fresh = o.fresh;
  }

  boolean fresh() {
    return fresh;
  }

  @Override
  public void fillNextTokenBitmask(long[] words) {
    Arrays.fill(words, 0L);
    if (terminated) {
      return;
    }
    for (int i = 0; i < stable.size(); i++) {
      Frame f = stable.get(i);
      PositionMask pm = engine.maskOf(f);
      if (pm.dense != null) {
        long[] d = pm.dense;
        for (int w = 0; w < d.length; w++) {
          words[w] |= d[w];
        }
      } else {
        for (int id : pm.sparse) {
          words[id >>> 6] |= 1L << id;
        }
      }
      if (pm.suffixes != null) {
        PositionMask.Suffixes s = pm.suffixes;
        int[] accepted = suffixesAccepted(s, f.parent);
        for (int e : accepted) {
          int k = s.chars[e];
          if (k >= pm.kMin && k <= pm.kMax) {
            int id = s.tokens[e];
            words[id >>> 6] |= 1L << id;
          }
        }
      }
    }
    if (complete) {
      for (int id : engine.vocabulary().endOfGeneration()) {
        words[id >>> 6] |= 1L << id;
      }
    }
  }

  private int[] suffixesAccepted(PositionMask.Suffixes s, Frame cont) {
    for (int i = 0; i < MEMO; i++) {
      if (memoSuffixes[i] == s && memoCont[i] == cont) {
        return memoResult[i];
      }
    }
    States start = Matcher.start(cont);
    IntList acc = new IntList();
    walkKeys(s.keys, 0, 0, s.keys.length, start.stable, start.complete, acc);
    int[] result = acc.toArray();
    int slot = memoNext;
    memoNext = (memoNext + 1) % MEMO;
    memoSuffixes[slot] = s;
    memoCont[slot] = cont;
    memoResult[slot] = result;
    return result;
  }

  private static void walkKeys(
      byte[][] keys, int depth, int lo, int hi, List<Frame> stable, boolean complete, IntList acc) {
    int i = lo;
    while (i < hi && keys[i].length == depth) {
      if (!stable.isEmpty() || complete) {
        acc.add(i);
      }
      i++;
    }
    if (stable.isEmpty()) {
      return;
    }
    while (i < hi) {
      int b = keys[i][depth] & 0xff;
      int j = i + 1; // end of the run of keys with byte b here (sorted: binary search)
      int r = hi;
      while (j < r) {
        int mid = (j + r) >>> 1;
        if ((keys[mid][depth] & 0xff) == b) {
          j = mid + 1;
        } else {
          r = mid;
        }
      }
      States o = new States();
      Matcher.step(stable, b, o);
      if (o.alive()) {
        walkKeys(keys, depth + 1, i, j, o.stable, o.complete, acc);
      }
      i = j;
    }
  }

  @Override
  public void accept(int tokenId) {
    if (terminated) {
      throw new IllegalStateException("the constraint already ended; token " + tokenId);
    }
    Vocabulary v = engine.vocabulary();
    if (v.isEndOfGeneration(tokenId)) {
      if (!complete) {
        throw new IllegalStateException("end of generation before the grammar is complete");
      }
      terminated = true;
      fresh = false;
      return;
    }
    if (!engine.usable(tokenId)) {
      throw new IllegalStateException("token " + tokenId + " is never allowed under a grammar");
    }
    States s = Matcher.advance(stable, v.bytes(tokenId));
    if (s == null) {
      throw new IllegalStateException("token " + tokenId + " is not allowed here");
    }
    stable = List.copyOf(s.stable);
    complete = s.complete;
    fresh = false;
  }

  @Override
  public boolean isComplete() {
    return complete || terminated;
  }

  @Override
  public boolean isTerminated() {
    return terminated;
  }

  @Override
  public TokenConstraint copy() {
    return new GrammarConstraint(this);
  }

  /** Growable int list. */
  static final class IntList {
    int[] data = new int[16];
    int size;

    void add(int v) {
      if (size == data.length) {
        data = Arrays.copyOf(data, size * 2);
      }
      data[size++] = v;
    }

    int[] toArray() {
      return Arrays.copyOf(data, size);
    }
  }
}
