package org.glmmaas.platform.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.boot.micrometer.metrics.test.autoconfigure.AutoConfigureMetrics;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The service starts on its own (its whole Spring context, on a random HTTP port) and answers what
 * an operator's probes and scrapers ask: health UP and Prometheus metrics tagged with the
 * application's name. A service's {@code ServiceSmokeTest} extends this, names its application and
 * adds the properties it needs with {@code @TestPropertySource}; it overrides {@link
 * #assertHealthy} when its health is not plainly UP.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMetrics
public abstract class ServiceSmokeTestBase {

  private final String application;
  private final HttpClient http = HttpClient.newHttpClient();

  @LocalServerPort protected int port;

  /**
   * @param application the expected {@code spring.application.name} (the metrics' tag)
   */
  protected ServiceSmokeTestBase(String application) {
    this.application = application;
  }

  protected HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Health answers UP; override where the service is alive but honestly not ready. */
  protected void assertHealthy() throws Exception {
    HttpResponse<String> health = get("/actuator/health");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\":\"UP\"");
  }

  @Test
  void answersHealthAndPrometheus() throws Exception {
    assertHealthy();
    HttpResponse<String> prom = get("/actuator/prometheus");
    assertThat(prom.statusCode()).isEqualTo(200);
    assertThat(prom.body())
        .contains("jvm_memory_used_bytes")
        .contains("application=\"" + application + "\"");
  }
}
