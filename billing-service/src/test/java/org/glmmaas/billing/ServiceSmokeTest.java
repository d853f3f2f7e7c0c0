package org.glmmaas.billing;

import org.glmmaas.platform.test.ServiceSmokeTestBase;
import org.springframework.test.context.TestPropertySource;

@TestPropertySource(
    properties = {
      "glm.embedded-db.dir=target/smoke-db",
      "glm.billing.grpc.port=0",
      "spring.kafka.admin.auto-create=false",
      "spring.kafka.listener.auto-startup=false"
    })
class ServiceSmokeTest extends ServiceSmokeTestBase {
  ServiceSmokeTest() {
    super("billing-service");
  }
}
