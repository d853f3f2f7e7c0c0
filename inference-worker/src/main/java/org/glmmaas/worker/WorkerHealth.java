package org.glmmaas.worker;

import java.time.Duration;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.scheduler.EngineLoop;
import org.glmmaas.worker.scheduler.LoadSnapshot;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** Readiness (READY and not saturated) and liveness (the engine loop advances) of the worker. */
final class WorkerHealth {

  private WorkerHealth() {}

  static HealthIndicator readiness(WorkerRuntime runtime) {
    return () -> {
      WorkerState state = runtime.state();
      Health.Builder b = state == WorkerState.READY ? Health.up() : Health.outOfService();
      b.withDetail("state", state.name());
      if (runtime.failure() != null) {
        b.withDetail("reason", runtime.failure());
      }
      EngineLoop loop = runtime.loop();
      if (loop != null) {
        LoadSnapshot s = loop.snapshot();
        b.withDetail("running", s.numRunning()).withDetail("waiting", s.numWaiting());
        if (state == WorkerState.READY
            && s.numWaiting() >= runtime.properties().scheduler().maxWaiting()) {
          b.outOfService().withDetail("reason", "saturated: the queue is full");
        }
      }
      var embedding = runtime.embeddingLoop();
      if (embedding != null) {
        b.withDetail("waiting", embedding.numWaiting());
        if (state == WorkerState.READY
            && embedding.numWaiting() >= runtime.properties().scheduler().maxWaiting()) {
          b.outOfService().withDetail("reason", "saturated: the queue is full");
        }
      }
      return b.build();
    };
  }

  static HealthIndicator liveness(WorkerRuntime runtime, Duration stallLimit) {
    return () -> {
      EngineLoop loop = runtime.loop();
      if (loop == null || runtime.state() == WorkerState.STOPPED) {
        return Health.up().withDetail("engineLoop", "not started").build();
      }
      if (!loop.isAlive()) {
        return Health.down().withDetail("engineLoop", "thread died").build();
      }
      long ageNanos = System.nanoTime() - loop.snapshot().lastProgressNanos();
      Health.Builder b = ageNanos > stallLimit.toNanos() ? Health.down() : Health.up();
      return b.withDetail("lastProgressMs", ageNanos / 1_000_000)
          .withDetail("steps", loop.snapshot().numSteps())
          .build();
    };
  }
}
