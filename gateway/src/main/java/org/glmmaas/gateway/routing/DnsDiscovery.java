package org.glmmaas.gateway.routing;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Workers from the static {@code host:port} list, where a host name stands for every address it
 * resolves to: a headless Service or a compose service scaled to several containers has one name
 * and one A record per worker, and each of them becomes a worker of the pool (a gRPC channel to the
 * name would reach one of them only). IP literals pass through unchanged.
 *
 * <p>Names are resolved at {@link #start()} and then every {@code refresh} on a daemon thread. A
 * name that resolves to fewer addresses drops the gone ones (the pool drains them); a name that
 * fails to resolve (or resolves to nothing) keeps its last addresses, so a DNS blip does not empty
 * the pool — workers that are really gone break their load streams and get no traffic anyway.
 *
 * <p>A name with addresses of both families (a dual-stack Service has an A and an AAAA record per
 * pod; {@code localhost} may be 127.0.0.1 and ::1) keeps only the family of the first address the
 * resolver returns (IPv4 unless {@code java.net.preferIPv6Addresses}), so one worker is not counted
 * twice.
 *
 * <p>The JDK caches successful lookups for {@code networkaddress.cache.ttl} (30 s when unset), so a
 * new worker may take that long plus {@code refresh} to be seen; set that security property (or
 * {@code -Dsun.net.inetaddr.ttl}) lower where that matters.
 */
public final class DnsDiscovery implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DnsDiscovery.class);

  /** Resolves a host name to all its addresses; the production one is the JDK's. */
  @FunctionalInterface
  public interface Resolver {
    List<InetAddress> resolve(String host) throws UnknownHostException;

    /** {@link InetAddress#getAllByName}, which blocks: call it off any event loop. */
    Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));
  }

  /** One configured entry: an IP literal (fixed) or a name resolved with this port. */
  private record Entry(String configured, String host, int port, boolean literal) {}

  private final List<Entry> entries;
  private final WorkerPool pool;
  private final Duration refresh;
  private final Resolver resolver;

  /** Last good addresses ("ip:port") of each name, and the names currently failing. */
  private final Map<String, Set<String>> known = new HashMap<>();

  private final Set<String> failing = new LinkedHashSet<>();
  private ScheduledExecutorService timer;
  private Set<String> applied;
  private volatile boolean closed;

  /**
   * @param addresses the configured "host:port" entries (blank ones are skipped)
   * @throws IllegalArgumentException for an entry that is not host:port
   */
  public DnsDiscovery(
      Collection<String> addresses, WorkerPool pool, Duration refresh, Resolver resolver) {
    this.entries = parse(addresses);
    this.pool = pool;
    this.refresh = refresh;
    this.resolver = resolver;
    if (refresh.isNegative() || refresh.isZero()) {
      throw new IllegalArgumentException("glm.gateway.discovery.dns-refresh must be positive");
    }
  }

  /**
   * Resolves every name once on the calling thread (so the pool is filled before traffic comes),
   * then keeps re-resolving on a daemon thread when any entry is a name.
   */
  public DnsDiscovery start() {
    List<String> names =
        entries.stream().filter(e -> !e.literal()).map(Entry::host).distinct().toList();
    if (!names.isEmpty()) {
      log.info("static workers: resolving {} every {} ms", names, refresh.toMillis());
    }
    refresh();
    synchronized (this) {
      if (!names.isEmpty() && !closed) {
        timer =
            Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("worker-dns").factory());
        timer.scheduleWithFixedDelay(
            this::refreshQuietly, refresh.toMillis(), refresh.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
    return this;
  }

  private void refreshQuietly() {
    try {
      refresh();
    } catch (RuntimeException e) {
      log.warn("re-resolving workers failed: {}", e.toString());
    }
  }

  /**
   * Resolves every name and hands the pool the union of all addresses when it changed. Runs on one
   * thread at a time (start, then the timer); the lock is held only to apply, never while
   * resolving, so {@link #close()} does not wait for a slow lookup.
   */
  void refresh() {
    if (closed) {
      return;
    }
    Set<String> want = new LinkedHashSet<>();
    Map<String, Set<String>> resolvedNow = new HashMap<>();
    for (Entry e : entries) {
      if (e.literal()) {
        want.add(e.configured());
        continue;
      }
      Set<String> addrs = resolvedNow.computeIfAbsent(e.host(), h -> resolve(h, e.port()));
      // one name may be listed with several ports: resolve once, apply each port
      for (String a : addrs) {
        want.add(withPort(a, e.port()));
      }
    }
    synchronized (this) {
      if (!closed && !want.equals(applied)) {
        pool.setAddresses(want);
        applied = want;
      }
    }
  }

  /** The name's addresses (host part only), or its last known ones when resolving fails. */
  private Set<String> resolve(String host, int portForLog) {
    Set<String> out = new LinkedHashSet<>();
    String why;
    try {
      List<InetAddress> all = resolver.resolve(host);
      boolean v6 = !all.isEmpty() && all.getFirst() instanceof Inet6Address;
      for (InetAddress a : all) {
        if (a instanceof Inet6Address == v6) {
          out.add(v6 ? "[" + a.getHostAddress() + "]" : a.getHostAddress());
        }
      }
      why = out.isEmpty() ? "no addresses" : null;
    } catch (UnknownHostException e) {
      why = "unknown host";
    } catch (RuntimeException e) {
      why = e.toString();
    }
    if (why == null) {
      known.put(host, out);
      if (failing.remove(host)) {
        log.info("worker name {} resolves (again): {}", host, out);
      }
      return out;
    }
    Set<String> last = known.getOrDefault(host, Set.of());
    if (failing.add(host)) {
      log.warn(
          "worker name {} (port {}) does not resolve ({}); keeping its last {} address(es) "
              + "until it does",
          host,
          portForLog,
          why,
          last.size());
    }
    return last;
  }

  private static String withPort(String host, int port) {
    return host + ":" + port;
  }

  private static List<Entry> parse(Collection<String> addresses) {
    List<Entry> out = new ArrayList<>();
    for (String raw : addresses) {
      String a = raw.strip();
      if (a.isEmpty()) {
        continue;
      }
      int colon = a.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("worker address '" + a + "' is not host:port");
      }
      String host = a.substring(0, colon);
      int port;
      try {
        port = Integer.parseInt(a.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("worker address '" + a + "' has no numeric port");
      }
      boolean literal = isLiteral(host);
      if (!literal && (host.contains(":") || host.startsWith("["))) {
        throw new IllegalArgumentException(
            "worker address '" + a + "': write an IPv6 address in brackets, [addr]:port");
      }
      out.add(new Entry(a, host, port, literal));
    }
    return out;
  }

  private static boolean isLiteral(String host) {
    try {
      InetAddress.ofLiteral(host);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (timer != null) {
      timer.shutdownNow(); // a lookup in progress finishes on its daemon thread, then is dropped
    }
  }
}
