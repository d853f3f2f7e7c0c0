package org.glmmaas.platform.grpc;

import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Every service's gRPC server, with one policy: bind address, message limit, keepalive and shutdown
 * grace from {@link GrpcServerProperties}; calls on virtual threads; {@code grpc.health.v1} health;
 * credentials and interceptors from {@link GrpcServerCustomizer}s.
 *
 * <p>A Spring {@link SmartLifecycle} in the last phase (started after the database and caches,
 * stopped first, before the HTTP server drains) when declared as a bean; a plain object with {@link
 * #start}/{@link #stop} elsewhere (the worker starts it itself, before loading its model, and the
 * CLI runs one without Spring).
 *
 * <p>Health: by default every service is SERVING from start until stop. With {@link
 * Builder#manualHealth} they start NOT_SERVING and the owner sets them with {@link #setServing}. On
 * stop health turns NOT_SERVING, new calls are refused, in-flight calls get {@code shutdown-grace}
 * to finish and are then cancelled.
 */
public final class GrpcServer implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);

  private final String name;
  private final GrpcServerProperties props;
  private final List<ServerServiceDefinition> services;
  private final List<GrpcServerCustomizer> customizers;
  private final ServerBuilder<?> transport;
  private final boolean manualHealth;
  private HealthStatusManager health;
  private volatile boolean serving;
  private Server server;
  private ExecutorService executor;
  private boolean transportUsed;

  private GrpcServer(Builder b) {
    this.name = b.name;
    this.props = b.props;
    this.customizers = List.copyOf(b.customizers);
    this.transport = b.transport;
    this.manualHealth = b.manualHealth;
    List<ServerInterceptor> common = new ArrayList<>();
    for (GrpcServerCustomizer c : customizers) {
      common.addAll(c.interceptors(name));
    }
    List<ServerServiceDefinition> wrapped = new ArrayList<>();
    for (Registered r : b.services) {
      List<ServerInterceptor> chain = new ArrayList<>(common);
      chain.addAll(r.interceptors);
      // ServerInterceptors.intercept calls the last interceptor first: reverse to run in list order
      Collections.reverse(chain);
      wrapped.add(ServerInterceptors.intercept(r.service, chain));
    }
    this.services = List.copyOf(wrapped);
  }

  /**
   * A server named after its service ("auth-service"), with the service's resolved settings ({@code
   * withDefaultPort} applied).
   */
  public static Builder builder(String name, GrpcServerProperties props) {
    return new Builder(name, props);
  }

  /**
   * Binds and starts serving; a no-op when disabled or already running. A stopped server starts
   * again on a fresh socket (Spring stops and restarts the contexts it caches between test
   * classes); one on a test transport starts once.
   */
  @Override
  public synchronized void start() {
    if (server != null || !props.enabled()) {
      return;
    }
    if (transport != null && transportUsed) {
      throw new IllegalStateException("the test transport of " + name + " was used already");
    }
    ServerBuilder<?> builder = transport != null ? transport : networkTransport();
    transportUsed = transport != null;
    health = new HealthStatusManager();
    publishHealth();
    executor = Executors.newVirtualThreadPerTaskExecutor();
    builder.executor(executor).maxInboundMessageSize((int) props.maxInboundMessageSize().toBytes());
    services.forEach(builder::addService);
    builder.addService(health.getHealthService());
    for (GrpcServerCustomizer c : customizers) {
      c.configure(name, builder);
    }
    Server s = builder.build();
    try {
      s.start();
    } catch (IOException e) {
      executor.close();
      executor = null;
      throw new UncheckedIOException(
          "cannot start the gRPC server of "
              + name
              + (transport != null ? "" : " on " + props.host() + ":" + props.port())
              + ": "
              + e.getMessage(),
          e);
    }
    server = s;
    log.info(
        "{} gRPC listening on {} ({} service(s))",
        name,
        transport != null ? "a test transport" : props.host() + ":" + s.getPort(),
        services.size());
  }

  private ServerBuilder<?> networkTransport() {
    InetSocketAddress address = props.address();
    if (!address.getAddress().isLoopbackAddress()
        && customizers.stream().noneMatch(GrpcServerCustomizer::authenticatesCallers)) {
      throw new IllegalStateException(
          "the gRPC server of "
              + name
              + " would listen on "
              + props.host()
              + ", beyond this machine, without checking who calls: set "
              + "glm.service-identity.secret (the same on every service of the deployment), or "
              + "bind 127.0.0.1");
    }
    ServerCredentials credentials = InsecureServerCredentials.create();
    for (GrpcServerCustomizer c : customizers) {
      credentials = Objects.requireNonNull(c.credentials(name, credentials), "credentials");
    }
    return NettyServerBuilder.forAddress(props.address(), credentials)
        .keepAliveTime(props.keepaliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(props.keepaliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveTime(props.permitKeepaliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveWithoutCalls(true);
  }

  /**
   * Health NOT_SERVING for good, no new calls, then {@code shutdown-grace} for the calls in flight
   * before they are cancelled.
   */
  @Override
  public synchronized void stop() {
    Server s = server;
    if (s == null) {
      return;
    }
    health.enterTerminalState();
    s.shutdown();
    try {
      if (!s.awaitTermination(props.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        log.info(
            "{} gRPC: calls still running after the {} grace are cancelled",
            name,
            props.shutdownGrace());
        s.shutdownNow();
        s.awaitTermination(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      s.shutdownNow();
      Thread.currentThread().interrupt();
    }
    executor.shutdownNow();
    executor = null;
    server = null;
  }

  @Override
  public synchronized boolean isRunning() {
    return server != null;
  }

  /** The bound port (the real one with port 0); -1 when not running or on a test transport. */
  public synchronized int port() {
    return server == null ? -1 : server.getPort();
  }

  /**
   * With {@code manualHealth}: the grpc.health.v1 status of the whole server ("") and of every
   * business service, kept across restarts. After {@link #stop} it stays NOT_SERVING.
   */
  public synchronized void setServing(boolean serving) {
    this.serving = serving;
    publishHealth();
  }

  private void publishHealth() {
    if (health == null) {
      return;
    }
    ServingStatus status =
        !manualHealth || serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
    for (ServerServiceDefinition s : services) {
      health.setStatus(s.getServiceDescriptor().getName(), status);
    }
  }

  public String name() {
    return name;
  }

  public GrpcServerProperties properties() {
    return props;
  }

  private record Registered(
      ServerServiceDefinition service, List<ServerInterceptor> interceptors) {}

  /** Collects the services, hooks and transport of one server. */
  public static final class Builder {
    private final String name;
    private final GrpcServerProperties props;
    private final List<Registered> services = new ArrayList<>();
    private final List<GrpcServerCustomizer> customizers = new ArrayList<>();
    private ServerBuilder<?> transport;
    private boolean manualHealth;

    private Builder(String name, GrpcServerProperties props) {
      this.name = Objects.requireNonNull(name, "name");
      this.props = Objects.requireNonNull(props, "props");
    }

    /** A service, with interceptors of its own (run after the customizers', in list order). */
    public Builder service(BindableService service, ServerInterceptor... interceptors) {
      return service(service.bindService(), interceptors);
    }

    public Builder service(ServerServiceDefinition service, ServerInterceptor... interceptors) {
      services.add(new Registered(service, List.of(interceptors)));
      return this;
    }

    /** The application's {@link GrpcServerCustomizer} beans, in order. */
    public Builder customizers(List<? extends GrpcServerCustomizer> list) {
      customizers.addAll(list);
      return this;
    }

    /**
     * Serves on this transport instead of a Netty socket (tests: {@code InProcessServerBuilder}).
     * Host, port, keepalive and credentials do not apply to it.
     */
    public Builder transport(ServerBuilder<?> builder) {
      this.transport = builder;
      return this;
    }

    /** Health starts NOT_SERVING and follows {@link GrpcServer#setServing}, not the lifecycle. */
    public Builder manualHealth() {
      this.manualHealth = true;
      return this;
    }

    public GrpcServer build() {
      if (transport == null) {
        props.requiredPort();
      }
      return new GrpcServer(this);
    }
  }
}
