package org.glmmaas.worker.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.glmmaas.platform.test.TestKafka;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.util.unit.DataSize;

/**
 * kill -9 of a worker whose events the producer still holds unacknowledged (the broker stalls): the
 * write-ahead spool has them, and the next publisher on the same spool delivers every one.
 */
class UsagePublisherKillTest {

  static final int TOTAL = 300;

  @TempDir Path spoolDir;

  @Test
  void everyPublishedEventReachesKafkaAfterTheWorkerIsKilledWithEventsInFlight() throws Exception {
    EmbeddedKafkaKraftBroker broker =
        new EmbeddedKafkaKraftBroker(1, 3, KafkaUsagePublisherTest.TOPIC);
    broker.afterPropertiesSet();
    Process child = null;
    try (TcpGate gate = new TcpGate(broker.getBrokersAsString())) {
      gate.open();
      child = startChild(gate.address());
      List<String> lines = new CopyOnWriteArrayList<>();
      BufferedReader out =
          new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  for (String l; (l = out.readLine()) != null; ) {
                    lines.add(l);
                  }
                } catch (IOException ignored) {
                  // the child was killed
                }
              });
      Process c = child;
      KafkaUsagePublisherTest.awaitTrue(
          "first half published", () -> lines.contains("HALF") || !c.isAlive());
      assertThat(child.isAlive()).as("child JVM running").isTrue();
      gate.pause(); // the broker stalls: the second half stays unacknowledged in the producer
      Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
      in.write("go\n");
      in.flush();
      KafkaUsagePublisherTest.awaitTrue(
          "all published", () -> lines.contains("ALL") || !c.isAlive());
      child.destroyForcibly(); // kill -9, mid-run: the producer holds events it never got acks for
      child.waitFor();
      Set<String> published =
          lines.stream()
              .filter(l -> l.startsWith("PUBLISHED "))
              .map(l -> l.substring(10))
              .collect(Collectors.toSet());
      assertThat(published).hasSize(TOTAL);
      gate.resume();

      MeterRegistry meters = new SimpleMeterRegistry(); // the restarted worker
      try (KafkaUsagePublisher p = KafkaUsagePublisher.create(props(gate.address()), "", meters)) {
        assertThat(p.spooledPending())
            .as("unacknowledged at the kill")
            .isGreaterThanOrEqualTo(TOTAL / 2);
        KafkaUsagePublisherTest.awaitTrue(
            "spool re-sent", () -> p.spooledPending() == 0 && !p.isSpooling());
        assertThat(meters.get("glm.usage.events.resent").counter().count())
            .isGreaterThanOrEqualTo(TOTAL / 2);
      }
      Set<String> delivered = distinctRequestIds(broker.getBrokersAsString(), TOTAL);
      assertThat(delivered)
          .hasSize(TOTAL)
          .isEqualTo(published)
          .isEqualTo(
              IntStream.range(0, TOTAL).mapToObj(i -> "req-" + i).collect(Collectors.toSet()));
    } finally {
      if (child != null) {
        child.destroyForcibly();
      }
      broker.destroy();
    }
  }

  private UsageProperties props(String bootstrap) {
    return new UsageProperties(
        bootstrap,
        KafkaUsagePublisherTest.TOPIC,
        spoolDir,
        DataSize.ofMegabytes(8),
        DataSize.ofMegabytes(1),
        Duration.ofSeconds(10),
        Duration.ofSeconds(2),
        Duration.ofMillis(200));
  }

  private Process startChild(String bootstrap) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    return new ProcessBuilder(
            java,
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-Xmx256m",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            cp,
            SpoolKillChild.class.getName(),
            bootstrap,
            spoolDir.toString(),
            String.valueOf(TOTAL))
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  /** Reads the topic until {@code expected} distinct request ids came, then one more second. */
  private static Set<String> distinctRequestIds(String bootstrap, int expected) throws IOException {
    Set<String> ids = new HashSet<>();
    try (KafkaConsumer<String, byte[]> c = TestKafka.consumerFromStart(bootstrap)) {
      c.subscribe(List.of(KafkaUsagePublisherTest.TOPIC));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      long settle = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, settle)) {
        for (var r : c.poll(Duration.ofMillis(200))) {
          ids.add(UsageEvent.parseFrom(r.value()).getRequestId());
        }
        if (ids.size() >= expected && settle == Long.MAX_VALUE) {
          settle = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        }
      }
    }
    return ids;
  }
}
