package org.glmmaas.worker.grammar;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One rule of a grammar: a small NFA over bytes whose edges are byte ranges, epsilon moves and
 * calls (of another rule, or of a JSON string body). A grammar is a set of rules calling each other
 * (a recursive transition network); node 0 is the start, accepting nodes may end the rule.
 *
 * <p>A rule is defined once ({@link Builder#build}) and immutable after; it carries the lazily
 * computed token masks of its nodes, so rules shared between grammars share those too.
 */
final class Rule {

  /** The body of a JSON string after its opening quote, up to and including the closing quote. */
  record StringBody(int minLength, int maxLength) {}

  final String name;
  int[][] edges; // per node: lo, hi, target triples
  int[][] eps;
  Object[][] callees; // per node: Rule or StringBody
  int[][] callTargets;
  boolean[] accept;
  boolean[] hasBytes;
  AtomicReferenceArray<PositionMask> masks;

  Rule(String name) {
    this.name = name;
  }

  boolean defined() {
    return edges != null;
  }

  int nodeCount() {
    return accept.length;
  }

  PositionMask mask(int node) {
    return masks.get(node);
  }

  void setMask(int node, PositionMask mask) {
    masks.compareAndSet(node, null, mask);
  }

  @Override
  public String toString() {
    return name;
  }

  /** Builds the body of one rule. */
  static final class Builder {

    /** Whitespace bytes allowed between JSON tokens, at most, per gap (see docs/tools.md). */
    static final int MAX_WHITESPACE = 20;

    private final Rule rule;
    private final List<List<int[]>> edges = new ArrayList<>();
    private final List<List<Integer>> eps = new ArrayList<>();
    private final List<List<Object>> callees = new ArrayList<>();
    private final List<List<Integer>> callTargets = new ArrayList<>();
    private final List<Boolean> accept = new ArrayList<>();

    Builder(Rule rule) {
      this.rule = rule;
      node();
    }

    int node() {
      edges.add(new ArrayList<>());
      eps.add(new ArrayList<>());
      callees.add(new ArrayList<>());
      callTargets.add(new ArrayList<>());
      accept.add(false);
      return accept.size() - 1;
    }

    void bytes(int from, int lo, int hi, int to) {
      edges.get(from).add(new int[] {lo, hi, to});
    }

    void eps(int from, int to) {
      eps.get(from).add(to);
    }

    void call(int from, Object callee, int to) {
      callees.get(from).add(callee);
      callTargets.get(from).add(to);
    }

    void accept(int node) {
      accept.set(node, true);
    }

    /** The bytes of {@code s} from {@code from}; returns the node after them. */
    int literal(int from, byte[] s) {
      int cur = from;
      for (byte b : s) {
        int next = node();
        bytes(cur, b & 0xff, b & 0xff, next);
        cur = next;
      }
      return cur;
    }

    int literal(int from, String s) {
      return literal(from, s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Up to {@link #MAX_WHITESPACE} JSON whitespace bytes; returns the node after them. */
    int whitespace(int from) {
      int end = node();
      int cur = from;
      for (int i = 0; i < MAX_WHITESPACE; i++) {
        eps(cur, end);
        int next = node();
        bytes(cur, ' ', ' ', next);
        bytes(cur, '\t', '\n', next);
        bytes(cur, '\r', '\r', next);
        cur = next;
      }
      eps(cur, end);
      return end;
    }

    Rule build() {
      int n = accept.size();
      rule.edges = new int[n][];
      rule.eps = new int[n][];
      rule.callees = new Object[n][];
      rule.callTargets = new int[n][];
      rule.accept = new boolean[n];
      rule.hasBytes = new boolean[n];
      for (int i = 0; i < n; i++) {
        List<int[]> e = edges.get(i);
        int[] flat = new int[e.size() * 3];
        for (int k = 0; k < e.size(); k++) {
          System.arraycopy(e.get(k), 0, flat, k * 3, 3);
        }
        rule.edges[i] = flat;
        rule.hasBytes[i] = flat.length > 0;
        rule.eps[i] = eps.get(i).stream().mapToInt(Integer::intValue).toArray();
        rule.callees[i] = callees.get(i).toArray();
        rule.callTargets[i] = callTargets.get(i).stream().mapToInt(Integer::intValue).toArray();
        rule.accept[i] = accept.get(i);
      }
      rule.masks = new AtomicReferenceArray<>(n);
      return rule;
    }
  }
}
