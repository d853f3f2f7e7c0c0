package org.glmmaas.platform.grpc;

import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import java.util.List;

/**
 * The hook through which cross-cutting transport policy reaches every service's {@link GrpcServer}
 * without touching the services: declare a bean of this type (services pass their {@code
 * ObjectProvider<GrpcServerCustomizer>} to {@link GrpcServer.Builder#customizers}) and it applies
 * to every server the application runs.
 *
 * <p>Meant for: TLS or mutual TLS ({@link #credentials}, e.g. {@code TlsServerCredentials} with
 * {@code ClientAuth.REQUIRE}), a client-identity interceptor that reads the peer certificate from
 * {@code Grpc.TRANSPORT_ATTR_SSL_SESSION} ({@link #interceptors}), and transport limits not covered
 * by {@link GrpcServerProperties} ({@link #configure}). Several customizers apply in their bean
 * order; each sees the previous one's credentials.
 */
public interface GrpcServerCustomizer {

  /**
   * The credentials the server listens with. The default is plaintext ({@code
   * InsecureServerCredentials}); return TLS credentials to require TLS. Not consulted when a test
   * supplies its own transport ({@link GrpcServer.Builder#transport}).
   *
   * @param server the server's name (the service, e.g. "auth-service")
   */
  default ServerCredentials credentials(String server, ServerCredentials current) {
    return current;
  }

  /**
   * Interceptors that run on every call of every business service of the server, before the
   * service's own interceptors (grpc.health.v1 is left open for probes). The first in the list runs
   * first.
   */
  default List<ServerInterceptor> interceptors(String server) {
    return List.of();
  }

  /**
   * True when this customizer makes the server prove who calls (mutual TLS, a signed service
   * identity). A server that would listen beyond loopback refuses to start without one.
   */
  default boolean authenticatesCallers() {
    return false;
  }

  /** Last say over the transport builder, after {@link GrpcServerProperties} were applied. */
  default void configure(String server, ServerBuilder<?> builder) {}
}
