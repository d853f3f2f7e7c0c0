package org.glmmaas.gateway.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A batch create whose Kafka is down answers "unavailable" instead of hanging: before, it waited up
 * to 35 s for the start-up topic attempt and then max.block.ms (10 s) for every line in turn — 45 s
 * for a one-line batch, 8 minutes for 50 lines. The time limits below only guard against that hang
 * (several times what the fixed code needs); nothing here measures speed.
 */
class BatchQueueTest {

  /** A loopback address where nothing listens. */
  static String deadAddress() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + s.getLocalPort();
    }
  }

  static List<BatchQueue.Item> items(int n) {
    List<BatchQueue.Item> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      items.add(new BatchQueue.Item("t1", "batch_1", "line-" + i, i * 100L, 100));
    }
    return items;
  }

  @Test
  void kafkaDownSinceStartFailsTheEnqueueInsteadOfWaitingForTheTopicAttempt() throws Exception {
    try (BatchQueue q = new BatchQueue(deadAddress(), 2)) {
      Throwable t =
          assertTimeoutPreemptively(
              Duration.ofSeconds(25), () -> catchThrowable(() -> q.enqueue(items(50))));
      assertThat(t).isInstanceOf(BatchQueue.Unreachable.class).hasMessageContaining("Kafka");
    }
  }

  @Test
  void kafkaDownAfterTheTopicAttemptStopsAtTheFirstLineKafkaDidNotTake() throws Exception {
    try (BatchQueue q = new BatchQueue(deadAddress(), 2, false)) {
      Throwable t =
          assertTimeoutPreemptively(
              Duration.ofSeconds(40), () -> catchThrowable(() -> q.enqueue(items(50))));
      assertThat(t)
          .isInstanceOf(BatchQueue.Unreachable.class)
          .hasMessageContaining("batch_1/line-0");
    }
  }
}
