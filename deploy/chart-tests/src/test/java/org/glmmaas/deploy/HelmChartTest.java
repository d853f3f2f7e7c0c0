package org.glmmaas.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.glmmaas.deploy.RenderedChart.list;
import static org.glmmaas.deploy.RenderedChart.map;
import static org.glmmaas.deploy.RenderedChart.podSpec;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;

class HelmChartTest {

  private static final String WORKER = "glm-glm-maas-inference-worker";
  private static final String KNOWLEDGE = "glm-glm-maas-knowledge-service";
  private static final Pattern SECRET_ENV =
      Pattern.compile(".*(TOKEN|PASSWORD|SECRET|JAAS|MASTERKEY|API_KEY).*");

  private static List<Arguments> renders;

  /** Rendered once per test class: each render is a native Helm call. */
  static synchronized Stream<Arguments> renders() {
    if (renders == null) {
      renders = renderAll().toList();
    }
    return renders.stream();
  }

  private static Stream<Arguments> renderAll() {
    return Stream.of(
        Arguments.of("defaults", RenderedChart.defaults()),
        Arguments.of("gpu-production", RenderedChart.gpuProduction()),
        Arguments.of(
            "cpu-pull-monitoring",
            RenderedChart.render(
                List.of(),
                Map.of(
                    "inferenceWorker.gpu.enabled", false,
                    "inferenceWorker.model.source", "pull",
                    "inferenceWorker.model.pull.url",
                        "https://huggingface.co/x/y/resolve/main/m.gguf",
                    "inferenceWorker.model.pvc.existingClaim", "",
                    "serviceMonitor.enabled", true,
                    "gateway.ingress.enabled", true,
                    "redis.enabled", true))));
  }

  @Test
  void lintsStrictWithDefaultValues() {
    LintResult result = new Helm(RepoFiles.chart()).lint().strict().call();
    assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
  }

