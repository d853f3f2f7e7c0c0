package org.glmmaas.worker;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.glmmaas.platform.grpc.GrpcServerCustomizer;
import org.glmmaas.worker.api.WorkerGrpcServer;
import org.glmmaas.worker.config.LoggingUsageSink;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.lifecycle.ModelLoader;
import org.glmmaas.worker.lifecycle.NativeModelLoader;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.metrics.WorkerMetrics;
import org.glmmaas.worker.usage.UsageSink;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the worker: runtime, metrics, gRPC server, lifecycle, health. */
@Configuration(proxyBeanMethods = false)
public class WorkerConfiguration {

  @Bean
  @ConditionalOnMissingBean
  Clock workerClock() {
    return Clock.systemUTC();
  }

  /**
   * Only without Kafka: user configurations are not ordered, so {@code @ConditionalOnMissingBean}
   * alone cannot see {@link org.glmmaas.worker.usage.UsagePublisherConfig}'s Kafka sink; the
   * expression is that configuration's condition negated.
   */
  @Bean
  @ConditionalOnMissingBean(UsageSink.class)
  @ConditionalOnExpression(
      "'${glm.worker.usage.bootstrap-servers:}'.isEmpty()"
          + " and '${spring.kafka.bootstrap-servers:}'.isEmpty()")
  LoggingUsageSink loggingUsageSink() {
    return new LoggingUsageSink();
  }

  @Bean
  @ConditionalOnMissingBean
  ModelLoader modelLoader() {
    return new NativeModelLoader();
  }

  @Bean
  WorkerRuntime workerRuntime(
      WorkerProperties props,
      ModelLoader loader,
      UsageSink usageSink,
      Clock clock,
      MeterRegistry registry) {
    AtomicReference<WorkerRuntime> self = new AtomicReference<>();
    WorkerMetrics metrics =
        new WorkerMetrics(
            registry,
            props.modelId().isEmpty() ? "none" : props.modelId(),
            props.id(),
            props.device(),
            () -> {
              WorkerRuntime r = self.get();
              return r == null || r.loop() == null ? null : r.loop().snapshot();
            });
    WorkerRuntime runtime = new WorkerRuntime(props, loader, usageSink, metrics, clock);
    self.set(runtime);
    return runtime;
  }

  @Bean
  WorkerGrpcServer workerGrpcServer(
      WorkerRuntime runtime, ObjectProvider<GrpcServerCustomizer> customizers) {
    return new WorkerGrpcServer(runtime, customizers.orderedStream().toList());
  }

  @Bean
  WorkerLifecycle workerLifecycle(WorkerRuntime runtime, WorkerGrpcServer server) {
    return new WorkerLifecycle(runtime, server);
  }

  @Bean
  HealthIndicator workerHealthIndicator(WorkerRuntime runtime) {
    return WorkerHealth.readiness(runtime);
  }

  @Bean
  HealthIndicator engineLoopHealthIndicator(WorkerRuntime runtime) {
    return WorkerHealth.liveness(runtime, Duration.ofSeconds(60));
  }
}
