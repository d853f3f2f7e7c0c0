package org.glmmaas.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.glmmaas.gateway.support.FakeKubernetesApi;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.junit.jupiter.api.Test;

/**
 * Workers from the EndpointSlices of the worker Service: the real fabric8 client and informer
 * against a small fake of the Kubernetes API (list + watch), where adding, changing and deleting
 * slices reach the informer as watch events.
 */
class KubernetesDiscoveryTest {

  static final String NS = "glm";

  static EndpointSlice slice(String name, String service, int port, boolean ready, String... ips) {
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .addToLabels(KubernetesDiscovery.SERVICE_LABEL, service)
        .endMetadata()
        .withAddressType("IPv4")
        .addNewPort()
        .withName("grpc")
        .withPort(port)
        .withProtocol("TCP")
        .endPort()
        .addNewPort()
        .withName("http")
        .withPort(1)
        .withProtocol("TCP")
        .endPort()
        .addNewEndpoint()
        .withAddresses(ips)
        .withNewConditions()
        .withReady(ready)
        .endConditions()
        .endEndpoint()
        .build();
  }

  static void await(BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!cond.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition not met in time").isLessThan(end);
      Thread.sleep(10);
    }
  }

  @Test
  void addingAndRemovingEndpointsAddsAndRemovesWorkers() throws Exception {
    try (FakeKubernetesApi api = new FakeKubernetesApi();
        FakeWorker a = new FakeWorker("a", RoutingTest.MODEL);
        FakeWorker b = new FakeWorker("b", RoutingTest.MODEL);
        WorkerPool pool =
            new WorkerPool(
                    List.of(), Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(2))
                .start();
        KubernetesDiscovery discovery =
            new KubernetesDiscovery(
                    new KubernetesClientBuilder().withConfig(api.config(NS)).build(),
                    pool,
                    "",
                    "inference-worker",
                    "grpc")
                .start()) {
      InferenceClient inference = new InferenceClient(new WorkerPicker(pool.workers(), 0), 3);
      assertThat(pool.workers()).isEmpty();

      api.put(slice("workers-a", "inference-worker", a.port(), true, "127.0.0.1"));
      // another Service's slice is not ours
      api.put(slice("other-x", "auth-service", b.port(), true, "127.0.0.1"));
      await(
          () ->
              addresses(pool).equals(List.of("127.0.0.1:" + a.port()))
                  && pool.workers().getFirst().ready());
      assertThat(served(inference)).isEqualTo("a");

      api.put(slice("workers-b", "inference-worker", b.port(), true, "127.0.0.1"));
      await(
          () ->
              pool.workers().size() == 2
                  && pool.workers().stream().allMatch(WorkerEndpoint::ready));

      // a's pod stops being ready (terminating): it leaves, traffic goes to b
      api.put(slice("workers-a", "inference-worker", a.port(), false, "127.0.0.1"));
      await(() -> addresses(pool).equals(List.of("127.0.0.1:" + b.port())));
      for (int i = 0; i < 5; i++) {
        assertThat(served(inference)).isEqualTo("b");
      }

      api.delete("workers-b");
      await(() -> pool.workers().isEmpty());
    }
  }

  @Test
  void onlyReadyEndpointsOnTheNamedPortCount() {
    EndpointSlice s = slice("s", "inference-worker", 9083, true, "10.0.0.1", "10.0.0.2");
    s.getEndpoints()
        .add(slice("t", "inference-worker", 9083, false, "10.0.0.3").getEndpoints().getFirst());
    s.getEndpoints()
        .add(
            new io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder()
                .withAddresses("fd00::7")
                .build()); // no conditions: ready unknown counts as ready
    assertThat(KubernetesDiscovery.addresses(List.of(s), "grpc"))
        .containsExactly("10.0.0.1:9083", "10.0.0.2:9083", "[fd00::7]:9083");
    assertThat(KubernetesDiscovery.addresses(List.of(s), "metrics")).isEmpty();
  }

  static List<String> addresses(WorkerPool pool) {
    return pool.workers().stream().map(WorkerEndpoint::address).sorted().toList();
  }

  static String served(InferenceClient c) {
    List<GenerateResponse> rs =
        c.generate(RoutingTest.req("t", "x"), 1, Duration.ofSeconds(10)).collectList().block();
    return rs.getLast().getFinished().getWorkerId();
  }
}
