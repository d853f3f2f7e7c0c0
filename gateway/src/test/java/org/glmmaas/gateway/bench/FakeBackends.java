package org.glmmaas.gateway.bench;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.glmmaas.gateway.support.FakeAuthService;
import org.glmmaas.gateway.support.FakeBillingService;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.auth.v1.TenantStatus;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The far side of the gateway load benchmark, in its own process (not a test): a FakeWorker that
 * answers at once, a FakeAuthService with the benchmark key, and the baseline — a trivial HTTP
 * server (reactor-netty, the gateway's own HTTP stack) that answers the same chat calls with a
 * canned body of the same shape, so "added latency" = through the gateway - straight at this.
 *
 * <p>Also a FakeBillingService, for runs with the billing reservation on the call's path.
 *
 * <p>Prints one line {@code BACKENDS worker=host:port auth=host:port baseline=port
 * billing=host:port} and runs until killed. Args: baseline HTTP port (default 0 = any).
 */
public final class FakeBackends {

  static final String UNARY =
      "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":"
          + "1700000000,\"model\":\"glm-4-flash\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
          + "\"assistant\",\"content\":\"Hello, world!\"},\"finish_reason\":\"stop\"}],\"usage\":{"
          + "\"prompt_tokens\":12,\"completion_tokens\":4,\"total_tokens\":16}}";

  static final String STREAM;

  static {
    StringBuilder sb = new StringBuilder();
    for (String t : FakeWorker.TOKENS) {
      sb.append(
          "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":"
              + "1700000000,\"model\":\"glm-4-flash\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
              + t
              + "\"},\"finish_reason\":null}]}\n\n");
    }
    sb.append(
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":"
            + "1700000000,\"model\":\"glm-4-flash\",\"choices\":[{\"index\":0,\"delta\":{},"
            + "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    STREAM = sb.toString();
  }

  public static void main(String[] args) throws Exception {
    int baselinePort = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    FakeWorker worker = new FakeWorker("bench-worker", "glm-4-flash");
    FakeAuthService auth = new FakeAuthService();
    FakeBillingService billing = new FakeBillingService();
    // the fake records every reservation for the tests; a benchmark makes millions, so forget
    // them (as the FakeWorker keeps only its last request) lest the map's growth be measured
    java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().factory())
        .scheduleWithFixedDelay(
            billing.reservations::clear, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    auth.addKey(
        "kmain",
        "s3cretmain",
        Principal.newBuilder()
            .setTenantId("tmain")
            .setTenantStatus(TenantStatus.ACTIVE)
            .setCacheTtlMs(60_000));
    byte[] unary = UNARY.getBytes(StandardCharsets.UTF_8);
    byte[] stream = STREAM.getBytes(StandardCharsets.UTF_8);
    DisposableServer baseline =
        HttpServer.create()
            .host("127.0.0.1")
            .port(baselinePort)
            .route(
                r ->
                    r.post(
                        "/v1/chat/completions",
                        (req, res) ->
                            req.receive()
                                .aggregate()
                                .asString()
                                .defaultIfEmpty("")
                                .flatMap(
                                    body -> {
                                      boolean sse = body.contains("\"stream\":true");
                                      res.header(
                                          "content-type",
                                          sse ? "text/event-stream" : "application/json");
                                      return res.send(
                                              Mono.just(
                                                  Unpooled.wrappedBuffer(sse ? stream : unary)))
                                          .then();
                                    })))
            .bindNow();
    System.out.println(
        "BACKENDS worker="
            + worker.address()
            + " auth="
            + auth.address()
            + " baseline="
            + baseline.port()
            + " billing="
            + billing.address());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
