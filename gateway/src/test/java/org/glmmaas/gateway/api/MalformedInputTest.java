package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;

/**
 * Thousands of malformed requests, each answered with a precise 4xx (never a 5xx, never a stack
 * trace, never a hang), while a well-formed stream runs alongside and keeps flowing.
 */
class MalformedInputTest {

  static final String[] PATHS = {
    "/v1/chat/completions", "/api/paas/v4/chat/completions", "/api/paas/v4/async/chat/completions"
  };

  record Case(String name, byte[] body, Map<String, String> headers) {}

  static final String VALID =
      "{\"model\":\"glm-4-flash\",\"messages\":[{\"role\":\"user\"," + "\"content\":\"hi\"}]}";

  static List<Case> cases(Random rnd) {
    List<Case> out = new ArrayList<>();
    Map<String, String> json = Map.of("Content-Type", "application/json");
    String[] badFields = {
      "\"model\":1",
      "\"model\":true",
      "\"model\":[]",
      "\"model\":{}",
      "\"model\":\"\"",
      "\"messages\":\"hi\"",
      "\"messages\":1",
      "\"messages\":{}",
      "\"messages\":[]",
      "\"messages\":[1]",
      "\"messages\":[{}]",
      "\"messages\":[{\"role\":1,\"content\":\"x\"}]",
      "\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]",
      "\"messages\":[{\"role\":\"user\"}]",
      "\"messages\":[{\"role\":\"user\",\"content\":5}]",
      "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]",
      "\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"name\":7}]",
      "\"messages\":null",
      "\"temperature\":\"hot\"",
      "\"temperature\":-1",
      "\"temperature\":3",
      "\"temperature\":true",
      "\"top_p\":0",
      "\"top_p\":2",
      "\"top_p\":\"x\"",
      "\"max_tokens\":0",
      "\"max_tokens\":-5",
      "\"max_tokens\":1e12",
      "\"max_tokens\":\"100\"",
      "\"max_tokens\":1.5",
      "\"max_tokens\":99999999999999999999",
      "\"stop\":5",
      "\"stop\":[1]",
      "\"stop\":{}",
      "\"do_sample\":\"yes\"",
      "\"seed\":\"x\"",
      "\"seed\":1.5",
      "\"request_id\":5",
      "\"request_id\":\"\"",
      "\"request_id\":\"" + "r".repeat(200) + "\"",
      "\"request_id\":\"has space\"",
      "\"stream\":\"true\"",
      "\"stream\":1",
      "\"stream_options\":\"x\"",
      "\"stream_options\":{\"include_usage\":\"y\"}",
      "\"user_id\":[]",
      "\"user\":{}"
    };
    for (String p : PATHS) {
      for (String f : badFields) {
        String body =
            f.startsWith("\"model\"") || f.startsWith("\"messages\"")
                ? "{"
                    + f
                    + (f.startsWith("\"model\"")
                        ? ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"
                        : ",\"model\":\"glm-4-flash\"}")
                : VALID.substring(0, VALID.length() - 1) + "," + f + "}";
        out.add(new Case(p + " field " + f, body.getBytes(StandardCharsets.UTF_8), json));
      }
      out.add(
          new Case(
              p + " missing model",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}".getBytes(),
              json));
      out.add(new Case(p + " missing messages", "{\"model\":\"glm-4-flash\"}".getBytes(), json));
      out.add(new Case(p + " empty body", new byte[0], json));
      out.add(new Case(p + " array body", "[1,2]".getBytes(), json));
      out.add(new Case(p + " string body", "\"x\"".getBytes(), json));
      out.add(new Case(p + " null body", "null".getBytes(), json));
      out.add(new Case(p + " deep nesting", ("{\"a\":" + "[".repeat(5000)).getBytes(), json));
      byte[] bad = VALID.replace("hi", "h\u0001i").getBytes(StandardCharsets.UTF_8);
      bad[bad.length - 8] = (byte) 0xff;
      bad[bad.length - 7] = (byte) 0xfe;
      out.add(new Case(p + " invalid utf-8", bad, json));
      out.add(
          new Case(
              p + " too large",
              ("{\"model\":\"glm-4-flash\",\"messages\":[{\"role\":"
                      + "\"user\",\"content\":\""
                      + "x".repeat(100_000)
                      + "\"}]}")
                  .getBytes(),
              json));
      out.add(new Case(p + " text/plain", VALID.getBytes(), Map.of("Content-Type", "text/plain")));
      out.add(new Case(p + " xml", "<a/>".getBytes(), Map.of("Content-Type", "application/xml")));
      for (String auth :
          new String[] {
            "",
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwYXNz",
            "Bearer a b c",
            "Bearer " + "k".repeat(5000),
            "kfuzz",
            "kfuzz.",
            ".x",
            "Bearer x.y.z",
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.sig",
            "Bearer \u00e9\u00e8"
          }) {
        out.add(
            new Case(
                p + " auth '" + auth.substring(0, Math.min(20, auth.length())) + "'",
                VALID.getBytes(),
                Map.of("Content-Type", "application/json", "Authorization", auth)));
      }
      // truncations and random mutations of a valid body
      byte[] v = VALID.getBytes(StandardCharsets.UTF_8);
      for (int i = 1; i < v.length - 1; i++) {
        byte[] t = new byte[i];
        System.arraycopy(v, 0, t, 0, i);
        out.add(new Case(p + " truncated at " + i, t, json));
      }
      int hi = VALID.indexOf("\"hi\"") + 1; // mutating the content itself may stay valid
      for (int i = 0; i < 500; i++) {
        byte[] m = v.clone();
        int flips = 1 + rnd.nextInt(4);
        for (int k = 0; k < flips; k++) {
          int at = rnd.nextInt(m.length);
          if (at == hi || at == hi + 1) {
            at = 0;
          }
          byte nb = (byte) rnd.nextInt(256);
          m[at] = nb == m[at] ? (byte) (nb ^ 0x40) : nb;
        }
        out.add(new Case(p + " mutation " + i, m, json));
      }
      for (int i = 0; i < 100; i++) {
        byte[] r = new byte[1 + rnd.nextInt(300)];
        rnd.nextBytes(r);
        out.add(new Case(p + " random " + i, r, json));
      }
    }
    return out;
  }

  @Test
  void everyMalformedRequestGetsAPrecise4xxWhileAStreamKeepsFlowing() throws Exception {
    TestGateway gw = TestGateway.get();
    HttpRequest streamReq =
        HttpRequest.newBuilder(URI.create(gw.url("/api/paas/v4/chat/completions")))
            .header("Authorization", "Bearer " + TestGateway.FUZZ_KEY)
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(TestGateway.chat("[slow]", "\"stream\":true")))
            .build();
    var streamFuture = gw.http.sendAsync(streamReq, HttpResponse.BodyHandlers.ofLines());

    List<Case> cases = cases(new Random(42));
    assertThat(cases.size()).isGreaterThan(2000);
    Map<String, String> failures = new ConcurrentHashMap<>();
    AtomicInteger done = new AtomicInteger();
    Semaphore inFlight = new Semaphore(16);
    List<Future<?>> fs = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Case c : cases) {
        inFlight.acquire();
        fs.add(
            ex.submit(
                () -> {
                  try {
                    check(gw, c, failures);
                  } finally {
                    done.incrementAndGet();
                    inFlight.release();
                  }
                }));
      }
    }
    assertThat(done.get()).isEqualTo(cases.size());
    assertThat(failures).isEmpty();

    // the parallel stream kept flowing and ended properly
    HttpResponse<Stream<String>> stream = streamFuture.get();
    assertThat(stream.statusCode()).isEqualTo(200);
    List<String> data = stream.body().filter(l -> l.startsWith("data: ")).toList();
    assertThat(data).hasSize(202).last().isEqualTo("data: [DONE]");
  }

  private static void check(TestGateway gw, Case c, Map<String, String> failures) {
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(
                  URI.create(
                      gw.url(
                          c.name().startsWith("/v1")
                              ? "/v1/chat/completions"
                              : c.name().startsWith("/api/paas/v4/async")
                                  ? "/api/paas/v4/async/chat/completions"
                                  : "/api/paas/v4/chat/completions")))
              .timeout(Duration.ofSeconds(20))
              .POST(HttpRequest.BodyPublishers.ofByteArray(c.body()));
      boolean hasAuth = false;
      for (var h : c.headers().entrySet()) {
        b.header(h.getKey(), h.getValue());
        hasAuth |= h.getKey().equals("Authorization");
      }
      if (!hasAuth) {
        b.header("Authorization", "Bearer " + TestGateway.FUZZ_KEY);
      }
      HttpResponse<String> r = gw.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      String body = r.body();
      if (r.statusCode() < 400 || r.statusCode() >= 500) {
        failures.put(c.name(), r.statusCode() + " " + body);
      } else if (!body.startsWith("{\"error\":{")
          || body.contains("Exception")
          || body.contains("at org.")
          || body.contains("s3cret")) {
        failures.put(c.name(), "bad body: " + body);
      } else if (c.name().contains(" field ")) {
        String field =
            c.name()
                .substring(
                    c.name().indexOf(" field \"") + 8,
                    c.name().indexOf('"', c.name().indexOf(" field \"") + 8));
        // quoted in the message, or (OpenAI's wording for unknown fields) the error's param
        if (!body.contains("'" + field) && !body.contains("\"param\":\"" + field + "\"")) {
          failures.put(c.name(), "imprecise: " + body);
        }
      }
    } catch (IllegalArgumentException e) {
      // the JDK client refuses to send this header value at all: nothing to check
    } catch (Exception e) {
      failures.put(c.name(), e.toString());
    }
  }

  @Test
  void brokenHttpFramingGets4xxAndNeverHangs() throws Exception {
    TestGateway gw = TestGateway.get();
    String[] raw = {
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nNoColonHeader\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0001\u0002"
          + "\r\nContent-Length: 2\r\n\r\n{}",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n{",
      "POST /api/paas/v4/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: ;;;\r\n"
          + "Authorization: Bearer kfuzz.s3cretfuzz\r\nContent-Length: 2\r\n\r\n{}",
      "GARBAGE\r\n\r\n"
    };
    for (String req : raw) {
      long t0 = System.nanoTime();
      try (Socket s = new Socket("127.0.0.1", gw.port)) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        // no half-close: a client that half-closes may be treated as gone; ask for a close instead
        out.write(
            req.replace("Host: x\r\n", "Host: x\r\nConnection: close\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[4096];
        int n;
        while ((n = in.read(b)) > 0) {
          buf.write(b, 0, n);
        }
        String resp = buf.toString(StandardCharsets.ISO_8859_1);
        System.out.printf(
            "raw case took %d ms: %s -> %s%n",
            (System.nanoTime() - t0) / 1_000_000,
            req.lines().skip(2).findFirst().orElse(""),
            resp.lines().findFirst().orElse("<none>"));
        assertThat(resp).as(req).matches("(?s)HTTP/1\\.1 4\\d\\d .*");
        assertThat(resp).doesNotContain("Exception").doesNotContain("s3cret");
      }
    }
  }
}