  @Test
  void lintsStrictWithGpuProductionValues(@TempDir Path tmp) throws IOException {
    Path copy = tmp.resolve("glm-maas");
    copyTree(RepoFiles.chart(), copy);
    Yaml yaml = new Yaml();
    Map<String, Object> defaults = yaml.load(Files.readString(copy.resolve("values.yaml")));
    Map<String, Object> production =
        yaml.load(Files.readString(copy.resolve("values-gpu-production.yaml")));
    Files.writeString(copy.resolve("values.yaml"), yaml.dump(deepMerge(defaults, production)));

    LintResult result = new Helm(copy).lint().strict().call();

    assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void everyRenderedManifestIsAValidKubernetesObject(String profile, RenderedChart chart) {
    List<String> problems =
        chart.manifests().stream().flatMap(m -> KubernetesObjects.problems(m).stream()).toList();

    assertThat(problems).isEmpty();
    assertThat(chart.manifests()).hasSizeGreaterThan(10);
    assertThat(chart.ofKind("Deployment"))
        .extracting(RenderedChart::name)
        .containsExactlyInAnyOrder(
            "glm-glm-maas-gateway", "glm-glm-maas-auth-service", "glm-glm-maas-billing-service");
    assertThat(chart.ofKind("StatefulSet"))
        .extracting(RenderedChart::name)
        .containsExactlyInAnyOrder(WORKER, KNOWLEDGE);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void selectorsMatchThePodsTheyTarget(String profile, RenderedChart chart) {
    List<Map<String, Object>> podLabels = new ArrayList<>();
    for (Map<String, Object> d : workloads(chart)) {
      Map<String, Object> selector = map(d, "spec", "selector", "matchLabels");
      Map<String, Object> labels = map(d, "spec", "template", "metadata", "labels");
      assertThat(labels)
          .as("%s template labels", RenderedChart.name(d))
          .containsAllEntriesOf(selector);
      assertThat(selector)
          .as("minimal immutable selector")
          .containsOnlyKeys(
              "app.kubernetes.io/name",
              "app.kubernetes.io/instance",
              "app.kubernetes.io/component");
      podLabels.add(labels);
    }
    chart.ofKind("Pod").forEach(p -> podLabels.add(map(p, "metadata", "labels")));

    for (Map<String, Object> svc : chart.ofKind("Service")) {
      assertThat(matchesAny(map(svc, "spec", "selector"), podLabels))
          .as("Service %s selects a pod", RenderedChart.name(svc))
          .isTrue();
    }
    for (String kind : List.of("PodDisruptionBudget", "ServiceMonitor")) {
      for (Map<String, Object> m : chart.ofKind(kind)) {
        assertThat(matchesAny(map(m, "spec", "selector", "matchLabels"), podLabels))
            .as("%s %s selects a pod", kind, RenderedChart.name(m))
            .isTrue();
      }
    }
    for (Map<String, Object> np : chart.ofKind("NetworkPolicy")) {
      assertThat(matchesAny(map(np, "spec", "podSelector", "matchLabels"), podLabels))
          .as("NetworkPolicy %s selects a pod", RenderedChart.name(np))
          .isTrue();
    }
    for (Map<String, Object> hpa : chart.ofKind("HorizontalPodAutoscaler")) {
      Map<String, Object> target = map(hpa, "spec", "scaleTargetRef");
      assertThat(chart.find((String) target.get("kind"), (String) target.get("name")))
          .as("HPA target")
          .isPresent();
    }
    for (Map<String, Object> ing : chart.ofKind("Ingress")) {
      for (Map<String, Object> rule : list(map(ing, "spec"), "rules")) {
        for (Map<String, Object> path : list(map(rule, "http"), "paths")) {
          String svc = (String) map(path, "backend", "service").get("name");
          assertThat(chart.find("Service", svc)).as("Ingress backend %s", svc).isPresent();
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void everyPodRunsAsNonRootWithoutPrivilegeEscalation(String profile, RenderedChart chart) {
    List<Map<String, Object>> pods =
        new ArrayList<>(workloads(chart).stream().map(RenderedChart::podSpec).toList());
    chart.ofKind("Pod").forEach(p -> pods.add(map(p, "spec")));
    String gatewayAccount = "glm-glm-maas-gateway";
    for (Map<String, Object> pod : pods) {
      Map<String, Object> podSecurity = map(pod, "securityContext");
      assertThat(podSecurity).containsEntry("runAsNonRoot", true);
      assertThat((Integer) podSecurity.get("runAsUser")).isPositive();
      // only the gateway holds an API token, under its own account (EndpointSlice discovery)
      assertThat(pod)
          .containsEntry(
              "automountServiceAccountToken", gatewayAccount.equals(pod.get("serviceAccountName")));
      for (Map<String, Object> c : RenderedChart.allContainers(pod)) {
        Map<String, Object> sc = map(c, "securityContext");
        assertThat(sc)
            .as("container %s", c.get("name"))
            .containsEntry("allowPrivilegeEscalation", false)
            .containsEntry("readOnlyRootFilesystem", true);
        assertThat(map(sc, "capabilities").get("drop")).isEqualTo(List.of("ALL"));
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void secretsComeFromSecretsNeverFromLiterals(String profile, RenderedChart chart) {
    List<String> secretNames = chart.ofKind("Secret").stream().map(RenderedChart::name).toList();
    int secretRefs = 0;
    List<Map<String, Object>> pods =
        new ArrayList<>(workloads(chart).stream().map(RenderedChart::podSpec).toList());
    chart.ofKind("Pod").forEach(p -> pods.add(map(p, "spec")));
    for (Map<String, Object> pod : pods) {
      for (Map<String, Object> c : RenderedChart.allContainers(pod)) {
        for (Map<String, Object> env : list(c, "env")) {
          String name = (String) env.get("name");
          if (!SECRET_ENV.matcher(name).matches()) {
            continue;
          }
          assertThat(env).as("env %s of %s", name, c.get("name")).doesNotContainKey("value");
          Map<String, Object> ref = map(env, "valueFrom", "secretKeyRef");
          assertThat(ref)
              .as("env %s of %s uses a secretKeyRef", name, c.get("name"))
              .containsKeys("name", "key");
          if (profile.equals("defaults")) {
            assertThat(secretNames).as("chart-managed Secret").contains((String) ref.get("name"));
          }
          secretRefs++;
        }
      }
    }
    assertThat(secretRefs)
        .as("admin tokens, master key and DB passwords are wired")
        .isGreaterThanOrEqualTo(5);
    assertThat(chart.ofKind("ConfigMap"))
        .as("no ConfigMap carries configuration that could hold a secret")
        .isEmpty();
    assertThat(chart.yaml()).doesNotContain("GLM_AUTH_ADMINTOKEN\n              value:");
  }

  @Test
  void defaultsCreateRandomSecretsAndProductionUsesExistingOnes() {
    RenderedChart defaults = RenderedChart.defaults();
    Map<String, Object> secret = defaults.get("Secret", "glm-glm-maas");
    assertThat(map(secret, "data"))
        .containsOnlyKeys(
            "auth-admin-token",
            "auth-master-key",
            "billing-admin-token",
            "gateway-admin-token",
            "service-identity-secret");
    assertThat(map(secret, "data").values())
        .allSatisfy(v -> assertThat((String) v).hasSizeGreaterThan(40));
    assertThat(map(defaults.get("Secret", "glm-glm-maas-db"), "data"))
        .containsKey("postgres-password");
    assertThat(map(secret, "metadata", "annotations"))
        .as("created once, kept: the master key never changes on upgrade")
        .containsEntry(RenderedChart.HOOK_MARK, "pre-install")
        .containsEntry("helm.sh/resource-policy", "keep");

    // the gateway's admin entry: its own token (optional: an upgraded chart-made Secret lacks
    // it) and the services' tokens towards their admin HTTP ports
    assertThat(defaults.yaml())
        .contains(
            "name: GLM_GATEWAY_ADMIN_TOKEN",
            "key: gateway-admin-token",
            "optional: true",
            "name: GLM_GATEWAY_ADMIN_AUTH_URL",
            "value: \"http://glm-glm-maas-auth-service:8081\"",
            "name: GLM_GATEWAY_ADMIN_BILLING_TOKEN");

    RenderedChart production = RenderedChart.gpuProduction();
    assertThat(production.ofKind("Secret")).as("production names existing Secrets only").isEmpty();
    assertThat(production.yaml())
        .contains("name: glm-maas-secrets", "name: glm-postgresql", "name: glm-kafka-sasl");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void workerIsOnePodPerGpuWithModelVolumeAndSizedStartup(String profile, RenderedChart chart) {
    Map<String, Object> worker = chart.get("StatefulSet", WORKER);
    Map<String, Object> pod = podSpec(worker);
    Map<String, Object> container = list(pod, "containers").getFirst();
    Map<String, Object> env = envValues(container);
    boolean gpu = !profile.startsWith("cpu");
    if (gpu) {
      assertThat(map(container, "resources", "limits")).containsEntry("nvidia.com/gpu", 1);
      assertThat(env).containsEntry("GLM_WORKER_DEVICE", "cuda:0");
      assertThat(list(pod, "tolerations")).extracting(t -> t.get("key")).contains("nvidia.com/gpu");
    } else {
      assertThat(map(container, "resources", "limits")).doesNotContainKey("nvidia.com/gpu");
      assertThat(env).containsEntry("GLM_WORKER_DEVICE", "cpu");
    }
    assertThat((String) env.get("GLM_WORKER_MODEL")).startsWith("/models/").endsWith(".gguf");
    assertThat(list(container, "volumeMounts"))
        .anySatisfy(
            m ->
                assertThat(m)
                    .containsEntry("name", "model")
                    .containsEntry("mountPath", "/models")
                    .containsEntry("readOnly", true));
    Map<String, Object> startup = map(container, "startupProbe");
    int startupBudget =
        (Integer) startup.get("periodSeconds") * (Integer) startup.get("failureThreshold");
    assertThat(startupBudget)
        .as("seconds allowed for model load + warm-up")
        .isGreaterThanOrEqualTo(600);
    assertThat(map(startup, "httpGet")).containsEntry("path", "/actuator/health/readiness");
    assertThat(map(container, "lifecycle", "preStop", "sleep")).containsKey("seconds");
    assertThat((Integer) pod.get("terminationGracePeriodSeconds")).isGreaterThanOrEqualTo(60);
    int grace = (Integer) pod.get("terminationGracePeriodSeconds");
    int preStop = (Integer) map(container, "lifecycle", "preStop", "sleep").get("seconds");
    int drain = Integer.parseInt(((String) env.get("GLM_WORKER_DRAINTIMEOUT")).replace("s", ""));
    assertThat(preStop + drain)
        .as("the worker finishes draining before the kubelet kills it")
        .isLessThan(grace);
    // A StatefulSet never surges (a new worker never needs a GPU the release does not hold) and
    // keeps each worker's usage spool on its own claim across pod deletion.
    assertThat(map(worker, "spec"))
        .containsEntry("podManagementPolicy", "Parallel")
        .containsEntry("serviceName", WORKER + "-headless");
    assertThat(chart.find("Service", WORKER + "-headless")).isPresent();
    assertThat(map(worker, "spec", "updateStrategy")).containsEntry("type", "RollingUpdate");
    assertThat(list(container, "volumeMounts"))
        .anySatisfy(
            m ->
                assertThat(m)
                    .containsEntry("name", "spool")
                    .containsEntry("mountPath", "/var/lib/glm/spool"));
    assertThat(list(map(worker, "spec"), "volumeClaimTemplates"))
        .singleElement()
        .satisfies(
            claim -> {
              assertThat(map(claim, "metadata")).containsEntry("name", "spool");
              assertThat(map(claim, "spec", "resources", "requests"))
                  .containsEntry("storage", "1Gi");
            });
    assertThat(list(pod, "volumes")).noneSatisfy(v -> assertThat(v).containsEntry("name", "spool"));
  }

  @Test
  void workerSpoolWithoutPersistenceIsAnEmptyDir() {
    RenderedChart chart =
        RenderedChart.render(
            List.of(), Map.of("inferenceWorker.spool.persistence.enabled", "false"));
    Map<String, Object> worker = chart.get("StatefulSet", WORKER);
    assertThat(map(worker, "spec")).doesNotContainKey("volumeClaimTemplates");
    assertThat(list(podSpec(worker), "volumes"))
        .anySatisfy(v -> assertThat(v).containsEntry("name", "spool").containsKey("emptyDir"));
  }

  private static List<Map<String, Object>> workloads(RenderedChart chart) {
    List<Map<String, Object>> all = new ArrayList<>(chart.ofKind("Deployment"));
    all.addAll(chart.ofKind("StatefulSet"));
    return all;
  }

  @Test
  void productionWorkerScalesOnWaitingRequestsAndPinsGpuNodes() {
    RenderedChart chart = RenderedChart.gpuProduction();
    Map<String, Object> hpa = chart.get("HorizontalPodAutoscaler", WORKER);
    Map<String, Object> metric = list(map(hpa, "spec"), "metrics").getFirst();
    assertThat(metric).containsEntry("type", "Pods");
    assertThat(map(metric, "pods", "metric")).containsEntry("name", "glm_num_requests_waiting");
    Map<String, Object> pod = podSpec(chart.get("StatefulSet", WORKER));
    assertThat(map(pod, "nodeSelector")).containsEntry("nvidia.com/gpu.present", "true");
    Map<String, Object> startup = map(list(pod, "containers").getFirst(), "startupProbe");
    assertThat((Integer) startup.get("periodSeconds") * (Integer) startup.get("failureThreshold"))
        .isEqualTo(1800);
    assertThat(map(chart.get("Ingress", "glm-glm-maas-gateway"), "metadata", "annotations"))
        .containsEntry("nginx.ingress.kubernetes.io/proxy-buffering", "off");
    // gateway, auth, billing, workers and knowledge-service
    assertThat(chart.ofKind("ServiceMonitor")).hasSize(5);
  }

  @Test
  @SuppressWarnings("unchecked")
  void productionShipsTheAlertRulesOfDeployPrometheus() throws IOException {
    assertThat(RepoFiles.chart().resolve("files/alerts.yaml"))
        .as("the chart's copy of the alert rules")
        .hasSameTextualContentAs(RepoFiles.deploy("prometheus/alerts.yaml"));
    Map<String, Object> rule = RenderedChart.gpuProduction().get("PrometheusRule", "glm-glm-maas");
    assertThat(map(rule, "metadata", "labels")).containsEntry("release", "kube-prometheus-stack");
    Map<String, Object> group = list(map(rule, "spec"), "groups").getFirst();
    assertThat(list(group, "rules"))
        .extracting(r -> r.get("alert"))
        .contains(
            "GlmWorkerDown",
            "GlmWorkerQueueGrowing",
            "GlmUsageSpoolNotEmpty",
            "GlmBillingConsumerLag");
    assertThat(RenderedChart.defaults().ofKind("PrometheusRule")).isEmpty();
  }

  @Test
  void gpuResourceNameIsConfigurable() {
    RenderedChart chart =
        RenderedChart.render(
            List.of(), Map.of("inferenceWorker.gpu.resourceName", "nvidia.com/mig-3g.40gb"));
    Map<String, Object> container =
        list(podSpec(chart.get("StatefulSet", WORKER)), "containers").getFirst();
    assertThat(map(container, "resources", "limits"))
        .containsEntry("nvidia.com/mig-3g.40gb", 1)
        .doesNotContainKey("nvidia.com/gpu");
  }

  @Test
  void pullModeDownloadsResumablyAndVerifiesTheChecksum() {
    String sha = "a".repeat(64);
    RenderedChart chart =
        RenderedChart.render(
            List.of(),
            Map.of(
                "inferenceWorker.model.source", "pull",
                "inferenceWorker.model.pull.url",
                    "https://huggingface.co/THUDM/glm/resolve/main/glm.gguf",
                "inferenceWorker.model.pull.sha256", sha,
                "inferenceWorker.model.pull.tokenSecret", "hf-token"));
    Map<String, Object> init =
        list(podSpec(chart.get("StatefulSet", WORKER)), "initContainers").getFirst();
    assertThat(init).containsEntry("name", "pull-model");
    assertThat(list(init, "args").toString()).contains("curl -fL", "-C -", "sha256sum -c");
    assertThat(envValues(init)).containsEntry("MODEL_SHA256", sha);
    assertThat(list(init, "env"))
        .anySatisfy(
            e -> assertThat(map(e, "valueFrom", "secretKeyRef")).containsEntry("name", "hf-token"));

    // the token never goes over plain http
    assertThatThrownBy(
            () ->
                RenderedChart.render(
                    List.of(),
                    Map.of(
                        "inferenceWorker.model.source", "pull",
                        "inferenceWorker.model.pull.url", "http://mirror.local/glm.gguf",
                        "inferenceWorker.model.pull.tokenSecret", "hf-token")))
        .hasMessageContaining("sent only over https");
  }

  @Test
  void networkPolicyDeniesByDefaultAndAllowsOnlyTheGatewayToReachWorkers() {
    RenderedChart chart = RenderedChart.defaults();
    Map<String, Object> deny = chart.get("NetworkPolicy", "glm-glm-maas-default-deny");
    assertThat(map(deny, "spec"))
        .containsEntry("policyTypes", List.of("Ingress", "Egress"))
        .doesNotContainKey("ingress");
    Map<String, Object> worker = chart.get("NetworkPolicy", WORKER);
    List<Map<String, Object>> ingress = list(map(worker, "spec"), "ingress");
    Map<String, Object> grpcRule = ingress.getFirst();
    assertThat(list(grpcRule, "ports")).extracting(p -> p.get("port")).containsExactly(9083);
    assertThat(map(list(grpcRule, "from").getFirst(), "podSelector", "matchLabels"))
        .containsEntry("app.kubernetes.io/component", "gateway");
  }

  /**
   * knowledge-service: its Lucene index on a volume claim of its own (one pod: the index is local),
   * probes on the readiness/liveness groups, SIMD vector search enabled, the gateway pointed at its
   * gRPC port, and only the gateway may call it; it may call the workers (Embed) and billing.
   */
  @Test
  void knowledgeServiceKeepsItsIndexOnAVolumeAndOnlyTheGatewayReachesIt() {
    RenderedChart chart = RenderedChart.defaults();
    Map<String, Object> sts = chart.get("StatefulSet", KNOWLEDGE);
    assertThat(map(sts, "spec")).containsEntry("replicas", 1);
    Map<String, Object> claim = list(map(sts, "spec"), "volumeClaimTemplates").getFirst();
    assertThat(map(claim, "metadata")).containsEntry("name", "index");
    assertThat(map(claim, "spec").get("accessModes")).isEqualTo(List.of("ReadWriteOnce"));
    Map<String, Object> container = RenderedChart.allContainers(podSpec(sts)).getFirst();
    Map<String, Object> env = envValues(container);
    assertThat(list(container, "volumeMounts"))
        .anySatisfy(
            m ->
                assertThat(m)
                    .containsEntry("name", "index")
                    .containsEntry("mountPath", env.get("GLM_KNOWLEDGE_INDEXDIR")));
    assertThat(env)
        .containsEntry("JDK_JAVA_OPTIONS", "--add-modules=jdk.incubator.vector")
        .containsEntry("GLM_KNOWLEDGE_GRPC_PORT", "9085")
        .containsEntry("GLM_KNOWLEDGE_EMBEDTARGETS", "dns:///" + WORKER + "-headless:9083")
        .containsEntry("GLM_KNOWLEDGE_BILLING_ADDRESS", "glm-glm-maas-billing-service:9082")
        .containsEntry(
            "SPRING_DATASOURCE_URL",
            "jdbc:postgresql://postgresql:5432/glm_knowledge?sslmode=disable");
    assertThat(map(container, "readinessProbe", "httpGet"))
        .containsEntry("path", "/actuator/health/readiness");
    assertThat(map(container, "livenessProbe", "httpGet"))
        .containsEntry("path", "/actuator/health/liveness");
    assertThat(list(container, "ports"))
        .extracting(p -> p.get("containerPort"))
        .containsExactlyInAnyOrder(8085, 9085);

    Map<String, Object> gw =
        RenderedChart.allContainers(podSpec(chart.get("Deployment", "glm-glm-maas-gateway")))
            .getFirst();
    assertThat(envValues(gw)).containsEntry("GLM_GATEWAY_KNOWLEDGE_ADDRESS", KNOWLEDGE + ":9085");

    Map<String, Object> np = chart.get("NetworkPolicy", KNOWLEDGE);
    Map<String, Object> grpcRule = list(map(np, "spec"), "ingress").getFirst();
    assertThat(list(grpcRule, "ports")).extracting(p -> p.get("port")).containsExactly(9085);
    assertThat(list(grpcRule, "from"))
        .extracting(f -> map(f, "podSelector", "matchLabels").get("app.kubernetes.io/component"))
        .containsExactly("gateway");
    assertThat(list(map(np, "spec"), "egress"))
        .extracting(e -> list(e, "ports").getFirst().get("port"))
        .contains(9083, 9082, 5432);
    // the workers and billing let it in
    assertThat(
            String.valueOf(
                list(map(chart.get("NetworkPolicy", WORKER), "spec"), "ingress")
                    .getFirst()
                    .get("from")))
        .contains("knowledge-service");
    assertThat(
            list(map(chart.get("NetworkPolicy", "glm-glm-maas-billing-service"), "spec"), "ingress")
                .toString())
        .contains("knowledge-service");

    RenderedChart off = RenderedChart.render(List.of(), Map.of("knowledgeService.enabled", false));
    assertThat(off.find("StatefulSet", KNOWLEDGE)).isEmpty();
    assertThat(
            envValues(
                RenderedChart.allContainers(podSpec(off.get("Deployment", "glm-glm-maas-gateway")))
                    .getFirst()))
        .doesNotContainKey("GLM_GATEWAY_KNOWLEDGE_ADDRESS");
  }

  @Test
  void grpcServersListenOnThePodAddressNotJustLoopback() {
    // the services bind 127.0.0.1 unless told otherwise; in a pod the gateway calls the pod IP
    RenderedChart chart = RenderedChart.defaults();
    for (String[] s :
        new String[][] {
          {"Deployment", "auth-service", "GLM_AUTH_GRPC_HOST"},
          {"Deployment", "billing-service", "GLM_BILLING_GRPC_HOST"},
          {"StatefulSet", "knowledge-service", "GLM_KNOWLEDGE_GRPC_HOST"},
          {"StatefulSet", "inference-worker", "GLM_WORKER_GRPC_HOST"}
        }) {
      Map<String, Object> pod = podSpec(chart.get(s[0], "glm-glm-maas-" + s[1]));
      assertThat(envValues(RenderedChart.allContainers(pod).getFirst()))
          .as(s[1])
          .containsEntry(s[2], "0.0.0.0");
    }
  }

  /** Every service proves and checks the deployment's service identity on internal gRPC calls. */
  @Test
  void everyServiceGetsTheServiceIdentitySecretFromTheSecret() {
    for (RenderedChart chart : List.of(RenderedChart.defaults(), RenderedChart.gpuProduction())) {
      for (String[] s :
          new String[][] {
            {"Deployment", "auth-service"},
            {"Deployment", "billing-service"},
            {"StatefulSet", "knowledge-service"},
            {"StatefulSet", "inference-worker"},
            {"Deployment", "gateway"}
          }) {
        Map<String, Object> container =
            RenderedChart.allContainers(podSpec(chart.get(s[0], "glm-glm-maas-" + s[1]))).stream()
                .filter(c -> String.valueOf(c.get("name")).equals(s[1]))
                .findFirst()
                .orElseThrow();
        Map<String, Object> env =
            list(container, "env").stream()
                .filter(e -> "GLM_SERVICEIDENTITY_SECRET".equals(e.get("name")))
                .findFirst()
                .orElseThrow(() -> new AssertionError(s[1] + " has no GLM_SERVICEIDENTITY_SECRET"));
        assertThat(map(env, "valueFrom", "secretKeyRef"))
            .as(s[1])
            .containsEntry("key", "service-identity-secret");
      }
    }
  }

  /**
   * The defaults ran 2-10 gateway replicas without Redis: limits multiplied by the replica count
   * and async results landed in one pod's emptyDir. Now more than one needs Redis.
   */
  @Test
  void moreThanOneGatewayWithoutRedisIsRefused() {
    assertThat(
            RenderedChart.defaults().ofKind("HorizontalPodAutoscaler").stream()
                .map(RenderedChart::name))
        .doesNotContain("glm-glm-maas-gateway");
    assertThat(map(RenderedChart.defaults().get("Deployment", "glm-glm-maas-gateway"), "spec"))
        .containsEntry("replicas", 1);
    assertThatThrownBy(() -> RenderedChart.render(List.of(), Map.of("gateway.replicaCount", 3)))
        .hasMessageContaining("needs redis.enabled=true");
    assertThatThrownBy(
            () -> RenderedChart.render(List.of(), Map.of("gateway.autoscaling.enabled", true)))
        .hasMessageContaining("needs redis.enabled=true");
    RenderedChart scaled =
        RenderedChart.render(
            List.of(),
            Map.of(
                "gateway.autoscaling.enabled",
                true,
                "redis.enabled",
                true,
                "files.store",
                "s3",
                "files.s3.bucket",
                "b"));
    assertThat(scaled.ofKind("HorizontalPodAutoscaler").stream().map(RenderedChart::name))
        .contains("glm-glm-maas-gateway");
  }

  /**
   * Uploaded files: the folder store (one pod's emptyDir) by default; more than one gateway needs
   * the S3 store, whose settings, Secret and egress reach the gateway.
   */
  @Test
  void filesLiveInTheFolderForOneGatewayAndInS3ForSeveral() {
    String gw = "glm-glm-maas-gateway";
    Map<String, Object> one =
        RenderedChart.allContainers(podSpec(RenderedChart.defaults().get("Deployment", gw)))
            .getFirst();
    assertThat(envValues(one))
        .containsEntry("GLM_GATEWAY_FILES_STORE", "folder")
        .doesNotContainKey("GLM_GATEWAY_FILES_S3_BUCKET");

    assertThatThrownBy(
            () ->
                RenderedChart.render(
                    List.of(), Map.of("gateway.replicaCount", 3, "redis.enabled", true)))
        .hasMessageContaining("needs files.store=s3");
    assertThatThrownBy(
            () ->
                RenderedChart.render(
                    List.of(), Map.of("gateway.autoscaling.enabled", true, "redis.enabled", true)))
        .hasMessageContaining("needs files.store=s3");
    assertThatThrownBy(() -> RenderedChart.render(List.of(), Map.of("files.store", "s3")))
        .hasMessageContaining("files.store=s3 needs files.s3.bucket");
    assertThatThrownBy(() -> RenderedChart.render(List.of(), Map.of("files.store", "nfs")))
        .hasMessageContaining("/files/store");

    RenderedChart minio =
        RenderedChart.render(
            List.of(),
            Map.of(
                "gateway.replicaCount", 3,
                "redis.enabled", true,
                "files.store", "s3",
                "files.s3.endpoint", "http://minio.storage.svc:9000",
                "files.s3.bucket", "glm-files",
                "files.s3.pathStyle", true,
                "files.s3.existingSecret", "glm-minio"));
    Map<String, Object> c =
        RenderedChart.allContainers(podSpec(minio.get("Deployment", gw))).getFirst();
    assertThat(envValues(c))
        .containsEntry("GLM_GATEWAY_FILES_STORE", "s3")
        .containsEntry("GLM_GATEWAY_FILES_S3_ENDPOINT", "http://minio.storage.svc:9000")
        .containsEntry("GLM_GATEWAY_FILES_S3_BUCKET", "glm-files")
        .containsEntry("GLM_GATEWAY_FILES_S3_REGION", "us-east-1")
        .containsEntry("GLM_GATEWAY_FILES_S3_PATHSTYLE", "true");
    for (String[] k :
        new String[][] {
          {"GLM_GATEWAY_FILES_S3_ACCESSKEY", "access-key"},
          {"GLM_GATEWAY_FILES_S3_SECRETKEY", "secret-key"}
        }) {
      Map<String, Object> env =
          list(c, "env").stream().filter(e -> k[0].equals(e.get("name"))).findFirst().orElseThrow();
      assertThat(map(env, "valueFrom", "secretKeyRef"))
          .containsEntry("name", "glm-minio")
          .containsEntry("key", k[1]);
    }
    assertThat(list(map(minio.get("NetworkPolicy", gw), "spec"), "egress"))
        .anySatisfy(
            r -> assertThat(list(r, "ports")).extracting(p -> p.get("port")).contains(9000));

    // production: AWS S3 through the default chain's port 443, credentials from its Secret
    Map<String, Object> prod =
        RenderedChart.allContainers(podSpec(RenderedChart.gpuProduction().get("Deployment", gw)))
            .getFirst();
    assertThat(envValues(prod))
        .containsEntry("GLM_GATEWAY_FILES_STORE", "s3")
        .containsEntry("GLM_GATEWAY_FILES_S3_BUCKET", "glm-maas-files")
        .doesNotContainKey("GLM_GATEWAY_FILES_S3_ENDPOINT");
  }

  @Test
  void gatewayDiscoversWorkersFromEndpointSlicesWithReadOnlyRbacByDefault() {
    RenderedChart chart = RenderedChart.defaults();
    String gw = "glm-glm-maas-gateway";
    Map<String, Object> pod = podSpec(chart.get("Deployment", gw));
    assertThat(pod)
        .containsEntry("serviceAccountName", gw)
        .containsEntry("automountServiceAccountToken", true);
    Map<String, Object> env = envValues(RenderedChart.allContainers(pod).getFirst());
    assertThat(env)
        .containsEntry("GLM_GATEWAY_DISCOVERY_MODE", "kubernetes")
        .containsEntry("GLM_GATEWAY_DISCOVERY_KUBERNETES_SERVICE", WORKER + "-headless")
        .containsEntry("GLM_GATEWAY_DISCOVERY_KUBERNETES_PORTNAME", "grpc")
        .doesNotContainKey("GLM_GATEWAY_WORKERS");
    // the port name the gateway looks for is the worker Service's gRPC port
    assertThat(list(map(chart.get("Service", WORKER + "-headless"), "spec"), "ports"))
        .anySatisfy(p -> assertThat(p).containsEntry("name", "grpc"));
    assertThat(chart.get("ServiceAccount", gw)).isNotNull();
    List<Map<String, Object>> rules = list(chart.get("Role", gw + "-discovery"), "rules");
    assertThat(rules)
        .hasSize(2)
        .allSatisfy(r -> assertThat(r.get("verbs")).isEqualTo(List.of("get", "list", "watch")));
    assertThat(rules)
        .extracting(r -> r.get("resources"))
        .containsExactlyInAnyOrder(List.of("endpointslices"), List.of("endpoints"));
    Map<String, Object> binding = chart.get("RoleBinding", gw + "-discovery");
    assertThat(map(binding, "roleRef"))
        .containsEntry("kind", "Role")
        .containsEntry("name", gw + "-discovery");
    assertThat(list(binding, "subjects").getFirst())
        .containsEntry("kind", "ServiceAccount")
        .containsEntry("name", gw);
    // and the default-deny policy lets it reach the API server
    assertThat(list(map(chart.get("NetworkPolicy", gw), "spec"), "egress"))
        .anySatisfy(
            r -> assertThat(list(r, "ports")).extracting(p -> p.get("port")).contains(443, 6443));

    RenderedChart fixed =
        RenderedChart.render(List.of(), Map.of("gateway.discovery.mode", "static"));
    Map<String, Object> staticPod = podSpec(fixed.get("Deployment", gw));
    assertThat(staticPod).containsEntry("automountServiceAccountToken", false);
    assertThat(envValues(RenderedChart.allContainers(staticPod).getFirst()))
        .containsEntry("GLM_GATEWAY_WORKERS", WORKER + "-headless:9083")
        .doesNotContainKey("GLM_GATEWAY_DISCOVERY_MODE");
    assertThat(fixed.ofKind("Role")).isEmpty();
    assertThat(fixed.ofKind("RoleBinding")).isEmpty();
  }

  @Test
  void helmTestHookListsModelsThroughTheGateway() {
    RenderedChart chart =
        RenderedChart.render(List.of(), Map.of("tests.apiKeySecret", "smoke-key"));
    Map<String, Object> pod = chart.get("Pod", "glm-glm-maas-test-list-models");
    assertThat(map(pod, "metadata", "annotations")).containsEntry(RenderedChart.HOOK_MARK, "test");
    String script = list(map(pod, "spec"), "containers").getFirst().get("args").toString();
    assertThat(script)
        .contains(
            "http://glm-glm-maas-gateway:80/v1/models", "\"object\" *: *\"list\"", "glm-4-9b-chat");
  }

  @Test
  void badValuesAreRejectedWithAClearMessage() {
    assertThatThrownBy(() -> RenderedChart.render(List.of(), Map.of("gateway.replicas", 3)))
        .hasMessageContaining("replicas");
    assertThatThrownBy(
            () -> RenderedChart.render(List.of(), Map.of("inferenceWorker.model.source", "s3")))
        .hasMessageContaining("source");
    assertThatThrownBy(
            () ->
                RenderedChart.render(
                    List.of(), Map.of("inferenceWorker.model.pvc.existingClaim", "")))
        .hasMessageContaining("existingClaim is required");
    assertThatThrownBy(
            () -> RenderedChart.render(List.of(), Map.of("kafka.securityProtocol", "SASL_SSL")))
        .hasMessageContaining("kafka.existingSecret is required");
  }

  @Test
  @SuppressWarnings("unchecked")
  void schemaDocumentsEveryValue() throws IOException {
    Map<String, Object> values =
        new Yaml().load(Files.readString(RepoFiles.chart().resolve("values.yaml")));
    Map<String, Object> schema =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readValue(RepoFiles.chart().resolve("values.schema.json").toFile(), Map.class);
    List<String> undocumented = new ArrayList<>();
    walkSchema("", values, schema, undocumented);
    assertThat(undocumented).isEmpty();
  }

  @SuppressWarnings("unchecked")
  private static void walkSchema(
      String path,
      Map<String, Object> values,
      Map<String, Object> schema,
      List<String> undocumented) {
    Map<String, Object> props = (Map<String, Object>) schema.getOrDefault("properties", Map.of());
    for (var e : values.entrySet()) {
      String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      Map<String, Object> s = (Map<String, Object>) props.get(e.getKey());
      if (s == null) {
        undocumented.add(p + " (not in schema)");
        continue;
      }
      if (e.getValue() instanceof Map<?, ?> child && s.containsKey("properties")) {
        walkSchema(p, (Map<String, Object>) child, s, undocumented);
      } else if (!s.containsKey("description")) {
        undocumented.add(p + " (no description)");
      }
    }
  }

  private static boolean matchesAny(
      Map<String, Object> selector, List<Map<String, Object>> podLabels) {
    return !selector.isEmpty()
        && podLabels.stream().anyMatch(l -> l.entrySet().containsAll(selector.entrySet()));
  }

  private static Map<String, Object> envValues(Map<String, Object> container) {
    Map<String, Object> out = new LinkedHashMap<>();
    list(container, "env").forEach(e -> out.put((String) e.get("name"), e.get("value")));
    return out;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> deepMerge(Map<String, Object> base, Map<String, Object> override) {
    Map<String, Object> out = new LinkedHashMap<>(base);
    override.forEach(
        (k, v) -> {
          if (v instanceof Map<?, ?> vm && out.get(k) instanceof Map<?, ?> bm) {
            out.put(k, deepMerge((Map<String, Object>) bm, (Map<String, Object>) vm));
          } else {
            out.put(k, v);
          }
        });
    return out;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      paths.forEach(
          p -> {
            try {
              Path target = to.resolve(from.relativize(p).toString());
              if (Files.isDirectory(p)) {
                Files.createDirectories(target);
              } else {
                Files.copy(p, target);
              }
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
  }
}
