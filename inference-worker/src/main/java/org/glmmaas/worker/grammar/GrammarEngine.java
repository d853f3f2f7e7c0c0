package org.glmmaas.worker.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.glmmaas.worker.grammar.Frame.RuleFrame;
import org.glmmaas.worker.grammar.Frame.StringFrame;
import org.glmmaas.worker.grammar.Matcher.States;

/**
 * The grammar engine of one vocabulary: compiles JSON Schemas to grammars ({@link SchemaCompiler})
 * and computes per-position token masks over the vocabulary's byte trie, once, on first use.
 *
 * <p>How a mask is made (after xgrammar's adaptive token mask cache): a position is a stack's top,
 * a rule's node (or a string body's state). Walking the sorted vocabulary from there, with the rule
 * run on its own, sorts every token into: accepted (it fits inside the rule, whatever the stack
 * below), rejected, or "leaves the rule after i bytes" — then only its remaining bytes depend on
 * the stack below, and they are checked per step by walking those remainders (sorted, sharing
 * prefixes) from the actual continuation. String bodies are scanned from a per-state table instead
 * of walked, so maxLength and minLength cost no per-length walk.
 *
 * <p>Thread-safe: masks are immutable and published once per position; schemas compile once and are
 * kept (up to {@link #MAX_GRAMMARS}).
 */
public final class GrammarEngine implements ConstraintFactory {

  static final int MAX_GRAMMARS = 512;

  private final Vocabulary vocab;
  private final int words;
  private final boolean[] usable;
  private final int kCap;
  private final SchemaCompiler.Library library;
  private final Map<String, Rule> grammars = new ConcurrentHashMap<>();
  private final Map<Long, PositionMask> stringMasks = new ConcurrentHashMap<>();
  private final StringTable[] stringTables = new StringTable[JsonStringDfa.STATES];
  private final PositionMask.Suffixes[] stringSuffixes =
      new PositionMask.Suffixes[JsonStringDfa.STATES];

  public GrammarEngine(Vocabulary vocab) {
    this.vocab = vocab;
    this.words = TokenConstraint.wordsFor(vocab.size());
    this.usable = new boolean[vocab.size()];
    int longest = 0;
    for (int id : vocab.sorted()) {
      usable[id] = true;
      longest = Math.max(longest, vocab.bytes(id).length);
    }
    this.kCap = longest + 1;
    this.library = new SchemaCompiler.Library();
    for (int ps = 0; ps < JsonStringDfa.STATES; ps++) {
      stringSuffixes(ps); // the string tables here (request admission), not mid-step
    }
  }

  /**
   * Computes the masks of {@code c}'s current position now, on the caller's thread (the request's
   * admission) rather than on the engine thread at its first step.
   */
  @Override
  public void prime(TokenConstraint c) {
    c.copy().fillNextTokenBitmask(new long[words]);
  }

  public Vocabulary vocabulary() {
    return vocab;
  }

  // ---------------------------------------------------------------------------------------------
  // ConstraintFactory

  @Override
  public TokenConstraint jsonObject() {
    return new GrammarConstraint(this, library.anyObject);
  }

  @Override
  public TokenConstraint jsonSchema(String schemaJson) {
    Rule root = grammars.get(schemaJson);
    if (root == null) {
      root = new SchemaCompiler(library).compile(schemaJson);
      if (grammars.size() >= MAX_GRAMMARS) {
        grammars.clear();
      }
      grammars.put(schemaJson, root);
    }
    return new GrammarConstraint(this, root);
  }

  @Override
  public TokenConstraint literal(String literal) {
    Rule r = new Rule("literal");
    Rule.Builder b = new Rule.Builder(r);
    b.accept(b.literal(0, literal));
    return new GrammarConstraint(this, b.build());
  }

  @Override
  public TokenConstraint sequence(List<TokenConstraint> parts) {
    Rule r = new Rule("sequence");
    Rule.Builder b = new Rule.Builder(r);
    int cur = 0;
    for (TokenConstraint part : parts) {
      int next = b.node();
      b.call(cur, rootOf(part), next);
      cur = next;
    }
    b.accept(cur);
    return new GrammarConstraint(this, b.build());
  }

  @Override
  public TokenConstraint anyOf(List<TokenConstraint> alternatives) {
    if (alternatives.isEmpty()) {
      throw new IllegalArgumentException("anyOf needs at least one alternative");
    }
    Rule r = new Rule("anyOf");
    Rule.Builder b = new Rule.Builder(r);
    int end = b.node();
    for (TokenConstraint alt : alternatives) {
      b.call(0, rootOf(alt), end);
    }
    b.accept(end);
    return new GrammarConstraint(this, b.build());
  }

