package org.glmmaas.platform.identity;

import java.time.Clock;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Reads {@code glm.service-identity.secret} as a service starts, before any bean exists, so every
 * gRPC channel the service opens signs its calls ({@link
 * ServiceIdentityClientInterceptor#PROCESS_WIDE}) and its gRPC server checks them ({@link
 * ServiceIdentityConfiguration}). A bad secret (short, a placeholder) stops the start.
 */
public final class ServiceIdentityEnvironment implements EnvironmentPostProcessor {

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    ServiceIdentity.installProcessWide(of(environment));
  }

  static ServiceIdentity of(org.springframework.core.env.Environment environment) {
    String secret = environment.getProperty(ServiceIdentity.PROPERTY);
    if (secret == null || secret.isBlank()) {
      return null;
    }
    return new ServiceIdentity(
        secret, environment.getProperty("spring.application.name", "service"), Clock.systemUTC());
  }
}
