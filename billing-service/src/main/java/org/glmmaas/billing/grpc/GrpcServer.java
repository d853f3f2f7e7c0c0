package org.glmmaas.billing.grpc;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.glmmaas.billing.BillingProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/** Plain grpc-java server (netty-shaded, virtual threads) on {@code glm.billing.grpc.port}. */
@Component
public class GrpcServer implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);

  private final BillingGrpcService service;
  private final BillingProperties props;
  private final HealthStatusManager health = new HealthStatusManager();
  private ExecutorService executor;
  private volatile Server server;

  public GrpcServer(BillingGrpcService service, BillingProperties props) {
    this.service = service;
    this.props = props;
  }

  @Override
  public void start() {
    if (!props.grpc().enabled()) {
      return;
    }
    executor = Executors.newVirtualThreadPerTaskExecutor();
    try {
      server =
          Grpc.newServerBuilderForPort(props.grpc().port(), InsecureServerCredentials.create())
              .executor(executor)
              .addService(service)
              .addService(health.getHealthService())
              .build()
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start gRPC on port " + props.grpc().port(), e);
    }
    log.info("BillingService gRPC listening on port {}", server.getPort());
  }

  @Override
  public void stop() {
    Server s = server;
    if (s == null) {
      return;
    }
    health.enterTerminalState();
    s.shutdown();
    try {
      if (!s.awaitTermination(10, TimeUnit.SECONDS)) {
        s.shutdownNow();
      }
    } catch (InterruptedException e) {
      s.shutdownNow();
      Thread.currentThread().interrupt();
    }
    executor.close();
    server = null;
  }

  @Override
  public boolean isRunning() {
    return server != null;
  }

  /** The bound port (useful with port 0); -1 when not running. */
  public int port() {
    Server s = server;
    return s == null ? -1 : s.getPort();
  }
}
