package org.glmmaas.worker.usage.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.worker.usage.KafkaUsagePublisher;
import org.glmmaas.worker.usage.UsageSpool;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * Load generator, not a test: what the write-ahead spool costs per usage event. One in-process
 * KRaft broker; each round publishes N events from one thread (as the engine thread does) and waits
 * until Kafka acknowledged all of them. Compared with the bare idempotent producer (what publish()
 * did before the spool was written ahead). Prints the median of the rounds.
 *
 * <p>Args: {@code [events=50000] [rounds=5]}.
 */
public final class UsagePublishBenchmark {

  private UsagePublishBenchmark() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 3, "glm.usage.v1");
    broker.afterPropertiesSet();
    try {
      Map<String, Object> config =
          Map.of(
              ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
              broker.getBrokersAsString(),
              ProducerConfig.ACKS_CONFIG,
              "all",
              ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
              true,
              ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
              5,
              ProducerConfig.LINGER_MS_CONFIG,
              5,
              ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
              60_000,
              ProducerConfig.CLIENT_ID_CONFIG,
              "bench");
      UsageEvent[] events = new UsageEvent[n];
      for (int i = 0; i < n; i++) {
        events[i] =
            UsageEvent.newBuilder()
                .setRequestId("chatcmpl-" + Long.toHexString(System.nanoTime()) + "-" + i)
                .setTenantId("tenant-" + (i % 100))
                .setKeyId("key-" + (i % 5))
                .setModel("glm-4-9b-chat")
                .setPromptTokens(512)
                .setCachedTokens(128)
                .setCompletionTokens(200)
                .setFinishReason("stop")
                .setWorkerId("worker-0")
                .setStartTimeUnixMs(1_700_000_000_000L)
                .setEndTimeUnixMs(1_700_000_001_000L)
                .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
                .build();
      }
      double[] spoolCallNs = new double[rounds],
          spoolRate = new double[rounds],
          perSync = new double[rounds];
      double[] bareCallNs = new double[rounds], bareRate = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        // bare producer: send() and wait for every ack
        try (Producer<String, byte[]> p =
            new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
          p.send(new ProducerRecord<>("glm.usage.v1", "warm", new byte[1])).get();
          long t0 = System.nanoTime();
          for (UsageEvent e : events) {
            p.send(new ProducerRecord<>("glm.usage.v1", e.getTenantId(), e.toByteArray()));
          }
          long t1 = System.nanoTime();
          p.flush();
          long t2 = System.nanoTime();
          bareCallNs[r] = (t1 - t0) / (double) n;
          bareRate[r] = n / ((t2 - t0) / 1e9);
        }
        // write-ahead publisher: publish() and wait until the spool has no unacknowledged record
        Path dir = Files.createTempDirectory("usage-bench-spool");
        UsageSpool spool = new UsageSpool(dir, 1L << 30, 16L << 20);
        try (KafkaUsagePublisher p =
            new KafkaUsagePublisher(
                () ->
                    new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer()),
                spool,
                "glm.usage.v1",
                Duration.ofSeconds(30),
                Duration.ofMillis(200),
                new SimpleMeterRegistry())) {
          p.publish(events[0].toBuilder().setRequestId("warm").build());
          while (p.spooledPending() > 0) {
            Thread.sleep(1);
          }
          long syncs0 = spool.numSyncs();
          long t0 = System.nanoTime();
          for (UsageEvent e : events) {
            p.publish(e);
          }
          long t1 = System.nanoTime();
          while (p.spooledPending() > 0) {
            Thread.onSpinWait();
          }
          long t2 = System.nanoTime();
          if (p.isSpooling()) {
            throw new IllegalStateException("publisher fell back to the backlog during the bench");
          }
          spoolCallNs[r] = (t1 - t0) / (double) n;
          spoolRate[r] = n / ((t2 - t0) / 1e9);
          perSync[r] = n / (double) Math.max(1, spool.numSyncs() - syncs0);
        }
        try (var files = Files.walk(dir)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        System.err.printf(
            "round %d: bare send %.2f us/event, %.0f events/s acked | write-ahead publish %.2f us/event,"
                + " %.0f events/s acked, %.0f events per fsync%n",
            r + 1,
            bareCallNs[r] / 1e3,
            bareRate[r],
            spoolCallNs[r] / 1e3,
            spoolRate[r],
            perSync[r]);
      }
      System.out.printf("events=%d rounds=%d (medians)%n", n, rounds);
      System.out.printf(
          "bare producer:        caller %.2f us/event, %,.0f events/s acked%n",
          median(bareCallNs) / 1e3, median(bareRate));
      System.out.printf(
          "write-ahead publisher: caller %.2f us/event, %,.0f events/s acked, %.0f events per fsync%n",
          median(spoolCallNs) / 1e3, median(spoolRate), median(perSync));
    } finally {
      broker.destroy();
    }
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
