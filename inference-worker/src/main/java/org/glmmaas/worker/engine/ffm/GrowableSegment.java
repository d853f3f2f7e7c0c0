package org.glmmaas.worker.engine.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An off-heap buffer of fixed-size elements that is reused across engine steps and replaced by a
 * larger one (at least double) only when a step needs more; each generation has its own arena,
 * closed when it is replaced or when the engine closes.
 */
final class GrowableSegment implements AutoCloseable {

  private final int elementBytes;
  private Arena arena;
  private MemorySegment segment = MemorySegment.NULL;
  private long capacity;

  /** Set when the segment was replaced; the owner resets it after refreshing its views. */
  boolean grewSinceView;

  GrowableSegment(int elementBytes) {
    this.elementBytes = elementBytes;
  }

  /** A segment of at least {@code elements} elements (64-byte aligned), reused when it fits. */
  MemorySegment ensure(long elements) {
    if (elements > capacity) {
      long cap = Math.max(elements, Math.max(64, capacity * 2));
      Arena next = Arena.ofShared();
      MemorySegment seg = next.allocate(cap * elementBytes, 64);
      if (arena != null) {
        arena.close();
      }
      arena = next;
      segment = seg;
      capacity = cap;
      grewSinceView = true;
    }
    return segment;
  }

  MemorySegment segment() {
    return segment;
  }

  @Override
  public void close() {
    if (arena != null) {
      arena.close();
      arena = null;
    }
    segment = MemorySegment.NULL;
    capacity = 0;
  }
}
