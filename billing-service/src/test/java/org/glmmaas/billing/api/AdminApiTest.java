package org.glmmaas.billing.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.billing.support.TestInfra.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.glmmaas.billing.support.BillingIntegrationTest;
import org.glmmaas.billing.support.Events;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The admin HTTP API as the launcher and operators use it. */
class AdminApiTest extends BillingIntegrationTest {

  static final String TOKEN = "test-admin-token";

  @LocalServerPort int port;

  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = new JsonMapper();

  private HttpResponse<String> call(
      String method, String path, String body, String token, String accept) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (accept != null) {
      b.header("Accept", accept);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return call(method, path, body, TOKEN, null);
  }

  @Test
  void topUpPriceUsageAndStatementEndToEnd() throws Exception {
    String tenant = newTenant();
    String model = "glm-api-test-" + System.nanoTime();
    HttpResponse<String> price =
        admin(
            "PUT",
            "/admin/v1/prices/" + model,
            """
        {"input_micros_per_mtok":2000000,"cached_input_micros_per_mtok":1000000,
         "output_micros_per_mtok":8000000,"effective_from":"2020-01-01"}""");
    assertThat(price.statusCode()).isEqualTo(200);
    JsonNode prices = json.readTree(admin("GET", "/admin/v1/prices", null).body());
    assertThat(prices.get("prices").toString())
        .contains("\"model\":\"" + model + "\"")
        .contains("\"output_micros_per_mtok\":8000000");

    HttpResponse<String> topUp =
        admin(
            "POST",
            "/admin/v1/accounts/" + tenant + "/top-ups",
            "{\"amount_micros\":1000000,\"currency\":\"CNY\"}");
    assertThat(topUp.statusCode()).isEqualTo(200);
    assertThat(json.readTree(topUp.body()).get("balance_micros").asLong()).isEqualTo(1_000_000);

    UsageEvent e1 = Events.usage("api-1-" + tenant, tenant, model, "key-a", 1000, 200, 100);
    UsageEvent e2 = Events.usage("api-2-" + tenant, tenant, model, "key-a", 10, 0, 10);
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      p.send(new ProducerRecord<>(props.kafka().usageTopic(), tenant, e1.toByteArray()));
      p.send(new ProducerRecord<>(props.kafka().usageTopic(), tenant, e2.toByteArray()));
    }
    await("billed", Duration.ofSeconds(60), () -> ledgerRows(tenant) == 2);
    long cost =
        Events.expectedCost(2_000_000, 1_000_000, 8_000_000, 1000, 200, 100)
            + Events.expectedCost(2_000_000, 1_000_000, 8_000_000, 10, 0, 10);

    JsonNode balance =
        json.readTree(admin("GET", "/admin/v1/accounts/" + tenant + "/balance", null).body());
    assertThat(balance.get("balance_micros").asLong()).isEqualTo(1_000_000 - cost);
    assertThat(balance.get("reserved_micros").asLong()).isZero();
    assertThat(balance.get("currency").asString()).isEqualTo("CNY");

    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    JsonNode usage =
        json.readTree(
            admin(
                    "GET",
                    "/admin/v1/accounts/"
                        + tenant
                        + "/usage?from="
                        + today.minusDays(1)
                        + "&to="
                        + today.plusDays(1),
                    null)
                .body());
    assertThat(usage.get("rows")).hasSize(1);
    JsonNode row = usage.get("rows").get(0);
    assertThat(row.get("date").asString()).isEqualTo(today.toString());
    assertThat(row.get("model").asString()).isEqualTo(model);
    assertThat(row.get("key_id").asString()).isEqualTo("key-a");
    assertThat(row.get("requests").asLong()).isEqualTo(2);
    assertThat(row.get("prompt_tokens").asLong()).isEqualTo(1010);
    assertThat(row.get("cached_tokens").asLong()).isEqualTo(200);
    assertThat(row.get("completion_tokens").asLong()).isEqualTo(110);
    assertThat(row.get("cost_micros").asLong()).isEqualTo(cost);

    String month = today.toString().substring(0, 7);
    JsonNode statement =
        json.readTree(
            admin("GET", "/admin/v1/accounts/" + tenant + "/statements/" + month, null).body());
    assertThat(statement.get("total_cost_micros").asLong()).isEqualTo(cost);
    assertThat(statement.get("top_ups_micros").asLong()).isEqualTo(1_000_000);

    HttpResponse<String> csv =
        call(
            "GET",
            "/admin/v1/accounts/" + tenant + "/statements/" + month,
            null,
            TOKEN,
            "text/csv");
    assertThat(csv.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/csv");
    assertThat(csv.body())
        .startsWith(
            "date,model,key_id,requests,prompt_tokens,cached_tokens,"
                + "completion_tokens,cost_micros,currency\r\n")
        .contains(today + "," + model + ",key-a,2,1010,200,110," + cost + ",CNY\r\n")
        .endsWith("TOTAL,,,2,1010,200,110," + cost + ",CNY\r\n");
    assertThat(
            admin(
                    "GET",
                    "/admin/v1/accounts/" + tenant + "/statements/" + month + "?format=csv",
                    null)
                .body())
        .isEqualTo(csv.body());
  }

  @Test
  void adminRoutesNeedTheAdminToken() throws Exception {
    assertThat(call("GET", "/admin/v1/prices", null, null, null).statusCode()).isEqualTo(401);
    HttpResponse<String> wrong = call("GET", "/admin/v1/prices", null, "nope", null);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).contains("invalid admin token").doesNotContain(TOKEN);
  }

  @Test
  void badInputIsAPreciseClientError() throws Exception {
    String t = "/admin/v1/accounts/" + newTenant();
    assertThat(admin("POST", t + "/top-ups", "{\"amount_micros\":-5}").body())
        .contains("amount_micros must be between 1");
    assertThat(admin("POST", t + "/top-ups", "{\"amount_micros\":5,\"currency\":\"USD\"}").body())
        .contains("currency must be CNY");
    assertThat(admin("POST", t + "/top-ups", "{nope").statusCode()).isEqualTo(400);
    assertThat(admin("POST", t + "/top-ups", "{\"amount_micros\":1.5}").body())
        .contains("amount_micros must be a whole number of micro-units");
    assertThat(admin("GET", t + "/usage?from=2026-13-01&to=2026-01-01", null).body())
        .contains("invalid date '2026-13-01'");
    assertThat(admin("GET", t + "/usage?from=2026-02-01&to=2026-01-01", null).body())
        .contains("from must not be after to");
    assertThat(admin("GET", t + "/usage?from=2026-02-01", null).body())
        .contains("missing query parameter 'to'");
    assertThat(admin("GET", t + "/statements/2026-1", null).statusCode()).isEqualTo(400);
    HttpResponse<String> price =
        admin(
            "PUT",
            "/admin/v1/prices/x",
            "{\"input_micros_per_mtok\":-1," + "\"output_micros_per_mtok\":1}");
    assertThat(price.statusCode()).isEqualTo(400);
    assertThat(price.body()).contains("prices must not be negative");
  }
}
