package org.glmmaas.worker;

import org.glmmaas.worker.api.WorkerGrpcServer;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.springframework.context.SmartLifecycle;

/**
 * Spring's handle on the worker: starts the gRPC server (health answers NOT_SERVING during load),
 * then loads and warms the model; on context close (SIGTERM) drains until {@code
 * glm.worker.drain-timeout}, aborts the rest, and stops the server. Runs in the last phase, so HTTP
 * probes are up before loading and still up while draining.
 */
public final class WorkerLifecycle implements SmartLifecycle {

  private final WorkerRuntime runtime;
  private final WorkerGrpcServer server;
  private volatile boolean running;

  public WorkerLifecycle(WorkerRuntime runtime, WorkerGrpcServer server) {
    this.runtime = runtime;
    this.server = server;
  }

  @Override
  public void start() {
    server.start();
    running = true;
    runtime.start();
  }

  @Override
  public void stop() {
    runtime.drainAndStop(runtime.properties().drainTimeout());
    server.close();
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE;
  }
}
