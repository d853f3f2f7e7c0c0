package org.glmmaas.worker.kvcache;

import java.util.ArrayList;
import java.util.List;

/**
 * The KV blocks of one sequence, in position order, and the prefix hashes of its full blocks.
 * Position p lives in {@code blocks[p / blockSize]} at offset {@code p % blockSize}.
 */
public final class BlockTable {

  private final String salt;
  final List<KvBlock> blocks = new ArrayList<>();
  final List<BlockHash> hashes = new ArrayList<>();

  public BlockTable(String salt) {
    this.salt = salt == null ? "" : salt;
  }

  public String salt() {
    return salt;
  }

  public int numBlocks() {
    return blocks.size();
  }

  public int blockId(int index) {
    return blocks.get(index).blockId();
  }

  public int[] blockIds() {
    int[] ids = new int[blocks.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = blocks.get(i).blockId();
    }
    return ids;
  }

  /** Where position {@code position}'s K/V go in the pool. */
  public int slot(int position, int blockSize) {
    return blocks.get(position / blockSize).blockId() * blockSize + position % blockSize;
  }
}
