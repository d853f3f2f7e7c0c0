package org.glmmaas.platform.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.util.unit.DataSize;

class GrpcServerTest {

  static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  /** Echoes the request; a request starting with 'w' waits for {@link #release} first. */
  static final MethodDescriptor<byte[], byte[]> ECHO =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Echo/Echo")
          .setRequestMarshaller(BYTES)
          .setResponseMarshaller(BYTES)
          .build();

  final CountDownLatch started = new CountDownLatch(1);
  final CountDownLatch release = new CountDownLatch(1);
  final List<GrpcServer> servers = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();

  ServerServiceDefinition echo() {
    return ServerServiceDefinition.builder("test.Echo")
        .addMethod(
            ECHO,
            ServerCalls.asyncUnaryCall(
                (req, out) -> {
                  if (req.length > 0 && req[0] == 'w') {
                    started.countDown();
                    try {
                      release.await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                  out.onNext(req);
                  out.onCompleted();
                }))
        .build();
  }

  GrpcServer started(GrpcServer.Builder b) {
    GrpcServer s = b.build();
    servers.add(s);
    s.start();
    return s;
  }

  ManagedChannel channel(String host, int port) {
    ManagedChannel c =
        Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create()).build();
    channels.add(c);
    return c;
  }

  static byte[] call(ManagedChannel c, byte[] req) {
    return ClientCalls.blockingUnaryCall(
        c, ECHO, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), req);
  }

  static GrpcServerProperties props(Map<String, String> values) {
    return new Binder(new MapConfigurationPropertySource(values))
        .bindOrCreate("glm.test.grpc", GrpcServerProperties.class);
  }

  @AfterEach
  void close() {
    release.countDown();
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(GrpcServer::stop);
  }

