package org.glmmaas.worker.kvcache;

import java.util.List;

/**
 * Result of a prefix-cache lookup: the leading full blocks already computed for these tokens.
 *
 * @param blocks cached blocks, in order (not yet referenced)
 * @param hashes their chained hashes
 * @param numCachedTokens {@code blocks.size() * blockSize}
 */
public record PrefixHit(List<KvBlock> blocks, List<BlockHash> hashes, int numCachedTokens) {

  public static final PrefixHit NONE = new PrefixHit(List.of(), List.of(), 0);
}
