package org.glmmaas.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node Kafka cluster (KRaft, combined broker+controller) inside the launcher's JVM,
 * with its log under {@code <data>/kafka} so topics and offsets survive a restart.
 */
final class KafkaBroker implements AutoCloseable {

  /**
   * Topics the platform uses (docs/architecture.md): usage events, their dead letters, and two
   * compacted state topics.
   */
  static final List<NewTopic> TOPICS =
      List.of(
          new NewTopic("glm.usage.v1", 3, (short) 1),
          new NewTopic("glm.usage.v1.dlt", 1, (short) 1),
          new NewTopic("glm.account-status.v1", 3, (short) 1)
              .configs(
                  Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
          new NewTopic("glm.key-events.v1", 3, (short) 1)
              .configs(
                  Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));

  private final KafkaClusterTestKit cluster;
  final boolean reused;

  private KafkaBroker(KafkaClusterTestKit cluster, boolean reused) {
    this.cluster = cluster;
    this.reused = reused;
  }

  /**
   * Starts the broker on {@code dir}. A folder written by an earlier run is reused (same cluster
   * id); if that fails the folder is moved aside and a fresh cluster is made, and {@code onReset}
   * is told why.
   */
  static KafkaBroker start(Path dir, java.util.function.Consumer<String> onReset) throws Exception {
    Path idFile = dir.resolve("cluster.id");
    if (Files.isRegularFile(idFile)) {
      try {
        return start(dir, Files.readString(idFile).trim(), false);
      } catch (Exception e) {
        Path aside = dir.resolveSibling("kafka.broken-" + System.currentTimeMillis());
        Files.move(dir, aside);
        onReset.accept(
            "could not reuse "
                + dir
                + " ("
                + e.getMessage()
                + "); moved to "
                + aside.getFileName()
                + ", starting with empty topics");
      }
    }
    Files.createDirectories(dir);
    String clusterId = Uuid.randomUuid().toString();
    KafkaBroker broker = start(dir, clusterId, true);
    Files.writeString(idFile, clusterId);
    return broker;
  }

  private static KafkaBroker start(Path dir, String clusterId, boolean format) throws Exception {
    TestKitNodes nodes =
        new TestKitNodes.Builder()
            .setClusterId(clusterId)
            .setCombined(true)
            .setNumBrokerNodes(1)
            .setNumControllerNodes(1)
            .setBaseDirectory(dir)
            .build();
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(nodes)
            .setDeleteOnClose(false)
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("transaction.state.log.min.isr", "1")
            .setConfigProp("group.initial.rebalance.delay.ms", "0")
            .setConfigProp("auto.create.topics.enable", "true")
            .build();
    try {
      if (format) {
        cluster.format();
      }
      cluster.startup();
      cluster.waitForReadyBrokers();
    } catch (Exception e) {
      closeQuietly(cluster);
      throw e;
    }
    KafkaBroker broker = new KafkaBroker(cluster, !format);
    broker.createTopics();
    return broker;
  }

  String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  private void createTopics() throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
      var existing = admin.listTopics().names().get();
      List<NewTopic> missing = TOPICS.stream().filter(t -> !existing.contains(t.name())).toList();
      if (!missing.isEmpty()) {
        try {
          admin.createTopics(missing).all().get();
        } catch (java.util.concurrent.ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    }
  }

  List<String> topics() throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
      return admin.listTopics().names().get().stream().sorted().toList();
    }
  }

  @Override
  public void close() {
    closeQuietly(cluster);
  }

  private static void closeQuietly(KafkaClusterTestKit cluster) {
    try {
      cluster.close();
    } catch (Exception e) {
      // shutting down: nothing more to do
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
