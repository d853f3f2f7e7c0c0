package org.glmmaas.worker.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import org.glmmaas.worker.scheduler.FinishInfo;
import org.glmmaas.worker.scheduler.FinishReason;
import org.glmmaas.worker.scheduler.LoadSnapshot;
import org.glmmaas.worker.scheduler.RequestTimings;
import org.junit.jupiter.api.Test;

class WorkerMetricsTest {

  @Test
  void exportsTheGlmMetersWithLowCardinalityLabels() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LoadSnapshot snap = new LoadSnapshot(3, 2, 25, 100, 10, 4, 7, 1.5, 0);
    WorkerMetrics m = new WorkerMetrics(registry, "glm-4", "w1", "cpu", () -> snap);
    m.onFirstToken(Duration.ofMillis(120));
    m.onInterToken(Duration.ofMillis(30));
    m.onStep(Duration.ofMillis(40), 17, 3);
    m.onPreemption();
    m.onPrefixLookup(10, 4);
    RequestTimings t =
        new RequestTimings(
            Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, 0);
    m.onFinished(new FinishInfo(FinishReason.STOP, null, null, 27, 16, 64, true, t));
    String text = registry.scrape();
    assertThat(text)
        .contains(
            "glm_request_time_to_first_token_seconds_count{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 1")
        .contains("glm_request_inter_token_latency_seconds_count")
        .contains("glm_engine_step_seconds_count")
        .contains("glm_num_requests_running{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 3")
        .contains("glm_num_requests_waiting{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 2")
        .contains("glm_kv_cache_usage_ratio{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 0.75")
        .contains("glm_prompt_tokens_total{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 27")
        .contains("glm_generation_tokens_total{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 64")
        .contains(
            "glm_request_success_total{device=\"cpu\",finish_reason=\"stop\",model=\"glm-4\",worker=\"w1\"} 1")
        .contains("glm_num_preemptions_total{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 1")
        .contains("glm_prefix_cache_hits_total{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 4")
        .contains(
            "glm_prefix_cache_queries_total{device=\"cpu\",model=\"glm-4\",worker=\"w1\"} 10");
  }
}
