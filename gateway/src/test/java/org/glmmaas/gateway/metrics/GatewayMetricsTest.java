package org.glmmaas.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;

/** What an operator's Prometheus scrapes from the gateway after a few calls. */
class GatewayMetricsTest {

  static final TestGateway gw = TestGateway.get();

  static String scrape() throws Exception {
    var r = gw.get("/actuator/prometheus", null);
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** The value of the sample whose name and labels contain all the given parts; 0 if none. */
  static double value(String scrape, String name, String... labels) {
    Pattern p =
        Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);
    Matcher m = p.matcher(scrape);
    double sum = 0;
    while (m.find()) {
      boolean all = true;
      for (String l : labels) {
        all &= m.group(1).contains(l);
      }
      if (all) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }

  @Test
  void callsLimitsLatencyAndWorkersShowUpUnderGlmGatewayNames() throws Exception {
    String before = scrape();
    String chat = TestGateway.chat("hi", null);
    assertThat(gw.post("/v1/chat/completions", TestGateway.METRICS_KEY, chat).statusCode())
        .isEqualTo(200);
    assertThat(
            gw.post(
                    "/api/paas/v4/chat/completions",
                    TestGateway.METRICS_KEY,
                    TestGateway.chat("hi", "\"stream\":true"))
                .statusCode())
        .isEqualTo(200);
    // the key allows 2 requests a minute
    assertThat(gw.post("/v1/chat/completions", TestGateway.METRICS_KEY, chat).statusCode())
        .isEqualTo(429);
    assertThat(gw.post("/v1/chat/completions", "nokey.nosecret", chat).statusCode()).isEqualTo(401);
    String after = scrape();

    String ok = "status=\"200\"";
    String model = "model=\"" + TestGateway.MODEL + "\"";
    assertThat(delta(before, after, "glm_gateway_requests_total", "dialect=\"openai\"", model, ok))
        .isGreaterThanOrEqualTo(1);
    assertThat(
            delta(before, after, "glm_gateway_requests_total", "dialect=\"bigmodel\"", model, ok))
        .isGreaterThanOrEqualTo(1);
    assertThat(
            delta(
                before,
                after,
                "glm_gateway_requests_total",
                "dialect=\"openai\"",
                model,
                "status=\"429\""))
        .isGreaterThanOrEqualTo(1);
    // before authentication the model is not vouched for: no label value from the caller
    assertThat(
            delta(
                before,
                after,
                "glm_gateway_requests_total",
                "dialect=\"openai\"",
                "model=\"none\"",
                "status=\"401\""))
        .isGreaterThanOrEqualTo(1);
    assertThat(
            delta(before, after, "glm_gateway_rate_limit_rejections_total", "limit=\"requests\""))
        .isGreaterThanOrEqualTo(1);
    assertThat(
            delta(before, after, "glm_gateway_added_latency_seconds_count", "dialect=\"openai\""))
        .isGreaterThanOrEqualTo(1);
    assertThat(
            delta(before, after, "glm_gateway_added_latency_seconds_count", "dialect=\"bigmodel\""))
        .isGreaterThanOrEqualTo(1);
    assertThat(after).contains("glm_gateway_added_latency_seconds_bucket{");
    assertThat(delta(before, after, "glm_gateway_time_to_first_token_seconds_count", model))
        .isGreaterThanOrEqualTo(2);
    // the chat worker and the embedding worker
    assertThat(value(after, "glm_gateway_workers", "state=\"ready\"")).isEqualTo(2);
    assertThat(value(after, "glm_gateway_workers", "state=\"unhealthy\"")).isZero();
    assertThat(after).containsPattern("(?m)^glm_gateway_requests_in_flight\\{[^}]*} \\d");
    assertThat(after).doesNotContain("kmetrics").doesNotContain("tmetrics");
  }

  static double delta(String before, String after, String name, String... labels) {
    return value(after, name, labels) - value(before, name, labels);
  }
}