  private Rule rootOf(TokenConstraint c) {
    if (!(c instanceof GrammarConstraint g) || g.engine != this || !g.fresh()) {
      throw new IllegalArgumentException(
          "only fresh constraints of this factory compose (nothing accepted yet)");
    }
    return g.root;
  }

  // ---------------------------------------------------------------------------------------------
  // masks

  int words() {
    return words;
  }

  boolean usable(int id) {
    return id >= 0 && id < usable.length && usable[id];
  }

  PositionMask maskOf(Frame f) {
    if (f instanceof RuleFrame rf) {
      PositionMask m = rf.rule.mask(rf.node);
      if (m == null) {
        m = walkRule(rf.rule, rf.node);
        rf.rule.setMask(rf.node, m);
      }
      return m;
    }
    StringFrame sf = (StringFrame) f;
    int m = Math.min(kCap, Math.max(0, sf.spec.minLength() - sf.count));
    long r =
        sf.spec.maxLength() == Integer.MAX_VALUE
            ? kCap
            : Math.min(kCap, (long) sf.spec.maxLength() - sf.count);
    long key = ((long) sf.ps * (kCap + 1) + m) * (kCap + 1) + r;
    PositionMask pm = stringMasks.get(key);
    if (pm == null) {
      pm = scanString(sf.ps, m, (int) r);
      stringMasks.putIfAbsent(key, pm);
    }
    return pm;
  }

  /** Walks the vocabulary trie from {@code rule}'s {@code node}, the rule run on its own. */
  private PositionMask walkRule(Rule rule, int node) {
    RuleWalk w = new RuleWalk();
    List<Frame> start = List.of(new RuleFrame(rule, node, Frame.ESCAPE));
    w.walk(0, 0, vocab.sorted().length, start, new int[0]);
    return PositionMask.of(w.bits, w.suffixes(), 0, Integer.MAX_VALUE);
  }

  private final class RuleWalk {
    final long[] bits = new long[words];
    final List<int[]> entries = new ArrayList<>(); // (token id, escape offset)
    final int[] sorted = vocab.sorted();

    void walk(int depth, int lo, int hi, List<Frame> stable, int[] escapes) {
      int i = lo;
      while (i < hi) {
        int b = vocab.bytes(sorted[i])[depth] & 0xff;
        int j = runEnd(i, hi, depth, b);
        States o = new States();
        Matcher.step(stable, b, o);
        int[] esc = escapes;
        if (o.escaped) {
          esc = Arrays.copyOf(escapes, escapes.length + 1);
          esc[escapes.length] = depth + 1;
        }
        int k = i;
        while (k < j && vocab.bytes(sorted[k]).length == depth + 1) {
          if (!o.stable.isEmpty() || o.escaped) {
            set(bits, sorted[k]);
          } else {
            entries(sorted[k], escapes);
          }
          k++;
        }
        if (k < j) {
          if (!o.stable.isEmpty()) {
            walk(depth + 1, k, j, o.stable, esc);
          } else if (esc.length > 0) {
            for (int m = k; m < j; m++) {
              entries(sorted[m], esc);
            }
          }
        }
        i = j;
      }
    }

    /**
     * The end of the run of tokens from {@code i} whose byte at {@code depth} is {@code b}: the
     * range shares its first {@code depth} bytes and is sorted, so that byte never decreases
     * (binary search: a ws or string position skips whole subtrees without scanning them).
     */
    int runEnd(int i, int hi, int depth, int b) {
      int lo = i + 1;
      int r = hi;
      while (lo < r) {
        int mid = (lo + r) >>> 1;
        if ((vocab.bytes(sorted[mid])[depth] & 0xff) == b) {
          lo = mid + 1;
        } else {
          r = mid;
        }
      }
      return lo;
    }

    void entries(int id, int[] escapes) {
      for (int e : escapes) {
        entries.add(new int[] {id, e});
      }
    }

    PositionMask.Suffixes suffixes() {
      if (entries.isEmpty()) {
        return null;
      }
      return sortedSuffixes(new ArrayList<>(entries));
    }
  }

  /** How each token runs through a string body from one DFA state. */
  private static final class StringTable {
    static final byte DEAD = 0;
    static final byte OPEN = 1; // ends inside the string
    static final byte CLOSE = 2; // its quote closes the string

    final byte[] kind;
    final int[] chars; // characters completed (before the quote, for CLOSE)
    final int[] closeAt; // byte offset of the quote; for OPEN: 1 if a character is pending

