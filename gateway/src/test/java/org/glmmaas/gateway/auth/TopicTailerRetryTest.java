package org.glmmaas.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * A tailer started while Kafka is down keeps trying: once the broker is up, records reach the
 * handler (before, the first failed metadata call stopped it for good: a gateway started before
 * Kafka never saw a key revocation or an account status).
 */
class TopicTailerRetryTest {

  @Test
  void aTailerStartedBeforeKafkaReadsOnceKafkaIsUp() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> seen = new CopyOnWriteArrayList<>();
    try (TopicTailer tailer =
        new TopicTailer(
                "127.0.0.1:" + port,
                "glm.tailer-retry",
                v -> seen.add(new String(v, StandardCharsets.UTF_8)))
            .start()) {
      Thread.sleep(7_000); // past the first metadata timeout (5 s)
      EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1, "glm.tailer-retry");
      broker.afterPropertiesSet();
      // Kafka "comes up" at the address the tailer was given: a relay there to the broker (whose
      // metadata then sends the client to the broker itself)
      String[] target = broker.getBrokersAsString().split(",")[0].split(":");
      try (Relay relay = new Relay(port, target[0], Integer.parseInt(target[target.length - 1]));
          KafkaProducer<String, byte[]> p =
              new KafkaProducer<>(
                  Map.of("bootstrap.servers", broker.getBrokersAsString()),
                  new StringSerializer(),
                  new ByteArraySerializer())) {
        p.send(
                new ProducerRecord<>(
                    "glm.tailer-retry", "k", "hello".getBytes(StandardCharsets.UTF_8)))
            .get();
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (seen.isEmpty() && System.nanoTime() < end) {
          Thread.sleep(100);
        }
        assertThat(seen).containsExactly("hello");
      } finally {
        broker.destroy();
        // the embedded broker publishes itself in spring.kafka.bootstrap-servers and leaves it:
        // a gateway a later test starts in this JVM must not inherit a dead Kafka
        System.clearProperty("spring.kafka.bootstrap-servers");
      }
    }
  }

  /** Forwards every connection to 127.0.0.1:{@code port} to {@code host:targetPort}. */
  static final class Relay implements AutoCloseable {
    private final java.net.ServerSocket server;

    Relay(int port, String host, int targetPort) throws java.io.IOException {
      server = new java.net.ServerSocket(port, 50, java.net.InetAddress.getLoopbackAddress());
      Thread.ofVirtual()
          .start(
              () -> {
                while (!server.isClosed()) {
                  try {
                    java.net.Socket in = server.accept();
                    java.net.Socket out = new java.net.Socket(host, targetPort);
                    pump(in, out);
                    pump(out, in);
                  } catch (java.io.IOException e) {
                    return;
                  }
                }
              });
    }

    private static void pump(java.net.Socket from, java.net.Socket to) {
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  from.getInputStream().transferTo(to.getOutputStream());
                } catch (java.io.IOException e) {
                  // closed
                } finally {
                  try {
                    to.close();
                    from.close();
                  } catch (java.io.IOException e) {
                    // closed
                  }
                }
              });
    }

    @Override
    public void close() throws java.io.IOException {
      server.close();
    }
  }
}
