package org.glmmaas.worker.api;

import io.grpc.ServerBuilder;
import java.util.List;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.grpc.GrpcServerCustomizer;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.glmmaas.worker.lifecycle.WorkerRuntime;

/**
 * The worker's gRPC server: InferenceService on the platform's {@link GrpcServer} ({@code
 * glm.worker.grpc.*}), with grpc.health.v1 following the worker state (SERVING only when READY)
 * rather than the server's lifecycle.
 */
public final class WorkerGrpcServer implements AutoCloseable {

  private final GrpcServer server;
  private final LoadReporter loadReporter;

  /** A Netty server on {@code glm.worker.grpc.*}. */
  public WorkerGrpcServer(WorkerRuntime runtime) {
    this(runtime, List.of(), null);
  }

  /** A Netty server on {@code glm.worker.grpc.*} with the application's customizers. */
  public WorkerGrpcServer(WorkerRuntime runtime, List<? extends GrpcServerCustomizer> customizers) {
    this(runtime, customizers, null);
  }

  /** A server on the given transport (in-process in tests). */
  public WorkerGrpcServer(WorkerRuntime runtime, ServerBuilder<?> transport) {
    this(runtime, List.of(), transport);
  }

  private WorkerGrpcServer(
      WorkerRuntime runtime,
      List<? extends GrpcServerCustomizer> customizers,
      ServerBuilder<?> transport) {
    this.loadReporter = new LoadReporter(runtime, runtime.properties().loadReport().minInterval());
    GrpcServer.Builder builder =
        GrpcServer.builder("inference-worker", runtime.properties().grpc())
            .service(new InferenceGrpcService(runtime, loadReporter), new TraceContext())
            .customizers(customizers)
            .manualHealth();
    if (transport != null) {
      builder.transport(transport);
    }
    this.server = builder.build();
    runtime.addStateListener(this::onState);
  }

  private void onState(WorkerState state) {
    server.setServing(state == WorkerState.READY);
  }

  public void start() {
    server.start();
  }

  /** The bound port (useful with port 0); -1 on a test transport. */
  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    loadReporter.close();
    server.stop();
  }
}
