package org.glmmaas.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.glmmaas.gateway.support.FakeAdminApi;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The admin entry through Spring Cloud Gateway routes, against fake admin APIs of auth-service and
 * billing-service: the gateway's token opens them and is never passed on (each service gets its
 * own), no or a wrong token is a 401, an oversized body a 413, and the access log names method,
 * path and status but no token.
 */
class AdminRoutesTest {

  static TestGateway gw;
  static ListAppender<ILoggingEvent> logs;

  @BeforeAll
  static void start() {
    gw = TestGateway.get();
    logs = new ListAppender<>();
    logs.start();
    root().addAppender(logs);
  }

  @AfterAll
  static void stop() {
    root().detachAppender(logs);
  }

  static ch.qos.logback.classic.Logger root() {
    return (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  static HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(gw.url(path)))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    b.header("Cookie", "session=browser-cookie-value");
    return gw.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void authRouteReachesAuthServiceWithItsOwnToken() throws Exception {
    FakeAdminApi auth = gw.authAdmin;
    int before = auth.seen.size();
    HttpResponse<String> r = send("GET", "/admin/auth/v1/tenants", TestGateway.ADMIN_TOKEN, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"service\":\"auth-service\"", "\"path\":\"/admin/v1/tenants\"");
    assertThat(auth.seen).hasSize(before + 1);
    FakeAdminApi.Seen s = auth.last();
    assertThat(s.authorization()).isEqualTo("Bearer " + auth.token);
    assertThat(s.cookie()).as("browser cookies stay at the gateway").isNull();

    r =
        send(
            "PATCH",
            "/admin/auth/v1/tenants/t-1",
            TestGateway.ADMIN_TOKEN,
            "{\"status\":\"SUSPENDED\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(auth.last().method()).isEqualTo("PATCH");
    assertThat(auth.last().path()).isEqualTo("/admin/v1/tenants/t-1");
    assertThat(auth.last().body()).isEqualTo("{\"status\":\"SUSPENDED\"}");
  }

  @Test
  void billingRouteKeepsTheQueryAndTheBody() throws Exception {
    FakeAdminApi billing = gw.billingAdmin;
    HttpResponse<String> r =
        send(
            "GET",
            "/admin/billing/v1/accounts/t-1/usage?from=2026-01-01&to=2026-01-31",
            TestGateway.ADMIN_TOKEN,
            null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(billing.last().path()).isEqualTo("/admin/v1/accounts/t-1/usage");
    assertThat(billing.last().query()).isEqualTo("from=2026-01-01&to=2026-01-31");
    assertThat(billing.last().authorization()).isEqualTo("Bearer " + billing.token);

    String topUp = "{\"amount_micros\":5000000,\"currency\":\"CNY\"}";
    r = send("POST", "/admin/billing/v1/accounts/t-1/top-ups", TestGateway.ADMIN_TOKEN, topUp);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(billing.last().method()).isEqualTo("POST");
    assertThat(billing.last().body()).isEqualTo(topUp);
  }

  @Test
  void noTokenOrAWrongOneIs401AndNothingReachesTheService() throws Exception {
    int auth = gw.authAdmin.seen.size();
    int billing = gw.billingAdmin.seen.size();
    for (String token : new String[] {null, "not-the-admin-token-at-all", gw.authAdmin.token}) {
      for (String path :
          new String[] {
            "/admin/auth/v1/tenants", "/admin/billing/v1/prices", "/admin/gateway/v1/workers"
          }) {
        HttpResponse<String> r = send("GET", path, token, null);
        assertThat(r.statusCode()).as("%s with %s", path, token).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate"))
            .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(r.body()).contains("\"code\":\"unauthorized\"");
      }
    }
    // a tenant API key is not an admin token either
    assertThat(send("GET", "/admin/auth/v1/tenants", TestGateway.KEY, null).statusCode())
        .isEqualTo(401);
    assertThat(gw.authAdmin.seen).hasSize(auth);
    assertThat(gw.billingAdmin.seen).hasSize(billing);
  }

  @Test
  void anOversizedBodyIs413AndABodyWithoutLengthIs411() throws Exception {
    int before = gw.authAdmin.seen.size();
    String big = "{\"name\":\"" + "x".repeat(9 * 1024) + "\"}";
    HttpResponse<String> r = send("POST", "/admin/auth/v1/tenants", TestGateway.ADMIN_TOKEN, big);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("request_too_large", "8192");

    HttpRequest chunked =
        HttpRequest.newBuilder(URI.create(gw.url("/admin/auth/v1/tenants")))
            .header("Authorization", "Bearer " + TestGateway.ADMIN_TOKEN)
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofInputStream(
                    () -> new ByteArrayInputStream("{\"name\":\"a\"}".getBytes())))
            .build();
    r = gw.http.send(chunked, HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(411);
    assertThat(gw.authAdmin.seen).hasSize(before);

    String small = "{\"name\":\"acme\"}";
    assertThat(send("POST", "/admin/auth/v1/tenants", TestGateway.ADMIN_TOKEN, small).statusCode())
        .isEqualTo(200);
  }

  @Test
  void dotSegmentsCannotLeaveTheAdminApi() throws Exception {
    int before = gw.authAdmin.seen.size();
    for (String path :
        new String[] {
          "/admin/auth/v1/%2e%2e/%2e%2e/actuator/env", "/admin/auth/v1/tenants%2F..%2Fx"
        }) {
      HttpResponse<String> r = send("GET", path, TestGateway.ADMIN_TOKEN, null);
      assertThat(r.statusCode()).as(path).isIn(400, 404);
    }
    assertThat(gw.authAdmin.seen).hasSize(before);
  }

  @Test
  void workersEndpointReportsTheWorkersLoad() throws Exception {
    HttpResponse<String> r =
        send("GET", "/admin/gateway/v1/workers", TestGateway.ADMIN_TOKEN, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body())
        .contains(
            "\"model\":\"" + TestGateway.MODEL + "\"",
            "\"state\":\"READY\"",
            "\"num_waiting\"",
            "\"kv_cache_usage\"",
            "\"decode_tokens_per_second\"");
    // the internal path the route forwards to is not reachable from outside
    assertThat(
            send("GET", WorkersHandler.INTERNAL_PATH, TestGateway.ADMIN_TOKEN, null).statusCode())
        .isEqualTo(404);
  }

  @Test
  void unknownAdminPathsAre404OnlyForAdmins() throws Exception {
    HttpResponse<String> r = send("GET", "/admin/nothing/here", TestGateway.ADMIN_TOKEN, null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body()).contains("\"code\":\"not_found\"", "/admin/auth/v1");
    assertThat(send("GET", "/admin/nothing/here", null, null).statusCode()).isEqualTo(401);
  }

  @Test
  void theAccessLogNamesTheCallButNoSecret() throws Exception {
    send("GET", "/admin/auth/v1/tenants?secret_in_query=q-s3cret", TestGateway.ADMIN_TOKEN, null);
    send(
        "POST",
        "/admin/billing/v1/accounts/t-9/top-ups",
        "wrong-token-in-header-0000",
        "{\"amount_micros\":1,\"note\":\"body-s3cret\"}");
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < end
        && logs.list.stream()
            .noneMatch(
                e -> e.getFormattedMessage().startsWith("POST /admin/billing/v1/accounts/t-9"))) {
      Thread.sleep(20);
    }
    assertThat(logs.list.stream().map(ILoggingEvent::getFormattedMessage))
        .anyMatch(m -> m.matches("GET /admin/auth/v1/tenants 200 \\d+ ms \\(route admin-auth\\)"))
        .anyMatch(
            m ->
                m.matches(
                    "POST /admin/billing/v1/accounts/t-9/top-ups 401 \\d+ ms \\(route"
                        + " admin-billing\\)"));
    for (ILoggingEvent e : logs.list) {
      String all =
          e.getFormattedMessage()
              + " "
              + e.getKeyValuePairs()
              + " "
              + e.getMDCPropertyMap()
              + " "
              + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage());
      assertThat(all)
          .doesNotContain(
              TestGateway.ADMIN_TOKEN,
              gw.authAdmin.token,
              gw.billingAdmin.token,
              "wrong-token-in-header",
              "q-s3cret",
              "body-s3cret",
              "browser-cookie-value");
    }
  }
}