    StringTable(byte[] kind, int[] chars, int[] closeAt) {
      this.kind = kind; // filled before construction: final-field publication covers them
      this.chars = chars;
      this.closeAt = closeAt;
    }
  }

  private StringTable stringTable(int ps) {
    StringTable t = stringTables[ps];
    if (t != null) {
      return t;
    }
    int[] sorted = vocab.sorted();
    byte[] kinds = new byte[sorted.length];
    int[] charCounts = new int[sorted.length];
    int[] closeAts = new int[sorted.length];
    for (int i = 0; i < sorted.length; i++) {
      byte[] tok = vocab.bytes(sorted[i]);
      int state = ps;
      int k = 0;
      byte kind = StringTable.OPEN;
      int at = 0;
      for (int p = 0; p < tok.length; p++) {
        int r = JsonStringDfa.step(state, tok[p] & 0xff);
        if (r == JsonStringDfa.DEAD) {
          kind = StringTable.DEAD;
          break;
        }
        if (r == JsonStringDfa.CLOSE) {
          kind = StringTable.CLOSE;
          at = p;
          break;
        }
        state = r & 0xff;
        if ((r & JsonStringDfa.CHAR_DONE) != 0) {
          k++;
        }
      }
      if (kind == StringTable.OPEN) {
        at = state != JsonStringDfa.CLEAN ? 1 : 0;
      }
      kinds[i] = kind;
      charCounts[i] = k;
      closeAts[i] = at;
    }
    t = new StringTable(kinds, charCounts, closeAts);
    synchronized (stringTables) {
      if (stringTables[ps] == null) {
        stringTables[ps] = t;
      }
      return stringTables[ps];
    }
  }

  /**
   * The remaining bytes of tokens that leave a rule part-way, sorted (unsigned) so the mask can
   * binary-search them: each entry is {token id, offset of the remaining bytes[, chars]} and is
   * sorted in place.
   */
  private PositionMask.Suffixes sortedSuffixes(List<int[]> e) {
    e.sort(
        (x, y) ->
            Arrays.compareUnsigned(
                vocab.bytes(x[0]),
                x[1],
                vocab.bytes(x[0]).length,
                vocab.bytes(y[0]),
                y[1],
                vocab.bytes(y[0]).length));
    byte[][] keys = new byte[e.size()][];
    int[] tokens = new int[e.size()];
    int[] chars = new int[e.size()];
    for (int k = 0; k < keys.length; k++) {
      int[] x = e.get(k);
      byte[] tok = vocab.bytes(x[0]);
      keys[k] = Arrays.copyOfRange(tok, x[1], tok.length);
      tokens[k] = x[0];
      chars[k] = x.length > 2 ? x[2] : 0;
    }
    return new PositionMask.Suffixes(keys, tokens, chars);
  }

  private PositionMask.Suffixes stringSuffixes(int ps) {
    PositionMask.Suffixes s = stringSuffixes[ps];
    if (s != null) {
      return s;
    }
    StringTable t = stringTable(ps);
    int[] sorted = vocab.sorted();
    List<int[]> e = new ArrayList<>();
    for (int i = 0; i < sorted.length; i++) {
      if (t.kind[i] == StringTable.CLOSE && t.closeAt[i] < vocab.bytes(sorted[i]).length - 1) {
        e.add(new int[] {sorted[i], t.closeAt[i] + 1, t.chars[i]});
      }
    }
    s = sortedSuffixes(e);
    synchronized (stringSuffixes) {
      if (stringSuffixes[ps] == null) {
        stringSuffixes[ps] = s;
      }
      return stringSuffixes[ps];
    }
  }

  /** String body at state {@code ps} with at least {@code m} and at most {@code r} more chars. */
  private PositionMask scanString(int ps, int m, int r) {
    StringTable t = stringTable(ps);
    int[] sorted = vocab.sorted();
    long[] bits = new long[words];
    for (int i = 0; i < sorted.length; i++) {
      int k = t.chars[i];
      switch (t.kind[i]) {
        case StringTable.OPEN -> {
          if (k + t.closeAt[i] <= r) {
            set(bits, sorted[i]);
          }
        }
        case StringTable.CLOSE -> {
          if (t.closeAt[i] == vocab.bytes(sorted[i]).length - 1 && k >= m && k <= r) {
            set(bits, sorted[i]);
          }
        }
        default -> {}
      }
    }
    PositionMask.Suffixes s = stringSuffixes(ps);
    return PositionMask.of(bits, s.size() == 0 ? null : s, m, r >= kCap ? Integer.MAX_VALUE : r);
  }

  static void set(long[] bits, int id) {
    bits[id >>> 6] |= 1L << id;
  }
}
