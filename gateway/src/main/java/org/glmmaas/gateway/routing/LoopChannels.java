package org.glmmaas.gateway.routing;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import org.glmmaas.platform.identity.ServiceIdentityClientInterceptor;

/**
 * gRPC channels to one address, one per event loop of the gateway's HTTP server and running on that
 * loop: a call made on loop i goes out on channel i, so its request, the responses and what the
 * handler does with them stay on the thread that received the HTTP request. On a machine with few
 * cores every cross-thread hand-off is a wake-up that can wait for a core. Without loops (tests,
 * tools) there is one channel on gRPC's own transport threads; calls from threads that are not
 * loops use channel 0.
 */
public final class LoopChannels {

  /** The HTTP server's event loops and the socket channel type they take. */
  public record EventLoops(EventLoopGroup group, Class<? extends Channel> channelType) {}

  private final ManagedChannel[] channels;
  private final EventExecutor[] loops;

  private LoopChannels(List<ManagedChannel> channels, List<EventExecutor> loops) {
    this.channels = channels.toArray(ManagedChannel[]::new);
    this.loops = loops.toArray(EventExecutor[]::new);
  }

  /**
   * Plaintext channels to {@code address} ("host:port", IPv6 as "[addr]:port") with non-blocking
   * callbacks run on the transport thread, one per loop of {@code loops} (connecting at once), or a
   * single one when {@code loops} is null.
   *
   * @throws IllegalArgumentException when the address is not host:port
   */
  public static LoopChannels connect(String address, EventLoops loops, int maxInboundMessageBytes) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("'" + address + "' is not host:port");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1); // IPv6 literal
    }
    int port = Integer.parseInt(address.substring(colon + 1));
    if (loops == null) {
      ManagedChannel ch =
          tuned(
                  Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create()),
                  maxInboundMessageBytes)
              .build();
      return new LoopChannels(List.of(ch), List.of());
    }
    List<ManagedChannel> chs = new ArrayList<>();
    List<EventExecutor> ls = new ArrayList<>();
    for (EventExecutor loop : loops.group()) {
      ls.add(loop);
      chs.add(
          tuned(
                  NettyChannelBuilder.forAddress(host, port)
                      .usePlaintext()
                      .eventLoopGroup((EventLoop) loop)
                      .channelType(loops.channelType()),
                  maxInboundMessageBytes)
              .build());
    }
    // connect now, so the first call on each loop does not wait for a TCP and HTTP/2 handshake
    chs.forEach(ch -> ch.getState(true));
    return new LoopChannels(chs, ls);
  }

  private static ManagedChannelBuilder<?> tuned(ManagedChannelBuilder<?> b, int maxInbound) {
    // callbacks only hand results to Reactor (never block), so they run on the transport thread
    // instead of hopping to gRPC's default executor
    // every call proves the gateway's service identity (glm.service-identity.secret), read at call
    // time, so channels made before the identity is known sign too
    return b.maxInboundMessageSize(maxInbound)
        .directExecutor()
        .intercept(ServiceIdentityClientInterceptor.PROCESS_WIDE);
  }

  /** Index of the channel for the calling thread: its loop's, else 0. */
  public int index() {
    for (int i = 0; i < loops.length; i++) {
      if (loops[i].inEventLoop()) {
        return i;
      }
    }
    return 0;
  }

  public int size() {
    return channels.length;
  }

  public ManagedChannel get(int i) {
    return channels[i];
  }

  public List<ManagedChannel> all() {
    return List.of(channels);
  }
}
