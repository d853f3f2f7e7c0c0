package org.glmmaas.platform.grpc;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.springframework.util.unit.DataSize;

/**
 * The one policy of every service's gRPC server, bound under {@code glm.<service>.grpc.*} (a
 * service nests this record in its own properties and supplies only its default port). Unset values
 * take the defaults below.
 *
 * @param enabled false: the server is never started (default true)
 * @param host the address to bind; default {@code 127.0.0.1}, so a process listens only where its
 *     callers are. Containers and pods that are called from elsewhere set {@code 0.0.0.0}
 *     explicitly (deploy/compose.yaml, the Helm chart).
 * @param port TCP port; 0 picks a free one. No default here: the service supplies it ({@link
 *     #withDefaultPort}).
 * @param maxInboundMessageSize largest request message accepted (default 4MB, gRPC's own); a larger
 *     one fails with RESOURCE_EXHAUSTED before the service sees it
 * @param keepaliveTime the server pings a connection idle for this long (default 60s), so a peer
 *     that vanished without a FIN is noticed and its streams cancelled
 * @param keepaliveTimeout how long a ping may go unanswered before the connection is closed
 *     (default 20s)
 * @param permitKeepaliveTime the most frequent client keepalive ping allowed (default 10s); a
 *     client pinging faster is sent GOAWAY. Pings without active calls are permitted.
 * @param shutdownGrace on stop, how long in-flight calls may run after the server stops taking new
 *     ones before they are cancelled (default 3s; callers retry elsewhere)
 */
public record GrpcServerProperties(
    Boolean enabled,
    String host,
    Integer port,
    DataSize maxInboundMessageSize,
    Duration keepaliveTime,
    Duration keepaliveTimeout,
    Duration permitKeepaliveTime,
    Duration shutdownGrace) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final DataSize DEFAULT_MAX_INBOUND_MESSAGE_SIZE = DataSize.ofMegabytes(4);
  public static final Duration DEFAULT_KEEPALIVE_TIME = Duration.ofSeconds(60);
  public static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(20);
  public static final Duration DEFAULT_PERMIT_KEEPALIVE_TIME = Duration.ofSeconds(10);
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(3);

  public GrpcServerProperties {
    enabled = enabled == null || enabled;
    host = host == null || host.isBlank() ? DEFAULT_HOST : host.strip();
    if (port != null && (port < 0 || port > 65535)) {
      throw new IllegalArgumentException("grpc.port must be 0..65535, was " + port);
    }
    maxInboundMessageSize =
        maxInboundMessageSize == null ? DEFAULT_MAX_INBOUND_MESSAGE_SIZE : maxInboundMessageSize;
    if (maxInboundMessageSize.toBytes() < 1024
        || maxInboundMessageSize.toBytes() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "grpc.max-inbound-message-size must be 1KB..2GB, was " + maxInboundMessageSize);
    }
    keepaliveTime = positive(keepaliveTime, DEFAULT_KEEPALIVE_TIME, "keepalive-time");
    keepaliveTimeout = positive(keepaliveTimeout, DEFAULT_KEEPALIVE_TIMEOUT, "keepalive-timeout");
    permitKeepaliveTime =
        positive(permitKeepaliveTime, DEFAULT_PERMIT_KEEPALIVE_TIME, "permit-keepalive-time");
    shutdownGrace = shutdownGrace == null ? DEFAULT_SHUTDOWN_GRACE : shutdownGrace;
    if (shutdownGrace.isNegative()) {
      throw new IllegalArgumentException("grpc.shutdown-grace must not be negative");
    }
  }

  /** Every default, on the given port. */
  public static GrpcServerProperties onPort(int port) {
    return new GrpcServerProperties(null, null, port, null, null, null, null, null);
  }

  /** These settings with {@code port} filled in where none was configured. */
  public GrpcServerProperties withDefaultPort(int defaultPort) {
    return port != null
        ? this
        : new GrpcServerProperties(
            enabled,
            host,
            defaultPort,
            maxInboundMessageSize,
            keepaliveTime,
            keepaliveTimeout,
            permitKeepaliveTime,
            shutdownGrace);
  }

  /** The configured port; fails when neither the configuration nor the service gave one. */
  public int requiredPort() {
    if (port == null) {
      throw new IllegalStateException("no gRPC port configured and no default given");
    }
    return port;
  }

  /** The socket address to bind. */
  public InetSocketAddress address() {
    return new InetSocketAddress(host, requiredPort());
  }

  private static Duration positive(Duration value, Duration dflt, String name) {
    if (value == null) {
      return dflt;
    }
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException("grpc." + name + " must be positive, was " + value);
    }
    return value;
  }
}
