package org.glmmaas.worker.engine;

import java.util.BitSet;

/**
 * A set of CPU ids written the way Linux writes them ({@code Cpus_allowed_list}, taskset -c):
 * "0-7", "0,2,4", "0-3,8-11". Used for {@code glm.worker.cpu-affinity}.
 */
public record CpuList(BitSet cpus) {

  /** CPU ids above this are refused (Linux's largest NR_CPUS is 8192). */
  public static final int MAX_CPU = 8191;

  public CpuList {
    cpus = (BitSet) cpus.clone();
    if (cpus.isEmpty()) {
      throw new IllegalArgumentException("a CPU list must name at least one CPU");
    }
  }

  /**
   * Parses "0-7", "0,2,4" or a mix.
   *
   * @throws IllegalArgumentException naming the bad part
   */
  public static CpuList parse(String text) {
    String s = text == null ? "" : text.strip();
    if (s.isEmpty()) {
      throw new IllegalArgumentException("empty CPU list");
    }
    BitSet set = new BitSet();
    for (String part : s.split(",", -1)) {
      String p = part.strip();
      if (!p.matches("\\d{1,5}(-\\d{1,5})?")) {
        throw new IllegalArgumentException("'" + p + "' is neither a CPU id nor a range like 0-7");
      }
      int dash = p.indexOf('-');
      int lo = Integer.parseInt(dash < 0 ? p : p.substring(0, dash));
      int hi = dash < 0 ? lo : Integer.parseInt(p.substring(dash + 1));
      if (hi < lo) {
        throw new IllegalArgumentException("range '" + p + "' runs backwards");
      }
      if (hi > MAX_CPU) {
        throw new IllegalArgumentException(
            "CPU " + hi + " is above the largest Linux CPU id " + MAX_CPU);
      }
      set.set(lo, hi + 1);
    }
    return new CpuList(set);
  }

  @Override
  public BitSet cpus() {
    return (BitSet) cpus.clone();
  }

  public int size() {
    return cpus.cardinality();
  }

  public boolean contains(int cpu) {
    return cpus.get(cpu);
  }

  /** The CPUs of this list that {@code other} lacks. */
  public BitSet missingFrom(CpuList other) {
    BitSet b = (BitSet) cpus.clone();
    b.andNot(other.cpus);
    return b;
  }

  /** Linux's compact form, e.g. "0-3,8". */
  @Override
  public String toString() {
    return format(cpus);
  }

  public static String format(BitSet b) {
    StringBuilder sb = new StringBuilder();
    for (int i = b.nextSetBit(0); i >= 0; ) {
      int end = b.nextClearBit(i) - 1;
      if (!sb.isEmpty()) {
        sb.append(',');
      }
      sb.append(i);
      if (end > i) {
        sb.append('-').append(end);
      }
      i = b.nextSetBit(end + 1);
    }
    return sb.toString();
  }
}
