package org.glmmaas.worker.kvcache;

/**
 * One KV block of the engine's pool, as the scheduler accounts for it. Mutable, owned by the {@link
 * BlockPool}; only touched on the engine thread.
 */
public final class KvBlock {

  private final int blockId;
  private int refCount;
  private BlockHash hash;
  // links of the free queue (LRU order: head is evicted first)
  KvBlock prevFree;
  KvBlock nextFree;
  boolean inFreeQueue;

  KvBlock(int blockId) {
    this.blockId = blockId;
  }

  public int blockId() {
    return blockId;
  }

  public int refCount() {
    return refCount;
  }

  /** The prefix hash of the full block this holds, or null when it is not (yet) cached. */
  public BlockHash hash() {
    return hash;
  }

  void incRef() {
    refCount++;
  }

  void decRef() {
    if (refCount <= 0) {
      throw new IllegalStateException("block " + blockId + " freed more often than allocated");
    }
    refCount--;
  }

  void setHash(BlockHash hash) {
    this.hash = hash;
  }
}
