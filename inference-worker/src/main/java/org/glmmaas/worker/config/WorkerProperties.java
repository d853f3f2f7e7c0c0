package org.glmmaas.worker.config;

import java.net.InetAddress;
import java.time.Duration;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.worker.engine.CpuList;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The inference worker's settings, {@code glm.worker.*}, named after vLLM's flags. Validated at
 * binding: a bad value stops start-up with a message naming the key.
 *
 * @param id stable worker id in load reports, usage and metric labels (default: the host name)
 * @param model path of the GGUF model file; empty: the worker starts but serves nothing
 * @param modelId the model id callers use (default: the file name without ".gguf", and for the
 *     first part of a split model without "-00001-of-0000N")
 * @param device "cpu" or "cuda:N"
 * @param threads CPU threads of the engine; 0: all available processors
 * @param cpuAffinity optional core list the engine threads are pinned to, e.g. "0-7" or "0,2,4"
 *     (Linux; the rest of the JVM stays unpinned)
 * @param drainTimeout how long a draining worker lets running streams finish before aborting them
 * @param grpc the gRPC server of InferenceService and grpc.health.v1, {@code glm.worker.grpc.*}
 *     ({@link GrpcServerProperties}; port 9083)
 * @param scheduler batching limits
 * @param kvCache the paged KV cache
 * @param loadReport WatchLoad pacing
 */
@ConfigurationProperties("glm.worker")
public record WorkerProperties(
    String id,
    @DefaultValue("") String model,
    @DefaultValue("") String modelId,
    @DefaultValue("cpu") String device,
    @DefaultValue("0") int threads,
    @DefaultValue("") String cpuAffinity,
    @DefaultValue("30s") Duration drainTimeout,
    @DefaultValue GrpcServerProperties grpc,
    @DefaultValue Scheduler scheduler,
    @DefaultValue KvCache kvCache,
    @DefaultValue LoadReport loadReport) {

  public static final int DEFAULT_GRPC_PORT = 9083;

  public WorkerProperties {
    grpc =
        (grpc != null ? grpc : GrpcServerProperties.onPort(DEFAULT_GRPC_PORT))
            .withDefaultPort(DEFAULT_GRPC_PORT);
    if (id == null || id.isBlank()) {
      id = defaultWorkerId();
    }
    if (!device.equals("cpu") && !device.matches("cuda:\\d+")) {
      throw new IllegalArgumentException(
          "glm.worker.device must be 'cpu' or 'cuda:N', got '" + device + "'");
    }
    if (threads < 0) {
      throw new IllegalArgumentException(
          "glm.worker.threads must be >= 0 (0 = all cores), got " + threads);
    }
    if (!cpuAffinity.isBlank()) {
      try {
        CpuList.parse(cpuAffinity);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "glm.worker.cpu-affinity must be a core list like '0-7' or '0,2,4', got '"
                + cpuAffinity
                + "': "
                + e.getMessage());
      }
    }
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("glm.worker.drain-timeout must not be negative");
    }
    if (modelId.isBlank() && !model.isBlank()) {
      String name = java.nio.file.Path.of(model).getFileName().toString();
      modelId = name.endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
      // a split model is served from its first part: its id is the name without the part suffix
      modelId = modelId.replaceFirst("-00001-of-\\d{5}$", "");
    }
  }

  /**
   * Engine threads to use: the configured number; else one per core of {@code cpu-affinity} when
   * set; else every available processor.
   */
  public int effectiveThreads() {
    if (threads > 0) {
      return threads;
    }
    return cpuAffinity.isBlank()
        ? Runtime.getRuntime().availableProcessors()
        : CpuList.parse(cpuAffinity).size();
  }

  private static String defaultWorkerId() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "worker";
    }
  }

  /**
   * @param maxNumSeqs sequences per engine step at most
   * @param maxNumBatchedTokens tokens per engine step at most (prefill chunk size)
   * @param maxModelLen prompt + generated tokens per sequence at most; 0: the model's context
   *     length
   * @param maxWaiting queued requests at most; more get OVERLOADED
   */
  public record Scheduler(
      @DefaultValue("16") int maxNumSeqs,
      @DefaultValue("512") int maxNumBatchedTokens,
      @DefaultValue("0") int maxModelLen,
      @DefaultValue("256") int maxWaiting) {
    public Scheduler {
      if (maxNumSeqs < 1) {
        throw new IllegalArgumentException(
            "glm.worker.scheduler.max-num-seqs must be >= 1, got " + maxNumSeqs);
      }
      if (maxNumBatchedTokens < maxNumSeqs) {
        throw new IllegalArgumentException(
            "glm.worker.scheduler.max-num-batched-tokens ("
                + maxNumBatchedTokens
                + ") must be >= max-num-seqs ("
                + maxNumSeqs
                + ")");
      }
      if (maxModelLen < 0) {
        throw new IllegalArgumentException(
            "glm.worker.scheduler.max-model-len must be >= 0, got " + maxModelLen);
      }
      if (maxWaiting < 1) {
        throw new IllegalArgumentException(
            "glm.worker.scheduler.max-waiting must be >= 1, got " + maxWaiting);
      }
    }
  }

  /**
   * @param blockSize tokens per KV block
   * @param memory memory budget of the KV pool; the block count is this over one block's bytes
   * @param dtype KV storage type, "f16" or "f32"
   * @param enablePrefixCaching reuse full prompt blocks across requests of one tenant
   */
  public record KvCache(
      @DefaultValue("16") int blockSize,
      @DefaultValue("1GB") DataSize memory,
      @DefaultValue("f16") String dtype,
      @DefaultValue("true") boolean enablePrefixCaching) {
    public KvCache {
      if (blockSize < 1 || blockSize > 256 || Integer.bitCount(blockSize) != 1) {
        throw new IllegalArgumentException(
            "glm.worker.kv-cache.block-size must be a power of two in 1..256, got " + blockSize);
      }
      if (memory.toBytes() <= 0) {
        throw new IllegalArgumentException(
            "glm.worker.kv-cache.memory must be positive, got " + memory);
      }
      if (!dtype.equals("f16") && !dtype.equals("f32")) {
        throw new IllegalArgumentException(
            "glm.worker.kv-cache.dtype must be 'f16' or 'f32', got '" + dtype + "'");
      }
    }
  }

  /**
   * @param minInterval default spacing of WatchLoad reports
   */
  public record LoadReport(@DefaultValue("250ms") Duration minInterval) {
    public LoadReport {
      if (minInterval.isNegative() || minInterval.isZero()) {
        throw new IllegalArgumentException("glm.worker.load-report.min-interval must be positive");
      }
    }
  }
}
