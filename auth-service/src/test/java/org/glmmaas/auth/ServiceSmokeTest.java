package org.glmmaas.auth;

import org.glmmaas.platform.test.ServiceSmokeTestBase;
import org.springframework.test.context.TestPropertySource;

@TestPropertySource(
    properties = {
      "glm.embedded-db.dir=target/smoke-db",
      "glm.auth.data-dir=target/smoke-data",
      "glm.auth.grpc.port=0"
    })
class ServiceSmokeTest extends ServiceSmokeTestBase {
  ServiceSmokeTest() {
    super("auth-service");
  }
}
