package org.glmmaas.worker.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.glmmaas.platform.test.TestKafka;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.util.unit.DataSize;

/** The worker's publisher against a real (in-process KRaft) broker that comes and goes. */
class KafkaUsagePublisherTest {

  static final String TOPIC = "glm.usage.v1";

  @TempDir Path spoolDir;

  private UsageProperties props(String bootstrap) {
    return new UsageProperties(
        bootstrap,
        TOPIC,
        spoolDir,
        DataSize.ofMegabytes(8),
        DataSize.ofMegabytes(1),
        Duration.ofSeconds(3),
        Duration.ofMillis(300),
        Duration.ofMillis(200));
  }

  static UsageEvent event(String tenant, int i) {
    return UsageEvent.newBuilder()
        .setRequestId("req-" + i)
        .setTenantId(tenant)
        .setKeyId("key-1")
        .setModel("glm-4")
        .setPromptTokens(10 + i)
        .setCompletionTokens(i)
        .setFinishReason("stop")
        .setWorkerId("w1")
        .setStartTimeUnixMs(1)
        .setEndTimeUnixMs(2)
        .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
        .build();
  }

  static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, int expected) {
    return TestKafka.readUntil(bootstrap, TOPIC, seen -> seen.size() >= expected);
  }

  static List<String> requestIds(List<ConsumerRecord<String, byte[]>> records) {
    return records.stream()
        .map(
            r -> {
              try {
                return UsageEvent.parseFrom(r.value()).getRequestId();
              } catch (IOException e) {
                throw new AssertionError(e);
              }
            })
        .toList();
  }

  private static double count(MeterRegistry m, String name) {
    return m.get(name).counter().count();
  }

  static void awaitTrue(String what, java.util.function.BooleanSupplier c)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(50);
    }
  }

  @Test
  void publishesKeyedByTenantWithTraceContext() throws Exception {
    EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
    broker.afterPropertiesSet();
    try {
      MeterRegistry meters = new SimpleMeterRegistry();
      try (KafkaUsagePublisher p =
          KafkaUsagePublisher.create(props(broker.getBrokersAsString()), "", meters)) {
        for (int i = 0; i < 20; i++) {
          p.publish(event("tenant-a", i));
        }
      } // close flushes
      assertThat(count(meters, "glm.usage.events.published")).isEqualTo(20);
      assertThat(count(meters, "glm.usage.events.spooled")).isZero();
      List<ConsumerRecord<String, byte[]>> got = readAll(broker.getBrokersAsString(), 20);
      assertThat(requestIds(got)).hasSize(20).doesNotHaveDuplicates();
      assertThat(got)
          .allSatisfy(
              r -> {
                assertThat(r.key()).isEqualTo("tenant-a");
                assertThat(
                        new String(
                            r.headers().lastHeader("traceparent").value(),
                            StandardCharsets.US_ASCII))
                    .matches("00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01");
              });
    } finally {
      broker.destroy();
    }
  }

  /**
   * Kafka is unreachable while the worker serves, and the worker restarts in between: events go to
   * the spool, survive the restart, and all arrive, in order, once the broker can be reached.
   */
  @Test
  void eventsPublishedWhileKafkaIsAwaySurviveARestartAndArriveInOrder() throws Exception {
    EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
    broker.afterPropertiesSet();
    try (TcpGate gate = new TcpGate(broker.getBrokersAsString())) {
      String bootstrap = gate.address(); // refused until the gate opens
      MeterRegistry first = new SimpleMeterRegistry();
      try (KafkaUsagePublisher p = KafkaUsagePublisher.create(props(bootstrap), "", first)) {
        for (int i = 0; i < 30; i++) {
          p.publish(event("tenant-b", i));
        }
        assertThat(p.spooledPending()).isEqualTo(30); // written ahead before publish() returned
        awaitTrue("backlog mode", p::isSpooling);
      }
      assertThat(count(first, "glm.usage.events.spooled")).isEqualTo(30);
      assertThat(count(first, "glm.usage.events.published")).isZero();

      MeterRegistry second = new SimpleMeterRegistry(); // the restarted worker
      try (KafkaUsagePublisher p = KafkaUsagePublisher.create(props(bootstrap), "", second)) {
        assertThat(p.spooledPending()).isEqualTo(30);
        for (int i = 30; i < 50; i++) {
          p.publish(event("tenant-b", i)); // a backlog exists: these queue behind it
        }
        assertThat(second.get("glm.usage.spool.bytes").gauge().value()).isPositive();
        gate.open();
        awaitTrue("spool drained", () -> p.spooledPending() == 0);
        List<ConsumerRecord<String, byte[]>> got = readAll(broker.getBrokersAsString(), 50);
        List<String> ids = requestIds(got).stream().distinct().toList();
        assertThat(ids)
            .containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 50).mapToObj(i -> "req-" + i).toList());
        assertThat(count(second, "glm.usage.events.resent")).isGreaterThanOrEqualTo(50);
        assertThat(second.get("glm.usage.spool.bytes").gauge().value()).isZero();
        // and the publisher is back on the direct path
        p.publish(event("tenant-b", 50));
        awaitTrue("direct publish acked", () -> count(second, "glm.usage.events.published") == 1);
      }
    } finally {
      broker.destroy();
    }
  }

  /**
   * The broker goes away while the worker keeps publishing: events already handed to the producer
   * time out into the spool, later ones queue behind them, and all arrive, in order, at the broker
   * that comes back (a fresh one, reached through the same bootstrap address).
   */
  @Test
  void eventsPublishedWhileTheBrokerIsDownArriveWhenItIsBack() throws Exception {
    EmbeddedKafkaKraftBroker first = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
    first.afterPropertiesSet();
    EmbeddedKafkaKraftBroker second = null;
    try (TcpGate gate = new TcpGate(first.getBrokersAsString())) {
      gate.open();
      MeterRegistry meters = new SimpleMeterRegistry();
      try (KafkaUsagePublisher p = KafkaUsagePublisher.create(props(gate.address()), "", meters)) {
        for (int i = 0; i < 20; i++) {
          p.publish(event("tenant-c", i));
        }
        // (on a loaded machine the very first metadata fetch may exceed max-block: then the first
        // events take the spool path, which is fine; all 20 must be acknowledged either way)
        awaitTrue(
            "20 acked",
            () ->
                count(meters, "glm.usage.events.published")
                            + count(meters, "glm.usage.events.resent")
                        >= 20
                    && p.spooledPending() == 0);
        assertThat(requestIds(readAll(first.getBrokersAsString(), 20)).stream().distinct())
            .hasSize(20);
        double spooledBefore = count(meters, "glm.usage.events.spooled");

        first.destroy(); // the broker stops while the worker keeps serving
        for (int i = 20; i < 40; i++) {
          p.publish(event("tenant-c", i));
        }
        // written ahead at once; held back as a backlog once the producer gives up on them
        assertThat(p.spooledPending()).isEqualTo(20);
        awaitTrue("backlog mode", p::isSpooling);
        assertThat(count(meters, "glm.usage.events.spooled") - spooledBefore).isEqualTo(20);
        assertThat(meters.get("glm.usage.spool.bytes").gauge().value()).isPositive();

        second = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
        second.afterPropertiesSet();
        gate.retarget(second.getBrokersAsString());
        awaitTrue("spool drained", () -> p.spooledPending() == 0);
        List<String> ids =
            requestIds(readAll(second.getBrokersAsString(), 20)).stream().distinct().toList();
        assertThat(ids)
            .containsExactlyElementsOf(
                java.util.stream.IntStream.range(20, 40).mapToObj(i -> "req-" + i).toList());
        assertThat(count(meters, "glm.usage.events.resent")).isGreaterThanOrEqualTo(20);
      }
    } finally {
      if (second != null) {
        second.destroy();
      }
    }
  }

  /**
   * Kafka is away long enough for the spool to fill: further events are refused, counted in
   * glm.usage.events.dropped and logged as USAGE EVENT LOST; what the spool holds is kept.
   */
  @Test
  void aFullSpoolRefusesEventsLoudly() throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(KafkaUsagePublisher.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
        new ch.qos.logback.core.read.ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try (TcpGate gate = new TcpGate("127.0.0.1:1")) { // never opened: connection refused
      MeterRegistry meters = new SimpleMeterRegistry();
      UsageProperties tiny =
          new UsageProperties(
              gate.address(),
              TOPIC,
              spoolDir,
              DataSize.ofKilobytes(1),
              DataSize.ofKilobytes(1),
              Duration.ofSeconds(3),
              Duration.ofMillis(100),
              Duration.ofMillis(200));
      try (KafkaUsagePublisher p = KafkaUsagePublisher.create(tiny, "", meters)) {
        for (int i = 0; i < 40; i++) {
          p.publish(event("tenant-d", i));
        }
        long kept = p.spooledPending();
        double dropped = count(meters, "glm.usage.events.dropped");
        assertThat(kept).isBetween(5L, 30L);
        assertThat(dropped).isEqualTo(40 - kept);
        awaitTrue("backlog mode", p::isSpooling);
        assertThat(count(meters, "glm.usage.events.spooled")).isEqualTo(kept);
      }
      assertThat(logs.list)
          .filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR)
          .hasSizeGreaterThanOrEqualTo(1)
          .allSatisfy(
              e ->
                  assertThat(e.getFormattedMessage())
                      .contains("USAGE EVENT LOST", "spool-max-size"));
    } finally {
      logger.detachAppender(logs);
    }
    try (UsageSpool again = new UsageSpool(spoolDir, 1024, 1024)) {
      assertThat(again.pendingRecords()).as("what the full spool held survives").isPositive();
    }
  }
}
