package org.glmmaas.gateway;

import org.glmmaas.platform.test.ServiceSmokeTestBase;

class ServiceSmokeTest extends ServiceSmokeTestBase {
  ServiceSmokeTest() {
    super("gateway");
  }
}
