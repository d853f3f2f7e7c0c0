package org.glmmaas.worker.api;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's gRPC server: InferenceService and grpc.health.v1, whose status follows the worker
 * state (SERVING only when READY). Calls run on virtual threads.
 */
public final class WorkerGrpcServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkerGrpcServer.class);

  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final LoadReporter loadReporter;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  /** A Netty server on {@code glm.worker.grpc.port}. */
  public WorkerGrpcServer(WorkerRuntime runtime) {
    this(
        runtime,
        Grpc.newServerBuilderForPort(
            runtime.properties().grpc().port(), InsecureServerCredentials.create()));
  }

  /** A server from the given builder (in-process in tests). */
  public WorkerGrpcServer(WorkerRuntime runtime, ServerBuilder<?> builder) {
    this.loadReporter = new LoadReporter(runtime, runtime.properties().loadReport().minInterval());
    InferenceGrpcService service = new InferenceGrpcService(runtime, loadReporter);
    this.server =
        builder
            .executor(executor)
            .addService(ServerInterceptors.intercept(service, new TraceContext()))
            .addService(health.getHealthService())
            .build();
    runtime.addStateListener(this::onState);
  }

  private void onState(WorkerState state) {
    ServingStatus status =
        state == WorkerState.READY ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
    health.setStatus(InferenceServiceGrpc.SERVICE_NAME, status);
    if (state == WorkerState.STOPPED) {
      health.enterTerminalState();
    }
  }

  public void start() {
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the gRPC server: " + e.getMessage(), e);
    }
    log.info("gRPC InferenceService listening on port {}", server.getPort());
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    loadReporter.close();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    executor.shutdownNow();
  }
}
