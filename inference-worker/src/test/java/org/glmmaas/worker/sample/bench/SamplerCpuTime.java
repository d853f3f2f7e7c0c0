package org.glmmaas.worker.sample.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Sampling time per step at vocabulary 151,552 in CPU time of the sampling thread (the {@link
 * SamplerBenchmark} setups), for a shared machine where wall-clock figures measure the neighbours:
 * {@code java -cp ... org.glmmaas.worker.sample.bench.SamplerCpuTime}.
 */
public final class SamplerCpuTime {

  private SamplerCpuTime() {}

  public static void main(String[] args) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    for (String mode :
        new String[] {
          "greedy",
          "temperature0.8-topP0.9",
          "temperature0.8-topK50-topP0.9",
          "temperature1-penalties"
        }) {
      SamplerBenchmark b = new SamplerBenchmark();
      b.mode = mode;
      b.setup();
      for (int i = 0; i < 300; i++) {
        b.sample(); // warm-up
      }
      int steps = 500;
      long cpu0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      for (int i = 0; i < steps; i++) {
        b.sample();
      }
      double cpuUs = (threads.getCurrentThreadCpuTime() - cpu0) / 1e3 / steps;
      double wallUs = (System.nanoTime() - wall0) / 1e3 / steps;
      System.out.printf("%-31s %8.1f us/step CPU (%8.1f us/step wall)%n", mode, cpuUs, wallUs);
    }
  }
}