  @Test
  void bindsLoopbackByDefaultAndAnswersThere() throws Exception {
    GrpcServer server =
        started(GrpcServer.builder("svc", GrpcServerProperties.onPort(0)).service(echo()));
    assertThat(server.properties().host()).isEqualTo("127.0.0.1");
    assertThat(server.port()).isPositive();
    assertThat(call(channel("127.0.0.1", server.port()), "hi".getBytes()))
        .isEqualTo("hi".getBytes());

    InetAddress external = nonLoopbackAddress();
    assumeThat(external).as("a non-loopback IPv4 address on this machine").isNotNull();
    assertThatThrownBy(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(external, server.port()), 2000);
              }
            })
        .as("nothing listens on %s", external)
        .isInstanceOf(IOException.class);
  }

  @Test
  void bindsWhereConfigured() throws Exception {
    InetAddress external = nonLoopbackAddress();
    assumeThat(external).as("a non-loopback IPv4 address on this machine").isNotNull();
    GrpcServer server =
        started(
            GrpcServer.builder(
                    "svc",
                    props(Map.of("glm.test.grpc.host", "0.0.0.0", "glm.test.grpc.port", "0")))
                .service(echo())
                .customizers(List.of(CHECKS_CALLERS)));
    assertThat(call(channel(external.getHostAddress(), server.port()), "x".getBytes()))
        .isEqualTo("x".getBytes());
  }

  /** Stands for a customizer that authenticates callers (it checks nothing: only the flag). */
  static final GrpcServerCustomizer CHECKS_CALLERS =
      new GrpcServerCustomizer() {
        @Override
        public boolean authenticatesCallers() {
          return true;
        }
      };

  @Test
  void refusesToListenBeyondLoopbackWithoutCallerAuthentication() {
    GrpcServer server =
        GrpcServer.builder(
                "billing-service",
                props(Map.of("glm.test.grpc.host", "0.0.0.0", "glm.test.grpc.port", "0")))
            .service(echo())
            .build();
    servers.add(server);
    assertThatThrownBy(server::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("billing-service would listen on 0.0.0.0")
        .hasMessageContaining("glm.service-identity.secret");
    assertThat(server.isRunning()).isFalse();
  }

  @Test
  void refusesMessagesOverTheConfiguredLimit() {
    GrpcServer server =
        started(
            GrpcServer.builder(
                    "svc",
                    props(
                        Map.of(
                            "glm.test.grpc.port", "0",
                            "glm.test.grpc.max-inbound-message-size", "2KB")))
                .service(echo()));
    ManagedChannel c = channel("127.0.0.1", server.port());
    assertThat(call(c, new byte[1500])).hasSize(1500);
    assertThatThrownBy(() -> call(c, new byte[4096]))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
  }

  @Test
  void customizersSetCredentialsAndInterceptorsOfEveryServiceBeforeTheServicesOwn() {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    List<String> credentialsAskedFor = new ArrayList<>();
    GrpcServerCustomizer customizer =
        new GrpcServerCustomizer() {
          @Override
          public ServerCredentials credentials(String server, ServerCredentials current) {
            credentialsAskedFor.add(server);
            return InsecureServerCredentials.create();
          }

          @Override
          public List<ServerInterceptor> interceptors(String server) {
            return List.of(recording(seen, "identity"), recording(seen, "audit"));
          }
        };
    GrpcServer server =
        started(
            GrpcServer.builder("auth-service", GrpcServerProperties.onPort(0))
                .customizers(List.of(customizer))
                .service(echo(), recording(seen, "trace")));
    call(channel("127.0.0.1", server.port()), "a".getBytes());
    assertThat(credentialsAskedFor).containsExactly("auth-service");
    assertThat(seen).containsExactly("identity", "audit", "trace");
  }

  static ServerInterceptor recording(List<String> seen, String name) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(
          io.grpc.ServerCall<Q, R> call,
          io.grpc.Metadata headers,
          io.grpc.ServerCallHandler<Q, R> next) {
        seen.add(name);
        return next.startCall(call, headers);
      }
    };
  }

  @Test
  void healthIsServingWhileRunningOrFollowsTheOwnerWhenManual() {
    GrpcServer auto =
        started(GrpcServer.builder("a", GrpcServerProperties.onPort(0)).service(echo()));
    var health = HealthGrpc.newBlockingStub(channel("127.0.0.1", auto.port()));
    assertThat(
            health
                .check(HealthCheckRequest.newBuilder().setService("test.Echo").build())
                .getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);

    GrpcServer manual =
        started(
            GrpcServer.builder("b", GrpcServerProperties.onPort(0)).service(echo()).manualHealth());
    var health2 = HealthGrpc.newBlockingStub(channel("127.0.0.1", manual.port()));
    assertThat(
            health2
                .check(HealthCheckRequest.newBuilder().setService("test.Echo").build())
                .getStatus())
        .isEqualTo(ServingStatus.NOT_SERVING);
    manual.setServing(true);
    assertThat(
            health2
                .check(HealthCheckRequest.newBuilder().setService("test.Echo").build())
                .getStatus())
        .isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void stopLetsInFlightCallsFinishWithinTheGrace() throws Exception {
    GrpcServer server =
        started(
            GrpcServer.builder(
                    "svc",
                    props(Map.of("glm.test.grpc.port", "0", "glm.test.grpc.shutdown-grace", "20s")))
                .service(echo()));
    ManagedChannel c = channel("127.0.0.1", server.port());
    CompletableFuture<byte[]> inFlight =
        CompletableFuture.supplyAsync(() -> call(c, "wait".getBytes()));
    assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::stop);
    Thread.sleep(200);
    assertThat(stopping).as("stop waits for the call in flight").isNotDone();
    release.countDown();
    assertThat(inFlight.get(20, TimeUnit.SECONDS)).isEqualTo("wait".getBytes());
    stopping.get(20, TimeUnit.SECONDS);
    assertThat(server.isRunning()).isFalse();
    assertThatThrownBy(() -> call(c, "late".getBytes()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void startsAgainAfterStop() {
    // Spring stops the contexts it caches between test classes and starts them again when reused
    GrpcServer server =
        started(GrpcServer.builder("svc", GrpcServerProperties.onPort(0)).service(echo()));
    server.stop();
    assertThat(server.port()).isEqualTo(-1);
    server.start();
    assertThat(server.isRunning()).isTrue();
    var health = HealthGrpc.newBlockingStub(channel("127.0.0.1", server.port()));
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(call(channel("127.0.0.1", server.port()), "again".getBytes()))
        .isEqualTo("again".getBytes());
  }

  @Test
  void stopCancelsCallsStillRunningAfterTheGrace() throws Exception {
    GrpcServer server =
        started(
            GrpcServer.builder(
                    "svc",
                    props(
                        Map.of("glm.test.grpc.port", "0", "glm.test.grpc.shutdown-grace", "300ms")))
                .service(echo()));
    ManagedChannel c = channel("127.0.0.1", server.port());
    CompletableFuture<byte[]> stuck =
        CompletableFuture.supplyAsync(() -> call(c, "wait".getBytes()));
    assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
    long t0 = System.nanoTime();
    server.stop();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    assertThatThrownBy(() -> stuck.get(20, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aDisabledServerNeverBinds() {
    GrpcServer server =
        started(
            GrpcServer.builder(
                    "svc",
                    props(Map.of("glm.test.grpc.port", "0", "glm.test.grpc.enabled", "false")))
                .service(echo()));
    assertThat(server.isRunning()).isFalse();
    assertThat(server.port()).isEqualTo(-1);
  }

  @Test
  void propertiesBindWithDefaultsAndRefuseNonsense() {
    GrpcServerProperties d = props(Map.of()).withDefaultPort(9081);
    assertThat(d.enabled()).isTrue();
    assertThat(d.port()).isEqualTo(9081);
    assertThat(d.host()).isEqualTo("127.0.0.1");
    assertThat(d.maxInboundMessageSize()).isEqualTo(DataSize.ofMegabytes(4));
    assertThat(d.shutdownGrace()).isLessThan(Duration.ofSeconds(10));
    assertThat(props(Map.of("glm.test.grpc.port", "7")).withDefaultPort(9081).port()).isEqualTo(7);
    assertThatThrownBy(() -> props(Map.of("glm.test.grpc.port", "70000")))
        .hasRootCauseMessage("grpc.port must be 0..65535, was 70000");
    assertThatThrownBy(() -> props(Map.of("glm.test.grpc.keepalive-time", "0s")))
        .hasRootCauseMessage("grpc.keepalive-time must be positive, was PT0S");
    assertThatThrownBy(() -> props(Map.of("glm.test.grpc.max-inbound-message-size", "10B")))
        .hasRootCauseMessage("grpc.max-inbound-message-size must be 1KB..2GB, was 10B");
    assertThatThrownBy(() -> GrpcServer.builder("svc", props(Map.of())).build())
        .isInstanceOf(IllegalStateException.class);
  }

  /** A non-loopback IPv4 address of an interface that is up, or null. */
  static InetAddress nonLoopbackAddress() throws SocketException {
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp() || ni.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
          return a;
        }
      }
    }
    return null;
  }
}
