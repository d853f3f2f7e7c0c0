package org.glmmaas.worker.kvcache;

import java.util.ArrayList;
import java.util.List;

/**
 * Paged KV accounting for the scheduler: grows sequences' block tables, looks up and registers full
 * blocks in the prefix cache, frees sequences. Engine thread only.
 */
public final class KvCacheManager {

  private final BlockPool pool;
  private final int blockSize;
  private final boolean enablePrefixCaching;
  private long numQueries;
  private long numHits;

  public KvCacheManager(int numBlocks, int blockSize, boolean enablePrefixCaching) {
    if (blockSize < 1) {
      throw new IllegalArgumentException("block size must be >= 1, got " + blockSize);
    }
    this.pool = new BlockPool(numBlocks, enablePrefixCaching);
    this.blockSize = blockSize;
    this.enablePrefixCaching = enablePrefixCaching;
  }

  public BlockPool pool() {
    return pool;
  }

  public int blockSize() {
    return blockSize;
  }

  /** Prompt blocks looked up in the prefix cache since start. */
  public long numQueries() {
    return numQueries;
  }

  /** Prompt blocks found in the prefix cache since start. */
  public long numHits() {
    return numHits;
  }

  /**
   * The longest run of leading full blocks of {@code tokens[0, numTokens)} that the cache holds for
   * this salt. At least one token is always left to compute, so the step that finishes the prompt
   * yields logits.
   */
  public PrefixHit findCachedPrefix(String salt, int[] tokens, int numTokens) {
    if (!enablePrefixCaching || numTokens <= 1) {
      return PrefixHit.NONE;
    }
    int maxBlocks = (numTokens - 1) / blockSize;
    List<KvBlock> found = new ArrayList<>();
    List<BlockHash> hashes = new ArrayList<>();
    BlockHash parent = BlockHash.root(salt);
    for (int i = 0; i < maxBlocks; i++) {
      BlockHash h = BlockHash.chain(parent, tokens, i * blockSize, blockSize);
      numQueries++;
      KvBlock b = pool.lookup(h);
      if (b == null) {
        numQueries += maxBlocks - i - 1;
        break;
      }
      numHits++;
      found.add(b);
      hashes.add(h);
      parent = h;
    }
    return found.isEmpty()
        ? PrefixHit.NONE
        : new PrefixHit(found, hashes, found.size() * blockSize);
  }

  /**
   * Makes room for {@code numNewTokens} more tokens after {@code numComputedTokens}, first
   * attaching the cached prefix {@code hit} to an empty table. All or nothing.
   *
   * @return false when the pool has too few free blocks (nothing changed)
   */
  public boolean allocateSlots(
      BlockTable table, int numComputedTokens, int numNewTokens, PrefixHit hit) {
    int have = table.numBlocks() + hit.blocks().size();
    int need = ceilDiv(numComputedTokens + numNewTokens, blockSize);
    int numNew = Math.max(0, need - have);
    int hitsNowFree = 0;
    for (KvBlock b : hit.blocks()) {
      if (b.refCount() == 0) {
        hitsNowFree++;
      }
    }
    if (numNew + hitsNowFree > pool.numFreeBlocks()) {
      return false;
    }
    if (!hit.blocks().isEmpty()) {
      if (table.numBlocks() != 0) {
        throw new IllegalStateException("a cached prefix can only start an empty block table");
      }
      for (KvBlock b : hit.blocks()) {
        pool.touch(b);
      }
      table.blocks.addAll(hit.blocks());
      table.hashes.addAll(hit.hashes());
    }
    if (numNew > 0) {
      table.blocks.addAll(pool.allocate(numNew));
    }
    return true;
  }

  /**
   * Starts an empty {@code child} table with the first {@code numBlocks} (full, computed) blocks of
   * {@code parent}, shared: each gains a reference and is never written again (the child computes
   * from there on in blocks of its own).
   */
  public void fork(BlockTable parent, BlockTable child, int numBlocks) {
    if (child.numBlocks() != 0) {
      throw new IllegalStateException("a fork starts an empty block table");
    }
    if (numBlocks > parent.numBlocks()) {
      throw new IllegalArgumentException(
          "cannot share " + numBlocks + " blocks of a table of " + parent.numBlocks());
    }
    for (int i = 0; i < numBlocks; i++) {
      KvBlock b = parent.blocks.get(i);
      pool.touch(b);
      child.blocks.add(b);
      if (i < parent.hashes.size()) {
        child.hashes.add(parent.hashes.get(i));
      }
    }
  }

  /** Free blocks that a new allocation of {@code numTokens} more tokens would need. */
  public int blocksNeeded(BlockTable table, int numComputedTokens, int numNewTokens) {
    return Math.max(0, ceilDiv(numComputedTokens + numNewTokens, blockSize) - table.numBlocks());
  }

  /** Registers the sequence's full, computed blocks of {@code tokens} in the prefix cache. */
  public void cacheFullBlocks(BlockTable table, int[] tokens, int numComputedTokens) {
    if (!enablePrefixCaching) {
      return;
    }
    int numFull = Math.min(numComputedTokens / blockSize, table.numBlocks());
    BlockHash parent = table.hashes.isEmpty() ? null : table.hashes.getLast();
    for (int i = table.hashes.size(); i < numFull; i++) {
      if (parent == null) {
        parent = BlockHash.root(table.salt());
      }
      BlockHash h = BlockHash.chain(parent, tokens, i * blockSize, blockSize);
      pool.cacheBlock(table.blocks.get(i), h);
      table.hashes.add(h);
      parent = h;
    }
  }

  /** Releases all of a sequence's blocks (tail first, so its prefix stays cached longest). */
  public void free(BlockTable table) {
    List<KvBlock> reversed = new ArrayList<>(table.blocks.reversed());
    table.blocks.clear();
    table.hashes.clear();
    pool.free(reversed);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
