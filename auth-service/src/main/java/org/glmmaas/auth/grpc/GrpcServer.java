package org.glmmaas.auth.grpc;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.glmmaas.auth.AuthProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The plain grpc-java server on {@code glm.auth.grpc.port} (netty-shaded), calls on virtual
 * threads, with {@code grpc.health.v1} health. Started after the database and the caches, stopped
 * first.
 */
@Component
public class GrpcServer implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);

  private final AuthGrpcService service;
  private final AuthProperties.Grpc config;
  private final HealthStatusManager health = new HealthStatusManager();
  private Server server;
  private ExecutorService executor;

  public GrpcServer(AuthGrpcService service, AuthProperties props) {
    this.service = service;
    this.config = props.grpc();
  }

  @Override
  public synchronized void start() {
    executor = Executors.newVirtualThreadPerTaskExecutor();
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()))
            .executor(executor)
            .addService(service)
            .addService(health.getHealthService())
            .maxInboundMessageSize(64 * 1024)
            .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot start gRPC server on " + config.host() + ":" + config.port(), e);
    }
    health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    health.setStatus(
        "glm.auth.v1.AuthService", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    log.info("gRPC AuthService listening on {}:{}", config.host(), server.getPort());
  }

  @Override
  public synchronized void stop() {
    if (server == null) {
      return;
    }
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    executor.shutdown();
    server = null;
  }

  @Override
  public synchronized boolean isRunning() {
    return server != null;
  }

  /** The bound port (useful with {@code glm.auth.grpc.port=0}). */
  public synchronized int port() {
    if (server == null) {
      throw new IllegalStateException("gRPC server is not running");
    }
    return server.getPort();
  }
}
