package org.glmmaas.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.glmmaas.gateway.routing.KubernetesDiscoveryTest.addresses;
import static org.glmmaas.gateway.routing.RoutingTest.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.junit.jupiter.api.Test;

/**
 * Static discovery with names: a scripted resolver stands in for DNS, and three fake workers listen
 * on one port at 127.0.0.1, .2 and .3 (Linux routes all of 127/8 to loopback), like three pods
 * behind one headless Service name.
 */
class DnsDiscoveryTest {

  static final String NAME = "inference-worker-headless";

  /** A resolver whose answer the test changes: a list of addresses or an exception. */
  static final class ScriptedDns implements DnsDiscovery.Resolver {
    final AtomicReference<Object> answer = new AtomicReference<>(List.of());
    final AtomicInteger calls = new AtomicInteger();
    final List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();

    void answer(String... ips) {
      List<InetAddress> out = new ArrayList<>();
      for (String ip : ips) {
        out.add(InetAddress.ofLiteral(ip));
      }
      answer.set(out);
    }

    @SuppressWarnings("unchecked")
    @Override
    public List<InetAddress> resolve(String host) throws UnknownHostException {
      asked.add(host);
      calls.incrementAndGet();
      Object a = answer.get();
      if (!host.equals(NAME)) {
        throw new UnknownHostException(host);
      }
      if (a instanceof UnknownHostException e) {
        throw e;
      }
      if (a instanceof RuntimeException e) {
        throw e;
      }
      return (List<InetAddress>) a;
    }
  }

  /** Three fakes on one port at 127.0.0.1/.2/.3 (retried if the port is taken on .2 or .3). */
  static List<FakeWorker> threeOnOnePort() throws IOException {
    for (int attempt = 0; ; attempt++) {
      List<FakeWorker> ws = new ArrayList<>();
      try {
        ws.add(new FakeWorker("a", RoutingTest.MODEL, new InetSocketAddress("127.0.0.1", 0)));
        int port = ws.getFirst().port();
        ws.add(new FakeWorker("b", RoutingTest.MODEL, new InetSocketAddress("127.0.0.2", port)));
        ws.add(new FakeWorker("c", RoutingTest.MODEL, new InetSocketAddress("127.0.0.3", port)));
        return ws;
      } catch (IOException e) {
        ws.forEach(FakeWorker::close);
        if (attempt == 4) {
          throw e;
        }
      }
    }
  }

  static Set<String> servedBy(InferenceClient c, int calls, long seed) {
    Set<String> ids = new HashSet<>();
    for (long i = 0; i < calls; i++) {
      List<GenerateResponse> rs =
          c.generate(
                  RoutingTest.req("t" + i, "x"), WorkerPicker.mix(seed + i), Duration.ofSeconds(10))
              .collectList()
              .block();
      ids.add(rs.getLast().getFinished().getWorkerId());
    }
    return ids;
  }

