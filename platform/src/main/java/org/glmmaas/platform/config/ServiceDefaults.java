package org.glmmaas.platform.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.support.ResourcePropertySource;

/**
 * The settings every service shares, from {@code glm-service-defaults.properties}: virtual threads,
 * graceful HTTP shutdown, structured (ECS JSON) console logs, the actuator endpoints and probes an
 * operator scrapes, and the {@code application} tag on every metric. Added with the lowest
 * precedence, so a service's application.yaml, the environment and the command line override any of
 * them.
 */
public final class ServiceDefaults implements EnvironmentPostProcessor {

  static final String NAME = "glmServiceDefaults";
  static final String RESOURCE = "glm-service-defaults.properties";

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    if (environment.getPropertySources().contains(NAME)) {
      return;
    }
    try {
      environment
          .getPropertySources()
          .addLast(new ResourcePropertySource(NAME, new ClassPathResource(RESOURCE)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }
}
