package org.glmmaas.worker.usage;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Settings under {@code glm.worker.usage.*}.
 *
 * @param bootstrapServers Kafka brokers; empty falls back to {@code spring.kafka.bootstrap-servers}
 * @param topic topic of UsageEvent records
 * @param spoolDir the write-ahead spool: every event is written here before Kafka sees it, and
 *     waits here while Kafka is unreachable (default {@code data/inference-worker/usage-spool}
 *     (relative to the working directory); use a persistent volume in production, or a restart
 *     loses what was not yet acknowledged)
 * @param spoolMaxSize bound of the spool on disk; beyond it events are refused loudly (error log +
 *     {@code glm_usage_events_dropped_total})
 * @param spoolSegmentSize size of one spool segment file (disk use may pass the acknowledged
 *     records by up to one segment until it rolls)
 * @param deliveryTimeout how long the producer tries a record before the publisher switches to the
 *     backlog (re-sending from the spool)
 * @param maxBlock longest time publish() may wait for broker metadata before spooling
 * @param resendInterval pause between attempts to re-send the spool while Kafka is away
 */
@ConfigurationProperties("glm.worker.usage")
public record UsageProperties(
    @DefaultValue("") String bootstrapServers,
    @DefaultValue("glm.usage.v1") String topic,
    Path spoolDir,
    @DefaultValue("256MB") DataSize spoolMaxSize,
    @DefaultValue("16MB") DataSize spoolSegmentSize,
    @DefaultValue("15s") Duration deliveryTimeout,
    @DefaultValue("500ms") Duration maxBlock,
    @DefaultValue("1s") Duration resendInterval) {

  public static final Path DEFAULT_SPOOL_DIR = Path.of("data", "inference-worker", "usage-spool");

  public UsageProperties {
    if (spoolDir == null) {
      // under the service's data folder (relative to its working directory, as the gateway's
      // data/gateway), never the shared temp folder
      spoolDir = DEFAULT_SPOOL_DIR;
    }
    if (spoolMaxSize.toBytes() < 1024 || spoolSegmentSize.toBytes() < 1024) {
      throw new IllegalArgumentException(
          "glm.worker.usage.spool-max-size and spool-segment-size must be >= 1KB");
    }
    if (deliveryTimeout.toMillis() < 1000) {
      throw new IllegalArgumentException("glm.worker.usage.delivery-timeout must be >= 1s");
    }
  }
}
