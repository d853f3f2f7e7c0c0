package org.glmmaas.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.glmmaas.platform.test.ServiceSmokeTestBase;
import org.springframework.test.context.TestPropertySource;

@TestPropertySource(
    properties = {"glm.worker.grpc.port=0", "glm.worker.usage.spool-dir=target/smoke-spool"})
class ServiceSmokeTest extends ServiceSmokeTestBase {
  ServiceSmokeTest() {
    super("inference-worker");
  }

  /** No model is configured here: the process is alive, but honestly not ready to serve. */
  @Override
  protected void assertHealthy() throws Exception {
    HttpResponse<String> liveness = get("/actuator/health/liveness");
    assertThat(liveness.statusCode()).isEqualTo(200);
    assertThat(liveness.body()).contains("\"status\":\"UP\"");
    HttpResponse<String> readiness = get("/actuator/health/readiness");
    assertThat(readiness.statusCode()).isEqualTo(503);
    assertThat(readiness.body()).contains("no model configured");
  }
}
