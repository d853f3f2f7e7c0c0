package org.glmmaas.platform.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

class ServiceDefaultsTest {

  @Test
  void sharedDefaultsSitBelowEverythingAServiceConfigures() {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources()
        .addFirst(
            new MapPropertySource(
                "application.yaml",
                Map.of(
                    "spring.application.name", "billing-service",
                    "management.endpoints.web.exposure.include", "health")));
    new ServiceDefaults().postProcessEnvironment(env, new SpringApplication());
    new ServiceDefaults().postProcessEnvironment(env, new SpringApplication());

    assertThat(env.getProperty("logging.structured.format.console")).isEqualTo("ecs");
    assertThat(env.getProperty("server.shutdown")).isEqualTo("graceful");
    assertThat(env.getProperty("spring.threads.virtual.enabled")).isEqualTo("true");
    assertThat(env.getProperty("management.endpoint.health.probes.enabled")).isEqualTo("true");
    assertThat(env.getProperty("management.metrics.tags.application")).isEqualTo("billing-service");
    assertThat(env.getProperty("management.endpoints.web.exposure.include"))
        .as("the service's own value wins")
        .isEqualTo("health");
    assertThat(env.getPropertySources().stream().map(p -> p.getName()))
        .containsOnlyOnce(ServiceDefaults.NAME)
        .last()
        .isEqualTo(ServiceDefaults.NAME);
  }
}
