package org.glmmaas.billing.grpc;

import org.glmmaas.billing.BillingProperties;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.grpc.GrpcServerCustomizer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** BillingService on the platform's gRPC server, {@code glm.billing.grpc.*}. */
@Configuration(proxyBeanMethods = false)
class BillingGrpcServerConfig {

  @Bean
  GrpcServer grpcServer(
      BillingGrpcService service,
      BillingProperties props,
      ObjectProvider<GrpcServerCustomizer> customizers) {
    return GrpcServer.builder("billing-service", props.grpc())
        .service(service)
        .customizers(customizers.orderedStream().toList())
        .build();
  }
}
