package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's PostgreSQL and Kafka keep their state in the data folder across a restart. */
class InfrastructureRestartTest {

  @TempDir Path data;

  @Test
  void postgresKeepsServiceDatabasesAndRowsAcrossARestart() throws Exception {
    Path dir = data.resolve("postgres");
    try (Postgres pg = Postgres.start(dir)) {
      assertThat(pg.fresh).isTrue();
      try (Connection c = DriverManager.getConnection(pg.jdbcUrl("glm_billing"));
          Statement s = c.createStatement()) {
        s.execute("create table ledger(amount bigint)");
        s.execute("insert into ledger values (42)");
      }
    }
    try (Postgres pg = Postgres.start(dir)) {
      assertThat(pg.fresh).isFalse();
      try (Connection c = DriverManager.getConnection(pg.jdbcUrl("glm_billing"));
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("select amount from ledger")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).isEqualTo(42);
      }
      try (Connection c = DriverManager.getConnection(pg.jdbcUrl("glm_auth"))) {
        assertThat(c.isValid(2)).isTrue();
      }
    }
  }

  @Test
  void kafkaKeepsTopicsAndRecordsAcrossARestart() throws Exception {
    Path dir = data.resolve("kafka");
    List<String> resets = new ArrayList<>();
    try (KafkaBroker broker = KafkaBroker.start(dir, resets::add)) {
      assertThat(broker.reused).isFalse();
      assertThat(broker.topics())
          .contains(
              "glm.usage.v1", "glm.usage.v1.dlt", "glm.account-status.v1", "glm.key-events.v1");
      try (KafkaProducer<String, String> p =
          new KafkaProducer<>(
              Map.of(
                  ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  broker.bootstrapServers(),
                  ProducerConfig.ACKS_CONFIG,
                  "all"),
              new StringSerializer(),
              new StringSerializer())) {
        p.send(new ProducerRecord<>("glm.account-status.v1", "tenant-1", "SUSPENDED")).get();
      }
    }
    try (KafkaBroker broker = KafkaBroker.start(dir, resets::add)) {
      assertThat(resets).as("the folder was reused, not reset").isEmpty();
      assertThat(broker.reused).isTrue();
      Properties props = new Properties();
      props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      props.put(ConsumerConfig.GROUP_ID_CONFIG, "restart-test");
      props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      try (KafkaConsumer<String, String> c =
          new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
        c.subscribe(List.of("glm.account-status.v1"));
        List<String> values = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (values.isEmpty() && System.nanoTime() < deadline) {
          c.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.key() + "=" + r.value()));
        }
        assertThat(values).containsExactly("tenant-1=SUSPENDED");
      }
    }
    assertThat(Files.readString(dir.resolve("cluster.id"))).isNotBlank();
  }
}
