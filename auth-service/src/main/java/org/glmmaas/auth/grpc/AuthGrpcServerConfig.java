package org.glmmaas.auth.grpc;

import org.glmmaas.auth.AuthProperties;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.grpc.GrpcServerCustomizer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** AuthService on the platform's gRPC server, {@code glm.auth.grpc.*}. */
@Configuration(proxyBeanMethods = false)
class AuthGrpcServerConfig {

  @Bean
  GrpcServer grpcServer(
      AuthGrpcService service,
      AuthProperties props,
      ObjectProvider<GrpcServerCustomizer> customizers) {
    return GrpcServer.builder("auth-service", props.grpc())
        .service(service)
        .customizers(customizers.orderedStream().toList())
        .build();
  }
}
