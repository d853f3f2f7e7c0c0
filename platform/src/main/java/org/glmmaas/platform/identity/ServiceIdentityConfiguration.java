package org.glmmaas.platform.identity;

import io.grpc.ServerInterceptor;
import java.util.List;
import org.glmmaas.platform.grpc.GrpcServerCustomizer;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * With {@code glm.service-identity.secret} set, every gRPC server of the service refuses calls
 * without a valid {@link ServiceIdentity} ({@code UNAUTHENTICATED}); grpc.health.v1 stays open for
 * probes.
 */
@AutoConfiguration
@ConditionalOnProperty(ServiceIdentity.PROPERTY)
public class ServiceIdentityConfiguration {

  @Bean
  GrpcServerCustomizer serviceIdentityCustomizer(Environment environment) {
    ServiceIdentity identity = ServiceIdentityEnvironment.of(environment);
    ServerInterceptor check = new ServiceIdentityServerInterceptor(identity);
    return new GrpcServerCustomizer() {
      @Override
      public List<ServerInterceptor> interceptors(String server) {
        return List.of(check);
      }

      @Override
      public boolean authenticatesCallers() {
        return true;
      }
    };
  }
}
