package org.glmmaas.worker.engine.ffm;

/**
 * One tensor of a loaded model, as the engine lists it.
 *
 * @param name GGUF tensor name
 * @param ggmlType ggml type number (0 F32, 1 F16, 2 Q4_0, 8 Q8_0, 12 Q4_K, 14 Q6_K, 30 BF16)
 * @param dims ggml order, innermost first
 */
public record NativeTensorInfo(String name, int ggmlType, long[] dims) {}
