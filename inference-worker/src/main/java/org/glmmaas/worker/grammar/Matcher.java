package org.glmmaas.worker.grammar;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.glmmaas.worker.grammar.Frame.RuleFrame;
import org.glmmaas.worker.grammar.Frame.StringFrame;

/**
 * Byte-level stepping of a set of stacks (the llama.cpp GBNF way): {@link #close} expands epsilon
 * moves, calls and rule ends until every stack sits where a byte must come next; {@link #step}
 * moves every stack over one byte.
 */
final class Matcher {

  /** Stacks deeper than this are dropped (a left-recursive $ref would otherwise never end). */
  static final int MAX_DEPTH = 1024;

  private Matcher() {}

  /** A set of stacks waiting for a byte, and whether the grammar (or the walked rule) ended. */
  static final class States {
    final List<Frame> stable = new ArrayList<>(4);
    private final HashSet<Frame> seen = new HashSet<>(8);

    /** The whole grammar ended here. */
    boolean complete;

    /** A local walk's start rule ended here (popped to {@link Frame#ESCAPE}). */
    boolean escaped;

    boolean alive() {
      return !stable.isEmpty() || complete;
    }
  }

  static States start(Frame config) {
    States s = new States();
    close(config, s);
    return s;
  }

  static void close(Frame f, States out) {
    if (f == null) {
      out.complete = true;
      return;
    }
    if (f == Frame.ESCAPE) {
      out.escaped = true;
      return;
    }
    if (f.depth > MAX_DEPTH || !out.seen.add(f)) {
      return;
    }
    if (f instanceof StringFrame) {
      out.stable.add(f);
      return;
    }
    RuleFrame rf = (RuleFrame) f;
    Rule r = rf.rule;
    int n = rf.node;
    if (r.hasBytes[n]) {
      out.stable.add(rf);
    }
    for (int t : r.eps[n]) {
      close(new RuleFrame(r, t, rf.parent), out);
    }
    Object[] callees = r.callees[n];
    for (int i = 0; i < callees.length; i++) {
      RuleFrame cont = new RuleFrame(r, r.callTargets[n][i], rf.parent);
      if (callees[i] instanceof Rule callee) {
        close(new RuleFrame(callee, 0, cont), out);
      } else {
        close(new StringFrame((Rule.StringBody) callees[i], 0, JsonStringDfa.CLEAN, cont), out);
      }
    }
    if (r.accept[n]) {
      close(rf.parent, out);
    }
  }

  /** Every stack of {@code stable} over byte {@code b}, closed, into {@code out}. */
  static void step(List<Frame> stable, int b, States out) {
    for (int i = 0; i < stable.size(); i++) {
      Frame f = stable.get(i);
      if (f instanceof RuleFrame rf) {
        int[] e = rf.rule.edges[rf.node];
        for (int k = 0; k < e.length; k += 3) {
          if (b >= e[k] && b <= e[k + 1]) {
            close(new RuleFrame(rf.rule, e[k + 2], rf.parent), out);
          }
        }
      } else {
        StringFrame sf = (StringFrame) f;
        int t = JsonStringDfa.step(sf.ps, b);
        if (t == JsonStringDfa.DEAD) {
          continue;
        }
        if (t == JsonStringDfa.CLOSE) {
          if (sf.count >= sf.spec.minLength()) {
            close(sf.parent, out);
          }
          continue;
        }
        int ps = t & 0xff;
        int count = sf.count + ((t & JsonStringDfa.CHAR_DONE) != 0 ? 1 : 0);
        if (count + (ps != JsonStringDfa.CLEAN ? 1 : 0) <= sf.spec.maxLength()) {
          close(new StringFrame(sf.spec, count, ps, sf.parent), out);
        }
      }
    }
  }

  /** The stacks after all of {@code bytes}, or null when they die on the way. */
  static States advance(List<Frame> stable, byte[] bytes) {
    States cur = null;
    List<Frame> from = stable;
    for (byte b : bytes) {
      cur = new States();
      step(from, b & 0xff, cur);
      if (!cur.alive()) {
        return null;
      }
      from = cur.stable;
    }
    return cur;
  }
}
