package org.glmmaas.launcher;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
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
      bindToLoopback(cluster);
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

  /**
   * The test kit pre-binds each listener's port on the wildcard address (every interface) before
   * the broker starts, and hands that socket to the broker; listeners configured on "localhost" do
   * not change it. Swap each pre-bound socket for one on 127.0.0.1, same port, so the broker and
   * its controller are reachable from this machine only.
   */
  @SuppressWarnings("unchecked")
  static void bindToLoopback(KafkaClusterTestKit cluster) throws IOException {
    Map<Integer, Map<String, ServerSocketChannel>> sockets;
    try {
      Field managerField = KafkaClusterTestKit.class.getDeclaredField("socketFactoryManager");
      managerField.setAccessible(true);
      Object manager = managerField.get(cluster);
      Field socketsField = manager.getClass().getDeclaredField("sockets");
      socketsField.setAccessible(true);
      sockets = (Map<Integer, Map<String, ServerSocketChannel>>) socketsField.get(manager);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IOException(
          "cannot bind the Kafka listeners to 127.0.0.1 (Kafka test kit changed?): " + e, e);
    }
    synchronized (sockets) {
      for (Map<String, ServerSocketChannel> byListener : sockets.values()) {
        for (Map.Entry<String, ServerSocketChannel> e : byListener.entrySet()) {
          ServerSocketChannel wildcard = e.getValue();
          int port = ((InetSocketAddress) wildcard.getLocalAddress()).getPort();
          wildcard.close();
          // as Kafka's own server socket factory opens them: non-blocking, for its selector
          ServerSocketChannel loopback = ServerSocketChannel.open();
          loopback.configureBlocking(false);
          loopback.socket().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
          e.setValue(loopback);
        }
      }
    }
  }

  /** 127.0.0.1:port (the test kit says "localhost", which may resolve to ::1 first). */
  String bootstrapServers() {
    return cluster.bootstrapServers().replace("localhost:", "127.0.0.1:");
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
