package org.glmmaas.gateway.support;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An admin HTTP API standing in for auth-service's or billing-service's: answers every request that
 * carries its own admin token with a JSON echo of what it received, records each request, and
 * refuses any other token with 401 as the real services do.
 */
public final class FakeAdminApi implements AutoCloseable {

  /** One request as the service saw it. */
  public record Seen(
      String method, String path, String query, String authorization, String cookie, String body) {}

  public final String name;
  public final String token;
  public final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final HttpServer server;

  public FakeAdminApi(String name, String token) throws IOException {
    this.name = name;
    this.token = token;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          String auth = ex.getRequestHeaders().getFirst("Authorization");
          seen.add(
              new Seen(
                  ex.getRequestMethod(),
                  ex.getRequestURI().getRawPath(),
                  ex.getRequestURI().getRawQuery(),
                  auth,
                  ex.getRequestHeaders().getFirst("Cookie"),
                  body));
          boolean ok = ("Bearer " + token).equals(auth);
          String out =
              ok
                  ? "{\"service\":\""
                      + name
                      + "\",\"path\":\""
                      + ex.getRequestURI().getRawPath()
                      + "\",\"body_length\":"
                      + body.length()
                      + "}"
                  : "{\"error\":{\"code\":\"unauthorized\",\"message\":\"invalid admin token\"}}";
          byte[] bytes = out.getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", "application/json");
          ex.sendResponseHeaders(ok ? 200 : 401, bytes.length);
          ex.getResponseBody().write(bytes);
          ex.close();
        });
    server.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public Seen last() {
    return seen.isEmpty() ? null : seen.getLast();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
