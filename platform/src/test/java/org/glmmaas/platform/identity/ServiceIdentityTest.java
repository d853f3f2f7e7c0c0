package org.glmmaas.platform.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.junit.jupiter.api.Test;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * Every internal gRPC hop proves its caller: a call without a valid service identity is refused
 * with UNAUTHENTICATED before the service runs (before, the worker and billing served anyone who
 * could reach the port).
 */
class ServiceIdentityTest {

  static final String SECRET = "k3q9vJ2mX8pL5rT1wZ7yB4nC6dF0gH2jK8sA";
  static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

  static ServiceIdentity at(String secret, String caller, Instant now) {
    return new ServiceIdentity(secret, caller, Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void aTokenProvesTheCallerForOneMethodForAMinute() {
    ServiceIdentity gateway = at(SECRET, "gateway", NOW);
    String token = gateway.token("glm.billing.v1.Billing/Reserve");
    assertThat(token).startsWith("v1.gateway.").doesNotContain(SECRET);

    assertThat(at(SECRET, "billing-service", NOW).verify(token, "glm.billing.v1.Billing/Reserve"))
        .isEqualTo("gateway");
    assertThat(
            at(SECRET, "billing-service", NOW.plusSeconds(59))
                .verify(token, "glm.billing.v1.Billing/Reserve"))
        .isEqualTo("gateway");

    assertThatThrownBy(
            () ->
                at(SECRET, "billing-service", NOW.plusSeconds(61))
                    .verify(token, "glm.billing.v1.Billing/Reserve"))
        .hasMessageContaining("expired");
    assertThatThrownBy(
            () ->
                at(SECRET, "billing-service", NOW)
                    .verify(token, "glm.billing.v1.Billing/GetBalance"))
        .as("made for another method")
        .hasMessageContaining("not signed");
    assertThatThrownBy(
            () ->
                at(SECRET.replace('k', 'K'), "billing-service", NOW)
                    .verify(token, "glm.billing.v1.Billing/Reserve"))
        .as("another deployment's secret")
        .hasMessageContaining("not signed");
    assertThatThrownBy(
            () ->
                at(SECRET, "billing-service", NOW)
                    .verify(
                        token.replace("v1.gateway.", "v1.worker."),
                        "glm.billing.v1.Billing/Reserve"))
        .as("a caller name changed")
        .hasMessageContaining("not signed");
    assertThatThrownBy(() -> at(SECRET, "x", NOW).verify(null, "m"))
        .hasMessage("no service identity");
  }

  /** A clock the test moves. */
  static final class MovingClock extends Clock {
    volatile Instant now = NOW;

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /**
   * Tokens are signed once per method and second, and a verifier remembers the last token it
   * accepted per method: neither shortcut may outlive a token's minute, cross methods or let a
   * forged token through.
   */
  @Test
  void theSignedAndAcceptedTokenCachesNeverOutliveATokenOrCrossMethods() {
    MovingClock gwClock = new MovingClock();
    MovingClock billingClock = new MovingClock();
    ServiceIdentity gateway = new ServiceIdentity(SECRET, "gateway", gwClock);
    ServiceIdentity billing = new ServiceIdentity(SECRET, "billing-service", billingClock);
    String reserve = "glm.billing.v1.Billing/Reserve";
    String t1 = gateway.token(reserve);
    assertThat(gateway.token(reserve)).as("same second: the same token").isEqualTo(t1);
    assertThat(gateway.token("glm.billing.v1.Billing/Release")).isNotEqualTo(t1);
    gwClock.now = NOW.plusSeconds(1);
    String t2 = gateway.token(reserve);
    assertThat(t2).as("next second: a new token").isNotEqualTo(t1);
    assertThat(at(SECRET, "x", NOW.plusSeconds(1)).verify(t2, reserve)).isEqualTo("gateway");

    assertThat(billing.verify(t1, reserve)).isEqualTo("gateway");
    assertThat(billing.verify(t1, reserve)).as("again, from the cache").isEqualTo("gateway");
    assertThatThrownBy(() -> billing.verify(t1, "glm.billing.v1.Billing/GetBalance"))
        .as("the accepted token, for another method")
        .hasMessageContaining("not signed");
    assertThatThrownBy(() -> billing.verify(t1.substring(0, t1.length() - 2) + "AA", reserve))
        .as("a forged signature after a genuine token was accepted")
        .hasMessageContaining("not signed");
    billingClock.now = NOW.plusSeconds(61);
    assertThatThrownBy(() -> billing.verify(t1, reserve))
        .as("the cached token past its minute")
        .hasMessageContaining("expired");
  }

  @Test
  void shortOrPlaceholderSecretsAreRefused() {
    assertThatThrownBy(() -> at("too-short-secret", "gateway", NOW))
        .hasMessageContaining("glm.service-identity.secret must be at least 32 characters");
    assertThatThrownBy(() -> at("change-me-service-identity-secret-please", "gateway", NOW))
        .hasMessageContaining("glm.service-identity.secret is a placeholder");
    assertThatThrownBy(() -> at("  ", "gateway", NOW))
        .hasMessageContaining("glm.service-identity.secret is empty");
  }

  @Test
  void aServerWithTheSecretRefusesCallsWithoutIdentityAndServesSignedOnes() throws Exception {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources()
        .addFirst(
            new MapPropertySource(
                "test",
                Map.of(
                    ServiceIdentity.PROPERTY,
                    SECRET,
                    "spring.application.name",
                    "billing-service")));
    GrpcServer server =
        GrpcServer.builder("billing-service", GrpcServerProperties.onPort(0))
            .service(echo())
            .customizers(List.of(new ServiceIdentityConfiguration().serviceIdentityCustomizer(env)))
            .build();
    server.start();
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
    try {
      assertThatThrownBy(() -> call(channel, "free inference?"))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(e.getStatus().getDescription()).isEqualTo("no service identity");
              });

      ServiceIdentity stranger =
          new ServiceIdentity(SECRET.replace('k', 'K'), "gateway", Clock.systemUTC());
      assertThatThrownBy(
              () ->
                  call(
                      ClientInterceptors.intercept(
                          channel, ServiceIdentityClientInterceptor.of(stranger)),
                      "x"))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

      ServiceIdentity gateway = new ServiceIdentity(SECRET, "gateway", Clock.systemUTC());
      assertThat(
              call(
                  ClientInterceptors.intercept(
                      channel, ServiceIdentityClientInterceptor.of(gateway)),
                  "signed"))
          .isEqualTo("signed");

      // probes stay open
      assertThat(
              HealthGrpc.newBlockingStub(channel)
                  .check(HealthCheckRequest.getDefaultInstance())
                  .getStatus()
                  .name())
          .isEqualTo("SERVING");
    } finally {
      channel.shutdownNow();
      server.stop();
    }
  }

  @Test
  void theProcessWideIdentityFollowsTheEnvironmentOfTheStartingService() {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources()
        .addFirst(
            new MapPropertySource(
                "test",
                Map.of(ServiceIdentity.PROPERTY, SECRET, "spring.application.name", "gateway")));
    new ServiceIdentityEnvironment().postProcessEnvironment(env, null);
    try {
      assertThat(ServiceIdentity.processWide().caller()).isEqualTo("gateway");
    } finally {
      new ServiceIdentityEnvironment().postProcessEnvironment(new StandardEnvironment(), null);
    }
    assertThat(ServiceIdentity.processWide()).isNull();
  }

  static final MethodDescriptor.Marshaller<String> TEXT =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return new ByteArrayInputStream(value.getBytes());
        }

        @Override
        public String parse(InputStream stream) {
          try {
            return new String(stream.readAllBytes());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  static final MethodDescriptor<String, String> ECHO =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Echo/Echo")
          .setRequestMarshaller(TEXT)
          .setResponseMarshaller(TEXT)
          .build();

  static ServerServiceDefinition echo() {
    return ServerServiceDefinition.builder("test.Echo")
        .addMethod(
            ECHO,
            ServerCalls.asyncUnaryCall(
                (req, out) -> {
                  out.onNext(req);
                  out.onCompleted();
                }))
        .build();
  }

  static String call(io.grpc.Channel c, String req) {
    return ClientCalls.blockingUnaryCall(
        c, ECHO, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), req);
  }
}
