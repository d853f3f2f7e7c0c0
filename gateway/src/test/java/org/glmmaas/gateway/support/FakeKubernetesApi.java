package org.glmmaas.gateway.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The slice of the Kubernetes API that an EndpointSlice informer uses, over plain HTTP: list (with
 * a label selector) and watch from a resource version (a chunked stream of JSON events; the
 * WebSocket flavour is refused, so the client uses the HTTP one). The test puts and deletes slices;
 * each change is one watch event.
 */
public final class FakeKubernetesApi implements AutoCloseable {

  private static final String PATH = "/apis/discovery.k8s.io/v1/namespaces/";

  private record Event(long rv, String type, EndpointSlice slice) {}

  private final HttpServer server;
  private final Map<String, EndpointSlice> slices = new LinkedHashMap<>();
  private final List<Event> events = new ArrayList<>();
  private long rv = 1;
  private volatile boolean closed;

  public FakeKubernetesApi() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
  }

  /** A client config for this server: plain HTTP/1.1, namespace {@code ns}. */
  public Config config(String ns) {
    return new ConfigBuilder(Config.empty())
        .withMasterUrl("http://127.0.0.1:" + server.getAddress().getPort())
        .withNamespace(ns)
        .withHttp2Disable(true)
        .withRequestRetryBackoffLimit(0)
        .build();
  }

  public synchronized void put(EndpointSlice s) {
    String type = slices.containsKey(s.getMetadata().getName()) ? "MODIFIED" : "ADDED";
    s.getMetadata().setResourceVersion(Long.toString(++rv));
    slices.put(s.getMetadata().getName(), s);
    events.add(new Event(rv, type, s));
    notifyAll();
  }

  public synchronized void delete(String name) {
    EndpointSlice s = slices.remove(name);
    if (s != null) {
      s.getMetadata().setResourceVersion(Long.toString(++rv));
      events.add(new Event(rv, "DELETED", s));
      notifyAll();
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      if (!"GET".equals(ex.getRequestMethod())
          || !path.startsWith(PATH)
          || !path.endsWith("/endpointslices")) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      Map<String, String> q = query(ex.getRequestURI().getRawQuery());
      String selector = q.getOrDefault("labelSelector", "");
      ex.getResponseHeaders().set("Content-Type", "application/json");
      if ("true".equals(q.get("watch"))
          && "websocket".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Upgrade"))) {
        // no WebSocket here: fabric8 falls back to a plain HTTP watch on 503
        ex.sendResponseHeaders(503, -1);
        return;
      }
      if ("true".equals(q.get("watch"))) {
        watch(ex, selector, Long.parseLong(q.getOrDefault("resourceVersion", "0")));
        return;
      }
      StringBuilder items = new StringBuilder();
      long at;
      synchronized (this) {
        at = rv;
        for (EndpointSlice s : slices.values()) {
          if (matches(s, selector)) {
            items.append(items.isEmpty() ? "" : ",").append(Serialization.asJson(s));
          }
        }
      }
      byte[] body =
          ("{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSliceList\","
                  + "\"metadata\":{\"resourceVersion\":\""
                  + at
                  + "\"},\"items\":["
                  + items
                  + "]}")
              .getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    }
  }

  private void watch(HttpExchange ex, String selector, long from) throws IOException {
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    out.flush();
    int next = 0;
    while (!closed) {
      List<Event> batch = new ArrayList<>();
      synchronized (this) {
        while (next >= events.size() && !closed) {
          try {
            wait(200);
          } catch (InterruptedException e) {
            return;
          }
        }
        for (; next < events.size(); next++) {
          batch.add(events.get(next));
        }
      }
      for (Event e : batch) {
        if (e.rv() > from && matches(e.slice(), selector)) {
          out.write(
              ("{\"type\":\""
                      + e.type()
                      + "\",\"object\":"
                      + Serialization.asJson(e.slice())
                      + "}\n")
                  .getBytes(StandardCharsets.UTF_8));
        }
      }
      out.flush();
    }
  }

  private static boolean matches(EndpointSlice s, String selector) {
    if (selector.isEmpty()) {
      return true;
    }
    for (String term : selector.split(",")) {
      String[] kv = term.split("=", 2);
      Map<String, String> labels = s.getMetadata().getLabels();
      if (labels == null || kv.length != 2 || !kv[1].equals(labels.get(kv[0]))) {
        return false;
      }
    }
    return true;
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> m = new LinkedHashMap<>();
    if (raw != null) {
      for (String p : raw.split("&")) {
        String[] kv = p.split("=", 2);
        m.put(
            URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
            kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
      }
    }
    return m;
  }

  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      notifyAll();
    }
    server.stop(0);
    try {
      ((java.util.concurrent.ExecutorService) server.getExecutor())
          .awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
