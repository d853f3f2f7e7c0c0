package org.glmmaas.worker.grammar;

import java.util.Objects;

/**
 * One stack of the matcher, persistent: a position (a rule's node, or a string body's progress) and
 * the continuation below it ({@code parent}: where to go when this rule ends; {@code null} is the
 * end of the whole grammar). Frames are immutable and share their parents.
 */
abstract sealed class Frame permits Frame.RuleFrame, Frame.StringFrame {

  /** The bottom of a local walk: popping to it means "the rule the walk started in ended". */
  static final RuleFrame ESCAPE = new RuleFrame(null, -1, null);

  final Frame parent;
  final int depth;
  final int hash;

  Frame(Frame parent, int hash) {
    this.parent = parent;
    this.depth = parent == null ? 0 : parent.depth + 1;
    this.hash = hash * 31 + (parent == null ? 0 : parent.hash);
  }

  @Override
  public final int hashCode() {
    return hash;
  }

  /** A rule at a node. */
  static final class RuleFrame extends Frame {
    final Rule rule;
    final int node;

    RuleFrame(Rule rule, int node, Frame parent) {
      super(parent, System.identityHashCode(rule) * 17 + node);
      this.rule = rule;
      this.node = node;
    }

    @Override
    public boolean equals(Object o) {
      return this == o
          || (o instanceof RuleFrame f
              && f.hash == hash
              && f.rule == rule
              && f.node == node
              && Objects.equals(f.parent, parent));
    }
  }

  /** Inside a JSON string body: {@code count} characters done, UTF-8/escape state {@code ps}. */
  static final class StringFrame extends Frame {
    final Rule.StringBody spec;
    final int count;
    final int ps;

    StringFrame(Rule.StringBody spec, int count, int ps, Frame parent) {
      super(parent, (spec.hashCode() * 31 + count) * 31 + ps + 7);
      this.spec = spec;
      this.count = count;
      this.ps = ps;
    }

    @Override
    public boolean equals(Object o) {
      return this == o
          || (o instanceof StringFrame f
              && f.hash == hash
              && f.count == count
              && f.ps == ps
              && f.spec.equals(spec)
              && Objects.equals(f.parent, parent));
    }
  }
}
