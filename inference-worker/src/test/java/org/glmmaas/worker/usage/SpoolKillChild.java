package org.glmmaas.worker.usage;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.util.unit.DataSize;

/**
 * The worker side of {@link UsagePublisherKillTest}, run in its own JVM: publishes events {@code
 * req-0..req-(half-1)}, says {@code HALF}, waits for a line on stdin, publishes the rest, says
 * {@code ALL}, then keeps running (a worker with events in flight) until it is killed. Every
 * publish() that returned is reported on stdout as {@code PUBLISHED <request id>}.
 */
public final class SpoolKillChild {

  private SpoolKillChild() {}

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    Path spoolDir = Path.of(args[1]);
    int total = Integer.parseInt(args[2]);
    UsageProperties props =
        new UsageProperties(
            bootstrap,
            KafkaUsagePublisherTest.TOPIC,
            spoolDir,
            DataSize.ofMegabytes(8),
            DataSize.ofMegabytes(1),
            Duration.ofSeconds(60),
            Duration.ofSeconds(5),
            Duration.ofMillis(200));
    KafkaUsagePublisher p = KafkaUsagePublisher.create(props, "", new SimpleMeterRegistry());
    BufferedReader stdin =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (int i = 0; i < total; i++) {
      if (i == total / 2) {
        System.out.println("HALF");
        System.out.flush();
        stdin.readLine();
      }
      p.publish(KafkaUsagePublisherTest.event("tenant-k" + (i % 3), i));
      System.out.println("PUBLISHED req-" + i);
      System.out.flush();
    }
    System.out.println("ALL");
    System.out.flush();
    Thread.sleep(Duration.ofMinutes(10)); // serving on, until kill -9
  }
}