  @Test
  void aNameBecomesOneWorkerPerAddressAndFollowsItsRecords() throws Exception {
    List<FakeWorker> fakes = threeOnOnePort();
    int port = fakes.getFirst().port();
    ScriptedDns dns = new ScriptedDns();
    dns.answer("127.0.0.1", "127.0.0.2", "127.0.0.3");
    List<String> all = List.of("127.0.0.1:" + port, "127.0.0.2:" + port, "127.0.0.3:" + port);
    try (WorkerPool pool =
            new WorkerPool(
                    List.of(), Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(2))
                .start();
        DnsDiscovery discovery =
            new DnsDiscovery(List.of(NAME + ":" + port), pool, Duration.ofMillis(50), dns)
                .start()) {
      // the first resolution happens in start(): the pool is filled before any traffic
      assertThat(addresses(pool)).isEqualTo(all);
      await(
          () ->
              pool.workers().size() == 3
                  && pool.workers().stream().allMatch(WorkerEndpoint::ready));
      InferenceClient client = new InferenceClient(new WorkerPicker(pool.workers(), 4), 3);
      assertThat(servedBy(client, 60, 1)).containsExactlyInAnyOrder("a", "b", "c");

      // one pod goes away: its record goes, so does the worker
      dns.answer("127.0.0.1", "127.0.0.2");
      await(() -> addresses(pool).equals(all.subList(0, 2)));
      int onC = fakes.get(2).generateCalls.get();
      assertThat(servedBy(client, 30, 100)).containsExactlyInAnyOrder("a", "b");
      assertThat(fakes.get(2).generateCalls.get()).isEqualTo(onC);

      // DNS fails, then answers nothing: the last known workers stay and keep serving
      for (Object failure :
          List.of(
              new UnknownHostException(NAME),
              List.of(),
              new IllegalStateException("resolver broke"))) {
        dns.answer.set(failure);
        int before = dns.calls.get();
        await(() -> dns.calls.get() >= before + 3);
        assertThat(addresses(pool)).isEqualTo(all.subList(0, 2));
        assertThat(pool.workers()).allMatch(WorkerEndpoint::ready);
        assertThat(servedBy(client, 10, 200)).isNotEmpty().isSubsetOf("a", "b");
      }

      // it answers again, with the third pod back
      dns.answer("127.0.0.3", "127.0.0.1", "127.0.0.2");
      await(
          () ->
              addresses(pool).equals(all)
                  && pool.workers().stream().allMatch(WorkerEndpoint::ready));
      assertThat(servedBy(client, 60, 300)).containsExactlyInAnyOrder("a", "b", "c");
    } finally {
      fakes.forEach(FakeWorker::close);
    }
  }

  @Test
  void ipLiteralsPassThroughUnchangedAndAreNeverResolved() {
    ScriptedDns dns = new ScriptedDns();
    List<String> literals = List.of("10.1.2.3:9083", "[fd00::7]:9083", "[::1]:9083");
    try (WorkerPool pool =
            new WorkerPool(
                List.of(), Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(2));
        DnsDiscovery discovery =
            new DnsDiscovery(literals, pool, Duration.ofMillis(10), dns).start()) {
      assertThat(pool.workers())
          .extracting(WorkerEndpoint::address)
          .containsExactlyElementsOf(literals);
      discovery.refresh();
      assertThat(dns.calls).hasValue(0);
    }
  }

  @Test
  void namesAndLiteralsMixAndADualStackNameKeepsOneFamily() {
    ScriptedDns dns = new ScriptedDns();
    dns.answer.set(new UnknownHostException(NAME)); // not up yet (compose: workers start later)
    try (WorkerPool pool =
            new WorkerPool(
                List.of(), Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(2));
        DnsDiscovery discovery =
            new DnsDiscovery(
                    List.of("10.9.9.9:7000", NAME + ":9083", " ", NAME + ":9084"), pool,
                    Duration.ofHours(1), dns)
                .start()) {
      assertThat(addresses(pool)).containsExactly("10.9.9.9:7000");
      assertThat(dns.asked).containsExactly(NAME); // one lookup per name, whatever its ports

      // an A and an AAAA record per pod: the first family only, else each pod counts twice
      dns.answer("10.0.0.1", "fd00::1", "10.0.0.2", "fd00::2");
      discovery.refresh();
      assertThat(addresses(pool))
          .containsExactly(
              "10.0.0.1:9083", "10.0.0.1:9084", "10.0.0.2:9083", "10.0.0.2:9084", "10.9.9.9:7000");
      dns.answer("fd00::1", "10.0.0.1");
      discovery.refresh();
      assertThat(addresses(pool))
          .containsExactly(
              "10.9.9.9:7000", "[fd00:0:0:0:0:0:0:1]:9083", "[fd00:0:0:0:0:0:0:1]:9084");
    }
  }

  @Test
  void entriesThatAreNotHostAndPortAreRefusedAtStart() {
    WorkerPool pool = new WorkerPool(List.of(), Duration.ofMillis(10), Duration.ofMillis(50));
    ScriptedDns dns = new ScriptedDns();
    for (String bad :
        List.of(
            "inference-worker", "inference-worker:grpc", "a:b:9083", "[not-an-ip]:9083", ":9083")) {
      assertThatThrownBy(() -> new DnsDiscovery(List.of(bad), pool, Duration.ofSeconds(5), dns))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> new DnsDiscovery(List.of(), pool, Duration.ZERO, dns))
        .isInstanceOf(IllegalArgumentException.class);
    pool.close();
  }
}
