package org.glmmaas.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Clock;
import java.time.Duration;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.worker.api.WorkerGrpcServer;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.scheduler.SchedulerObserver;
import org.glmmaas.worker.usage.UsageSink;

/**
 * A worker runtime on the native engine, served over in-process gRPC, for the serving tests:
 * started and ready, or the test fails with the runtime's failure; {@link #close()} stops the
 * channel, the runtime and the server.
 */
final class InProcessWorker implements AutoCloseable {

  final WorkerRuntime runtime;
  final WorkerGrpcServer server;
  final ManagedChannel channel;
  final InferenceServiceGrpc.InferenceServiceBlockingStub stub;

  private InProcessWorker(WorkerProperties props, UsageSink usage) {
    runtime =
        new WorkerRuntime(
            props, new NativeModelLoader(), usage, SchedulerObserver.NONE, Clock.systemUTC());
    String name = InProcessServerBuilder.generateName();
    server = new WorkerGrpcServer(runtime, InProcessServerBuilder.forName(name));
    channel = InProcessChannelBuilder.forName(name).build();
    stub = InferenceServiceGrpc.newBlockingStub(channel);
  }

  static InProcessWorker start(WorkerProperties props, UsageSink usage) {
    InProcessWorker w = new InProcessWorker(props, usage);
    try {
      w.server.start();
      w.runtime.start();
      assertThat(w.runtime.isReady()).as(String.valueOf(w.runtime.failure())).isTrue();
      return w;
    } catch (RuntimeException | AssertionError e) {
      w.close();
      throw e;
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
    runtime.drainAndStop(Duration.ZERO);
    server.close();
  }
}
