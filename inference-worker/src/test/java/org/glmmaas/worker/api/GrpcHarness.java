package org.glmmaas.worker.api;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.scheduler.FakeEngine;
import org.glmmaas.worker.scheduler.SchedulerObserver;
import org.springframework.util.unit.DataSize;

/** A worker on a FakeEngine behind an in-process gRPC server. */
class GrpcHarness implements AutoCloseable {

  final FakeModelLoader loader;
  final List<UsageEvent> usage = new CopyOnWriteArrayList<>();
  final WorkerRuntime runtime;
  final WorkerGrpcServer server;
  final ManagedChannel channel;
  final InferenceServiceGrpc.InferenceServiceBlockingStub blocking;
  final InferenceServiceGrpc.InferenceServiceStub async;

  GrpcHarness(String model, int numBlocks, int maxWaiting) {
    this(model, numBlocks, maxWaiting, true);
  }

  GrpcHarness(String model, int numBlocks, int maxWaiting, boolean start) {
    this(model, numBlocks, maxWaiting, start, new FakeModelLoader());
  }

  GrpcHarness(String model, int numBlocks, int maxWaiting, boolean start, FakeModelLoader loader) {
    this.loader = loader;
    WorkerProperties props =
        new WorkerProperties(
            "worker-1",
            model,
            "",
            "cpu",
            2,
            "",
            Duration.ofSeconds(5),
            GrpcServerProperties.onPort(0),
            new WorkerProperties.Scheduler(8, 256, 512, maxWaiting),
            new WorkerProperties.KvCache(16, DataSize.ofKilobytes(numBlocks), "f16", true),
            new WorkerProperties.LoadReport(Duration.ofMillis(50)));
    runtime =
        new WorkerRuntime(props, loader, usage::add, SchedulerObserver.NONE, Clock.systemUTC());
    String name = InProcessServerBuilder.generateName();
    server = new WorkerGrpcServer(runtime, InProcessServerBuilder.forName(name));
    server.start();
    if (start) {
      runtime.start();
    }
    channel = InProcessChannelBuilder.forName(name).build();
    blocking = InferenceServiceGrpc.newBlockingStub(channel);
    async = InferenceServiceGrpc.newStub(channel);
  }

  FakeEngine engine() {
    return loader.engine;
  }

  int freeBlocks() {
    return runtime.loop().snapshot().numKvBlocksFree();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    runtime.drainAndStop(Duration.ZERO);
    server.close();
  }
}
