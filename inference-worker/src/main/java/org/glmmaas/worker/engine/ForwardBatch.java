package org.glmmaas.worker.engine;

/**
 * One engine step's input: prefill chunks and decode tokens of many sequences, flattened. No state
 * about "current" sequences lives in the engine: everything it needs is here.
 *
 * @param tokenIds token per row, [numTokens]
 * @param seqIndex the row's sequence, an index into {@code blockTables}, [numTokens]
 * @param positions the row's position in its sequence (0-based), [numTokens]
 * @param slotMapping where the row's K/V are written: {@code blockTables[seq][position / blockSize]
 *     * blockSize + position % blockSize}, [numTokens]
 * @param blockTables per sequence of this batch, the KV block ids holding its positions in order
 * @param logitRows row indices whose logits are wanted, in output order
 */
public record ForwardBatch(
    int[] tokenIds,
    int[] seqIndex,
    int[] positions,
    int[] slotMapping,
    int[][] blockTables,
    int[] logitRows) {

  public int numTokens() {
    return tokenIds.length;
  }

  public int numSeqs() {
    return blockTables.length;
  }
}
