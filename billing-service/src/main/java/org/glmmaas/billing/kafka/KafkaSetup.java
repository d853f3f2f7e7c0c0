package org.glmmaas.billing.kafka;

import org.apache.kafka.clients.admin.NewTopic;
import org.glmmaas.billing.BillingProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;

/** Topics billing owns or reads (created when missing), and the listener's error policy. */
@Configuration(proxyBeanMethods = false)
public class KafkaSetup {

  @Bean
  NewTopic usageTopic(BillingProperties props) {
    return TopicBuilder.name(props.kafka().usageTopic())
        .partitions(props.kafka().usagePartitions())
        .build();
  }

  @Bean
  NewTopic usageDeadLetterTopic(BillingProperties props) {
    return TopicBuilder.name(props.kafka().deadLetterTopic()).partitions(1).build();
  }

  @Bean
  NewTopic accountStatusTopic(BillingProperties props) {
    return TopicBuilder.name(props.kafka().statusTopic())
        .partitions(props.kafka().usagePartitions())
        .compact()
        .build();
  }

  /**
   * Poison records never reach the error handler (the listener dead-letters them itself), so an
   * exception here means the database or the DLT is unavailable: retry the same batch, backing off
   * up to 30 s, forever; offsets are not committed meanwhile, so nothing is skipped.
   */
  @Bean
  CommonErrorHandler usageErrorHandler() {
    ExponentialBackOff backOff = new ExponentialBackOff(200, 2.0);
    backOff.setMaxInterval(30_000);
    backOff.setMaxElapsedTime(Long.MAX_VALUE);
    return new DefaultErrorHandler(backOff);
  }
}
