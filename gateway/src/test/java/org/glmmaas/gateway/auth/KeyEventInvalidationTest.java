package org.glmmaas.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.support.FakeAuthService;
import org.glmmaas.proto.auth.v1.KeyEvent;
import org.glmmaas.proto.auth.v1.Principal;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * A cached principal is served without asking auth-service again, until a KeyEvent on the compacted
 * topic glm.key-events.v1 drops it: then a revoked key is refused at once.
 */
class KeyEventInvalidationTest {

  @Test
  void aRevokedKeyIsRefusedAsSoonAsItsEventArrives() throws Exception {
    EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1, "glm.key-events.v1");
    broker.afterPropertiesSet();
    try (FakeAuthService auth = new FakeAuthService()) {
      String key =
          auth.addKey(
              "kev", "secretev", Principal.newBuilder().setTenantId("tev").setCacheTtlMs(600_000));
      ManagedChannel ch =
          Grpc.newChannelBuilder(auth.address(), InsecureChannelCredentials.create()).build();
      CachingAuthClient a =
          new CachingAuthClient(
              ch, Duration.ofSeconds(5), Duration.ofMinutes(10), 1000, System::nanoTime);
      assertThat(a.authenticate("Bearer " + key).block().getTenantId()).isEqualTo("tev");
      assertThat(a.authenticate("Bearer " + key).block().getTenantId()).isEqualTo("tev");
      assertThat(auth.calls.get()).isEqualTo(1); // the second came from the cache

      auth.removeKey("kev");
      try (TopicTailer tailer =
              new TopicTailer(
                      broker.getBrokersAsString(),
                      "glm.key-events.v1",
                      v -> {
                        try {
                          a.invalidate(KeyEvent.parseFrom(v).getKeyId(), null);
                        } catch (Exception e) {
                          throw new IllegalArgumentException(e);
                        }
                      })
                  .start();
          KafkaProducer<String, byte[]> p =
              new KafkaProducer<>(
                  Map.of("bootstrap.servers", broker.getBrokersAsString()),
                  new StringSerializer(),
                  new ByteArraySerializer())) {
        p.send(
                new ProducerRecord<>(
                    "glm.key-events.v1",
                    "kev",
                    KeyEvent.newBuilder()
                        .setKind(KeyEvent.Kind.REVOKED)
                        .setKeyId("kev")
                        .setTenantId("tev")
                        .build()
                        .toByteArray()))
            .get();
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (a.size() > 0 && System.nanoTime() < end) {
          Thread.sleep(20);
        }
        assertThat(a.size()).isZero();
        GlmException e =
            (GlmException)
                org.assertj.core.api.Assertions.catchThrowable(
                    () -> a.authenticate("Bearer " + key).block());
        assertThat(e.error().bigModelCode()).isEqualTo("1002");
      }
      ch.shutdownNow();
    } finally {
      broker.destroy();
      // the embedded broker publishes itself in spring.kafka.bootstrap-servers and leaves it:
      // a gateway a later test starts in this JVM must not inherit a dead Kafka
      System.clearProperty("spring.kafka.bootstrap-servers");
    }
  }
}
