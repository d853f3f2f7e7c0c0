package org.glmmaas.worker.kvcache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * All KV blocks of the engine's pool with their reference counts, a free queue in eviction order
 * (least recently freed first) and the prefix cache: hash of a full block -> the block holding it.
 * A free block may still hold cached content; it is reused as-is on a cache hit and its hash is
 * evicted only when the block is handed out for new content. Engine thread only.
 */
public final class BlockPool {

  private final KvBlock[] blocks;
  private final boolean enablePrefixCaching;
  private final Map<BlockHash, KvBlock> cached = new HashMap<>();
  private KvBlock freeHead;
  private KvBlock freeTail;
  private int numFree;

  public BlockPool(int numBlocks, boolean enablePrefixCaching) {
    if (numBlocks < 1) {
      throw new IllegalArgumentException("a KV pool needs at least one block, got " + numBlocks);
    }
    this.enablePrefixCaching = enablePrefixCaching;
    blocks = new KvBlock[numBlocks];
    for (int i = 0; i < numBlocks; i++) {
      blocks[i] = new KvBlock(i);
      appendFree(blocks[i]);
    }
  }

  public int numBlocks() {
    return blocks.length;
  }

  /** Blocks with no reference (some may still hold evictable cached content). */
  public int numFreeBlocks() {
    return numFree;
  }

  /** Fraction of blocks referenced by live sequences, in [0, 1]. */
  public double usage() {
    return 1.0 - (double) numFree / blocks.length;
  }

  public int numCachedBlocks() {
    return cached.size();
  }

  public KvBlock block(int blockId) {
    return blocks[blockId];
  }

  /** The block holding this full-block content, or null. Does not take a reference. */
  public KvBlock lookup(BlockHash hash) {
    return enablePrefixCaching ? cached.get(hash) : null;
  }

  /**
   * Hands out {@code n} blocks for new content (evicting their old cached content), each with one
   * reference.
   *
   * @throws IllegalStateException when fewer than n blocks are free (callers check first)
   */
  public List<KvBlock> allocate(int n) {
    if (n > numFree) {
      throw new IllegalStateException("asked for " + n + " KV blocks, " + numFree + " free");
    }
    List<KvBlock> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      KvBlock b = freeHead;
      removeFree(b);
      if (b.hash() != null) {
        cached.remove(b.hash(), b);
        b.setHash(null);
      }
      b.incRef();
      out.add(b);
    }
    return out;
  }

  /** Takes a reference on a (cached) block, taking it off the free queue if it was free. */
  public void touch(KvBlock b) {
    if (b.inFreeQueue) {
      removeFree(b);
    }
    b.incRef();
  }

  /**
   * Drops one reference of each block; blocks that reach zero join the free queue's tail in the
   * given order (pass a sequence's blocks last-first so its tail is evicted before its prefix).
   */
  public void free(List<KvBlock> toFree) {
    for (KvBlock b : toFree) {
      b.decRef();
      if (b.refCount() == 0) {
        appendFree(b);
      }
    }
  }

  /** Records that {@code b} now holds the full block identified by {@code hash}. */
  public void cacheBlock(KvBlock b, BlockHash hash) {
    if (!enablePrefixCaching || b.hash() != null) {
      return;
    }
    KvBlock existing = cached.putIfAbsent(hash, b);
    if (existing == null) {
      b.setHash(hash);
    }
  }

  /** Checks the pool's invariants (for tests and debugging); throws on violation. */
  public void checkInvariants() {
    int free = 0;
    for (KvBlock b = freeHead; b != null; b = b.nextFree) {
      if (b.refCount() != 0) {
        throw new IllegalStateException(
            "block " + b.blockId() + " is free with refs " + b.refCount());
      }
      free++;
    }
    if (free != numFree) {
      throw new IllegalStateException("free queue holds " + free + ", counter says " + numFree);
    }
    for (KvBlock b : blocks) {
      if (b.refCount() < 0 || (b.refCount() == 0) != b.inFreeQueue) {
        throw new IllegalStateException(
            "block " + b.blockId() + " refs " + b.refCount() + " inFree " + b.inFreeQueue);
      }
    }
    for (Map.Entry<BlockHash, KvBlock> e : cached.entrySet()) {
      if (!e.getKey().equals(e.getValue().hash())) {
        throw new IllegalStateException("cache entry points at a block with another hash");
      }
    }
  }

  private void appendFree(KvBlock b) {
    b.prevFree = freeTail;
    b.nextFree = null;
    if (freeTail == null) {
      freeHead = b;
    } else {
      freeTail.nextFree = b;
    }
    freeTail = b;
    b.inFreeQueue = true;
    numFree++;
  }

  private void removeFree(KvBlock b) {
    if (b.prevFree == null) {
      freeHead = b.nextFree;
    } else {
      b.prevFree.nextFree = b.nextFree;
    }
    if (b.nextFree == null) {
      freeTail = b.prevFree;
    } else {
      b.nextFree.prevFree = b.prevFree;
    }
    b.prevFree = null;
    b.nextFree = null;
    b.inFreeQueue = false;
    numFree--;
  }
}
