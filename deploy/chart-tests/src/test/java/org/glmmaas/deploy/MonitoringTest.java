package org.glmmaas.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The Grafana dashboard and the alert rules only query metrics the services export. */
class MonitoringTest {

  /**
   * Prometheus names of the meters the services register (Micrometer name -> Prometheus name), and
   * the Spring Boot / Kafka client meters we rely on. Keep in sync with the services' metrics
   * classes.
   */
  static final Set<String> SERVICE_METRICS =
      Set.of(
          // inference-worker (WorkerMetrics, usage spool): tags model, worker, device
          "glm_request_time_to_first_token_seconds",
          "glm_request_inter_token_latency_seconds",
          "glm_num_requests_running",
          "glm_num_requests_waiting",
          "glm_kv_cache_usage_ratio",
          "glm_prompt_tokens_total",
          "glm_generation_tokens_total",
          "glm_request_success_total",
          "glm_usage_events_spooled_total",
          "glm_usage_spool_bytes",
          "glm_usage_events_published_total",
          "glm_usage_events_resent_total",
          "glm_usage_events_dropped_total",
          "glm_usage_events_unacked",
          // gateway (GatewayMetrics): tags dialect, model, status, limit, state
          "glm_gateway_requests_total",
          "glm_gateway_added_latency_seconds",
          "glm_gateway_time_to_first_token_seconds",
          "glm_gateway_requests_in_flight",
          "glm_gateway_rate_limit_rejections_total",
          "glm_gateway_workers",
          // billing-service (UsageListener); spend is tagged with the model (no tenant ids in
          // metrics)
          "glm_billing_usage_events_billed_total",
          "glm_billing_usage_events_dead_lettered_total",
          "glm_billing_usage_events_duplicate_total",
          "glm_billing_spend_micros_total",
          // Spring Boot / Prometheus / Kafka client
          "http_server_requests_seconds",
          "up",
          "kafka_consumer_fetch_manager_records_lag_max");

  static final Set<String> LABELS =
      Set.of(
          "model",
          "worker",
          "device",
          "finish_reason",
          "status",
          "uri",
          "application",
          "dialect",
          "limit",
          "state",
          "le",
          "instance",
          "job",
          "client_id",
          "topic",
          "partition");
  private static final Pattern METRIC =
      Pattern.compile(
          "\\b((?:glm|http_server|kafka)_[a-z0-9_]+|up)\\b(?=\\s*[{\\[)]|\\s*$|\\s*[<>=!])");
  private static final Pattern BY = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");

  @Test
  void dashboardCoversWhatOperatorsAskFor() throws IOException {
    JsonNode dash = new ObjectMapper().readTree(RepoFiles.deploy("grafana/glm-maas.json").toFile());
    List<String> titles = new ArrayList<>();
    dash.get("panels").forEach(p -> titles.add(p.get("title").asText()));
    assertThat(String.join("|", titles))
        .contains(
            "requests",
            "Tokens / s",
            "Time to first token",
            "Inter-token latency",
            "Queue per worker",
            "KV-cache usage per worker",
            "Limit refusals",
            "Spend per model");
    assertThat(dash.get("uid").asText()).isEqualTo("glm-maas");
  }

  @Test
  void everyDashboardQueryUsesExportedMetricsAndLabels() throws IOException {
    JsonNode dash = new ObjectMapper().readTree(RepoFiles.deploy("grafana/glm-maas.json").toFile());
    List<String> exprs = new ArrayList<>();
    dash.get("panels")
        .forEach(p -> p.get("targets").forEach(t -> exprs.add(t.get("expr").asText())));
    assertThat(exprs).hasSizeGreaterThanOrEqualTo(10);
    assertThat(problems(exprs)).isEmpty();
    assertThat(String.join(" ", exprs))
        .contains(
            "histogram_quantile(0.99",
            "glm_request_time_to_first_token_seconds_bucket",
            "glm_request_inter_token_latency_seconds_bucket");
  }

  @Test
  @SuppressWarnings("unchecked")
  void alertRulesCoverWorkerDownQueueSpoolAndLagWithExportedMetrics() throws IOException {
    Map<String, Object> file =
        new Yaml().load(Files.readString(RepoFiles.deploy("prometheus/alerts.yaml")));
    List<Map<String, Object>> rules = new ArrayList<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
      rules.addAll((List<Map<String, Object>>) group.get("rules"));
    }
    List<String> exprs = rules.stream().map(r -> (String) r.get("expr")).toList();
    assertThat(problems(exprs)).isEmpty();
    assertThat(rules)
        .allSatisfy(
            r -> {
              assertThat(r).containsKeys("alert", "expr", "labels", "annotations");
              assertThat((Map<String, Object>) r.get("labels")).containsKey("severity");
            });
    String all = String.join("\n", exprs);
    assertThat(all)
        .contains(
            "up{job=~\".*inference-worker.*\"} == 0",
            "glm_num_requests_waiting",
            "glm_usage_spool_bytes",
            "kafka_consumer_fetch_manager_records_lag_max");
  }

  @Test
  void theCheckerCatchesAnUnknownMetricOrLabel() {
    assertThat(problems(List.of("sum by (user) (rate(glm_made_up_total[5m]))")))
        .containsExactlyInAnyOrder("unknown metric glm_made_up_total", "unknown label user");
  }

  static List<String> problems(List<String> exprs) {
    Set<String> problems = new TreeSet<>();
    for (String raw : exprs) {
      String expr = raw.replaceAll("\\{\\{[^}]*}}", "");
      Matcher m = METRIC.matcher(expr);
      boolean any = false;
      while (m.find()) {
        any = true;
        String name = m.group(1).replaceAll("_(bucket|count|sum|max)$", "");
        if (!SERVICE_METRICS.contains(name) && !SERVICE_METRICS.contains(m.group(1))) {
          problems.add("unknown metric " + m.group(1));
        }
      }
      if (!any) {
        problems.add("no known metric in: " + raw);
      }
      Matcher by = BY.matcher(expr);
      while (by.find()) {
        for (String label : by.group(1).split(",")) {
          if (!label.isBlank() && !LABELS.contains(label.trim())) {
            problems.add("unknown label " + label.trim());
          }
        }
      }
    }
    return new ArrayList<>(problems);
  }
}
