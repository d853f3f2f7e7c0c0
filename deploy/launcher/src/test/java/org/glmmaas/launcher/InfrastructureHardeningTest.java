package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's Kafka and PostgreSQL listen on 127.0.0.1 only (Kafka's test kit bound its broker
 * and controller on every interface).
 */
class InfrastructureHardeningTest {

  @TempDir Path data;

  @Test
  void kafkaAndPostgresListenOnLoopbackOnly() throws Exception {
    assumeTrue(ProcListeners.available(), "needs Linux /proc");
    try (Postgres pg = Postgres.start(data.resolve("postgres"));
        KafkaBroker kafka = KafkaBroker.start(data.resolve("kafka"), why -> {})) {
      long postmaster = Postgres.postmasterPid(data.resolve("postgres"));
      assertThat(postmaster).isPositive();
      List<ProcListeners.Listener> listeners =
          ProcListeners.of(Set.of(ProcessHandle.current().pid(), postmaster));
      List<Integer> ports = listeners.stream().map(ProcListeners.Listener::port).toList();
      assertThat(ports)
          .as("listeners found: %s", listeners)
          .contains(pg.port(), Integer.parseInt(kafka.bootstrapServers().split(":")[1]));
      assertThat(listeners.stream().filter(l -> !l.loopback()).toList())
          .as("listeners outside loopback")
          .isEmpty();
    }
  }
}
