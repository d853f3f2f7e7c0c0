package org.glmmaas.worker.usage;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Makes {@link KafkaUsagePublisher} the worker's {@link UsageSink} when Kafka is configured ({@code
 * glm.worker.usage.bootstrap-servers} or {@code spring.kafka.bootstrap-servers}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression(
    "!'${glm.worker.usage.bootstrap-servers:}'.isEmpty()"
        + " or !'${spring.kafka.bootstrap-servers:}'.isEmpty()")
public class UsagePublisherConfig {

  @Bean(destroyMethod = "close")
  KafkaUsagePublisher kafkaUsagePublisher(
      UsageProperties props,
      @Value("${spring.kafka.bootstrap-servers:}") String springBootstrap,
      MeterRegistry meters) {
    return KafkaUsagePublisher.create(props, springBootstrap, meters);
  }
}
