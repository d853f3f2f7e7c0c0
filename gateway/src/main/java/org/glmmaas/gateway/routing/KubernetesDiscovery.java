package org.glmmaas.gateway.routing;

import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Workers from Kubernetes: an informer on the EndpointSlices of the worker Service ({@code
 * kubernetes.io/service-name=<service>}) keeps the pool equal to the Service's ready endpoints on
 * the gRPC port. Needs get/list/watch on endpointslices in that namespace (the Helm chart's Role).
 * An endpoint that is not ready (starting, or terminating) leaves the pool; its in-flight calls
 * finish on the drained channel.
 */
public final class KubernetesDiscovery implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KubernetesDiscovery.class);
  static final String SERVICE_LABEL = "kubernetes.io/service-name";

  private final KubernetesClient client;
  private final WorkerPool pool;
  private final String namespace;
  private final String service;
  private final String portName;
  private static final Duration RETRY = Duration.ofSeconds(5);
  private SharedIndexInformer<EndpointSlice> informer;
  private boolean closed;

  public KubernetesDiscovery(
      KubernetesClient client, WorkerPool pool, String namespace, String service, String portName) {
    this.client = client;
    this.pool = pool;
    this.namespace = namespace == null || namespace.isBlank() ? client.getNamespace() : namespace;
    this.service = service;
    this.portName = portName == null ? "" : portName;
    if (this.namespace == null) {
      throw new IllegalStateException(
          "glm.gateway.discovery.kubernetes.namespace is not set and "
              + "the Kubernetes client knows no namespace of its own");
    }
  }

  /** Starts watching without waiting for the first list (it follows within the informer). */
  public KubernetesDiscovery start() {
    log.info(
        "discovering workers from the EndpointSlices of service {}/{} (port '{}')",
        namespace,
        service,
        portName);
    startInformer();
    return this;
  }

  private synchronized void startInformer() {
    if (closed) {
      return;
    }
    SharedIndexInformer<EndpointSlice> inf =
        client
            .discovery()
            .v1()
            .endpointSlices()
            .inNamespace(namespace)
            .withLabel(SERVICE_LABEL, service)
            .runnableInformer(0);
    inf.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(EndpointSlice s) {
            refresh(inf);
          }

          @Override
          public void onUpdate(EndpointSlice old, EndpointSlice now) {
            refresh(inf);
          }

          @Override
          public void onDelete(EndpointSlice s, boolean unknownFinalState) {
            refresh(inf);
          }
        });
    informer = inf;
    // the informer re-establishes broken watches itself; a failed first list stops it, so retry
    inf.start()
        .whenComplete(
            (ok, e) -> {
              if (e != null && !closed) {
                log.warn(
                    "listing EndpointSlices of {}/{} failed ({}); retrying in {} s",
                    namespace,
                    service,
                    e.toString(),
                    RETRY.toSeconds());
                inf.close();
                CompletableFuture.delayedExecutor(RETRY.toMillis(), TimeUnit.MILLISECONDS)
                    .execute(this::startInformer);
              } else if (e == null) {
                refresh(inf);
              }
            });
  }

  private synchronized void refresh(SharedIndexInformer<EndpointSlice> inf) {
    if (!closed && inf == informer) {
      pool.setAddresses(addresses(inf.getStore().list(), portName));
    }
  }

  /** "host:port" of every ready endpoint address on the named port (or the only/first port). */
  static Set<String> addresses(Collection<EndpointSlice> slices, String portName) {
    Set<String> out = new TreeSet<>();
    for (EndpointSlice s : slices) {
      Integer port = port(s.getPorts(), portName);
      if (port == null || s.getEndpoints() == null) {
        continue;
      }
      for (Endpoint e : s.getEndpoints()) {
        // conditions.ready: nil means unknown, which consumers treat as ready
        if (e.getConditions() != null && Boolean.FALSE.equals(e.getConditions().getReady())) {
          continue;
        }
        for (String a : e.getAddresses() == null ? List.<String>of() : e.getAddresses()) {
          out.add((a.contains(":") ? "[" + a + "]" : a) + ":" + port);
        }
      }
    }
    return out;
  }

  private static Integer port(List<EndpointPort> ports, String name) {
    if (ports == null || ports.isEmpty()) {
      return null;
    }
    for (EndpointPort p : ports) {
      if (name.equals(p.getName() == null ? "" : p.getName())) {
        return p.getPort();
      }
    }
    return name.isEmpty() ? ports.getFirst().getPort() : null;
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (informer != null) {
        informer.close();
      }
    }
    client.close();
  }
}
