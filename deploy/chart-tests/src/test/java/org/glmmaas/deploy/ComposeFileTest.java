package org.glmmaas.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.deploy.RenderedChart.list;
import static org.glmmaas.deploy.RenderedChart.map;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/compose.yaml: parsed (with YAML merge keys, as compose does) and checked for consistency.
 */
class ComposeFileTest {

  private static final Set<String> GLM_SERVICES =
      Set.of(
          "gateway",
          "auth-service",
          "billing-service",
          "knowledge-service",
          "inference-worker",
          "inference-worker-gpu");
  private static final Pattern SECRET_ENV =
      Pattern.compile(".*(TOKEN|PASSWORD|SECRET|MASTERKEY).*");
  private static final Pattern REQUIRED_VAR = Pattern.compile("\\$\\{[A-Z_]+:\\?[^}]+}");

  private static Map<String, Object> compose;
  private static Map<String, Object> services;

  @BeforeAll
  static void load() throws IOException {
    compose = new Yaml().load(Files.readString(RepoFiles.deploy("compose.yaml")));
    services = map(compose, "services");
  }

  @Test
  void runsTheWholePlatform() {
    assertThat(services)
        .containsOnlyKeys(
            "kafka",
            "postgres",
            "redis",
            "minio",
            "minio-init",
            "auth-service",
            "billing-service",
            "knowledge-service",
            "inference-worker",
            "inference-worker-gpu",
            "gateway",
            "prometheus",
            "grafana");
    assertThat(map(service("kafka"), "environment"))
        .containsEntry("KAFKA_PROCESS_ROLES", "broker,controller");
  }

  @Test
  void everyDependencyExistsAndWaitsForAHealthcheckWhereItSaysSo() {
    for (var e : services.entrySet()) {
      Map<String, Object> deps = map(service(e.getKey()), "depends_on");
      for (var dep : deps.entrySet()) {
        assertThat(services)
            .as("%s depends on %s", e.getKey(), dep.getKey())
            .containsKey(dep.getKey());
        @SuppressWarnings("unchecked")
        Map<String, Object> condition = (Map<String, Object>) dep.getValue();
        if ("service_healthy".equals(condition.get("condition"))) {
          assertThat(service(dep.getKey()))
              .as("%s has a healthcheck", dep.getKey())
              .containsKey("healthcheck");
        }
      }
    }
    assertThat(map(service("gateway"), "depends_on"))
        .containsKeys(
            "auth-service",
            "billing-service",
            "knowledge-service",
            "redis",
            "minio-init",
            "inference-worker",
            "inference-worker-gpu");
    assertThat(map(service("auth-service"), "depends_on")).containsKeys("postgres", "kafka");
    assertThat(map(service("billing-service"), "depends_on")).containsKeys("postgres", "kafka");
    assertThat(map(service("knowledge-service"), "depends_on"))
        .containsKeys("postgres", "billing-service");
  }

  @Test
  void everyServiceHasAHealthcheckOnItsReadinessGroup() {
    Map<String, Integer> httpPorts =
        Map.of(
            "gateway",
            8080,
            "auth-service",
            8081,
            "billing-service",
            8082,
            "knowledge-service",
            8085,
            "inference-worker",
            8083,
            "inference-worker-gpu",
            8083);
    httpPorts.forEach(
        (name, port) ->
            assertThat(map(service(name), "healthcheck").get("test").toString())
                .as(name)
                .contains("http://127.0.0.1:" + port + "/actuator/health/readiness"));
    for (String infra : List.of("kafka", "postgres", "redis", "minio", "prometheus")) {
      assertThat(service(infra)).as(infra).containsKey("healthcheck");
    }
  }

  @Test
  void imagesShareOneVersionAndPrefix() {
    for (String name : GLM_SERVICES) {
      String image = (String) service(name).get("image");
      assertThat(image)
          .as(name)
          .matches("\\$\\{GLM_IMAGE_PREFIX:-glm-maas}/[a-z-]+:\\$\\{GLM_VERSION:-0\\.1\\.0}");
    }
    assertThat(service("inference-worker-gpu").get("image").toString())
        .contains("/inference-worker-cuda:");
  }

  @Test
  void servicesPointAtEachOtherByNameAndPort() {
    Map<String, Object> gw = map(service("gateway"), "environment");
    assertThat(gw)
        .containsEntry(
            "GLM_GATEWAY_AUTH_ADDRESS", "auth-service:" + env("auth-service", "GLM_AUTH_GRPC_PORT"))
        .containsEntry(
            "GLM_GATEWAY_BILLING_ADDRESS",
            "billing-service:" + env("billing-service", "GLM_BILLING_GRPC_PORT"))
        .containsEntry(
            "GLM_GATEWAY_WORKERS",
            "inference-worker:" + env("inference-worker", "GLM_WORKER_GRPC_PORT"))
        .containsEntry(
            "GLM_GATEWAY_KNOWLEDGE_ADDRESS",
            "knowledge-service:" + env("knowledge-service", "GLM_KNOWLEDGE_GRPC_PORT"))
        .containsEntry("SPRING_DATA_REDIS_HOST", "redis");
    // knowledge-service embeds on the workers and holds the price of each call on billing
    assertThat(env("knowledge-service", "GLM_KNOWLEDGE_EMBEDTARGETS"))
        .isEqualTo("inference-worker:" + env("inference-worker", "GLM_WORKER_GRPC_PORT"));
    assertThat(env("knowledge-service", "GLM_KNOWLEDGE_BILLING_ADDRESS"))
        .isEqualTo("billing-service:" + env("billing-service", "GLM_BILLING_GRPC_PORT"));
    assertThat(env("knowledge-service", "JDK_JAVA_OPTIONS"))
        .contains("--add-modules=jdk.incubator.vector");
    // The GPU worker answers to the same name, so the gateway needs no change between profiles.
    assertThat(
            list(map(service("inference-worker-gpu"), "networks", "default"), "aliases").toString())
        .contains("inference-worker");
    assertThat(env("inference-worker-gpu", "GLM_WORKER_GRPC_PORT"))
        .isEqualTo(env("inference-worker", "GLM_WORKER_GRPC_PORT"));
    // the services bind 127.0.0.1 unless told otherwise; the gateway calls from its own container
    assertThat(env("auth-service", "GLM_AUTH_GRPC_HOST")).isEqualTo("0.0.0.0");
    assertThat(env("billing-service", "GLM_BILLING_GRPC_HOST")).isEqualTo("0.0.0.0");
    assertThat(env("knowledge-service", "GLM_KNOWLEDGE_GRPC_HOST")).isEqualTo("0.0.0.0");
    assertThat(env("inference-worker", "GLM_WORKER_GRPC_HOST")).isEqualTo("0.0.0.0");
    assertThat(env("inference-worker-gpu", "GLM_WORKER_GRPC_HOST")).isEqualTo("0.0.0.0");

    String advertised = env("kafka", "KAFKA_ADVERTISED_LISTENERS").replace("PLAINTEXT://", "");
    for (String name : GLM_SERVICES) {
      assertThat(env(name, "SPRING_KAFKA_BOOTSTRAPSERVERS")).as(name).isEqualTo(advertised);
    }
  }

  /**
   * Only the gateway (the product's API) is published on every interface; the services' admin APIs,
   * Prometheus and Grafana are published on the host's 127.0.0.1 (they were on every interface).
   */
  @Test
  void onlyTheGatewayIsPublishedBeyondLoopback() {
    List<String> wide = new ArrayList<>();
    int published = 0;
    for (String name : services.keySet()) {
      Object ports = service(name).get("ports");
      if (!(ports instanceof List<?> list)) {
        continue;
      }
      for (Object port : list) {
        published++;
        if (!name.equals("gateway") && !String.valueOf(port).startsWith("127.0.0.1:")) {
          wide.add(name + " " + port);
        }
      }
    }
    assertThat(published).as("published ports").isGreaterThanOrEqualTo(5);
    assertThat(wide).as("published on every interface").isEmpty();
  }

  /** The gateway keeps uploads in MinIO's bucket, which minio-init creates before it starts. */
  @Test
  void theGatewaysFilesLiveInTheMinioBucketItWaitsFor() {
    assertThat(env("gateway", "GLM_GATEWAY_FILES_STORE")).isEqualTo("s3");
    assertThat(env("gateway", "GLM_GATEWAY_FILES_S3_ENDPOINT")).isEqualTo("http://minio:9000");
    assertThat(env("gateway", "GLM_GATEWAY_FILES_S3_PATHSTYLE")).isEqualTo("true");
    String bucket = env("gateway", "GLM_GATEWAY_FILES_S3_BUCKET");
    assertThat(list(service("minio-init"), "entrypoint").toString())
        .contains("mc mb --ignore-existing glm/" + bucket);
    assertThat(env("gateway", "GLM_GATEWAY_FILES_S3_ACCESSKEY"))
        .isEqualTo(env("minio", "MINIO_ROOT_USER"))
        .isEqualTo(env("minio-init", "MINIO_ROOT_USER"))
        .matches(REQUIRED_VAR);
    assertThat(env("gateway", "GLM_GATEWAY_FILES_S3_SECRETKEY"))
        .isEqualTo(env("minio", "MINIO_ROOT_PASSWORD"))
        .matches(REQUIRED_VAR);
    assertThat(map(map(service("gateway"), "depends_on"), "minio-init"))
        .containsEntry("condition", "service_completed_successfully");
    assertThat(map(map(service("minio-init"), "depends_on"), "minio"))
        .containsEntry("condition", "service_healthy");
  }

  /** The Lucene index outlives the container: a named volume at glm.knowledge.index-dir. */
  @Test
  void theKnowledgeIndexLivesOnANamedVolume() {
    String dir = env("knowledge-service", "GLM_KNOWLEDGE_INDEXDIR");
    assertThat(list(service("knowledge-service"), "volumes").toString())
        .contains("knowledge-index:" + dir);
    assertThat(map(compose, "volumes")).containsKey("knowledge-index");
  }

  @Test
  void databasesExistForEveryDatasource() throws IOException {
    String init = Files.readString(RepoFiles.deploy("postgres/init.sql"));
    String user = env("postgres", "POSTGRES_USER");
    for (String name : List.of("auth-service", "billing-service", "knowledge-service")) {
      Matcher m =
          Pattern.compile("jdbc:postgresql://postgres:5432/(\\w+)")
              .matcher(env(name, "SPRING_DATASOURCE_URL"));
      assertThat(m.matches()).as(name).isTrue();
      assertThat(init).contains("CREATE DATABASE " + m.group(1) + " OWNER " + user);
      assertThat(env(name, "SPRING_DATASOURCE_USERNAME")).isEqualTo(user);
      assertThat(env(name, "SPRING_DATASOURCE_PASSWORD"))
          .isEqualTo(env("postgres", "POSTGRES_PASSWORD"));
    }
  }

  @Test
  void secretsAreNeverLiteralsInTheFile() {
    List<String> literal = new ArrayList<>();
    for (String name : services.keySet()) {
      map(service(name), "environment")
          .forEach(
              (k, v) -> {
                if (SECRET_ENV.matcher(k).matches()
                    && !REQUIRED_VAR.matcher(String.valueOf(v)).matches()) {
                  literal.add(name + "." + k + "=" + v);
                }
              });
    }
    assertThat(literal).as("secrets must come from the environment (${VAR:?message})").isEmpty();
  }

  @Test
  void theGpuWorkerReservesOneNvidiaGpuOnlyInItsProfile() {
    Map<String, Object> gpu = service("inference-worker-gpu");
    assertThat(gpu.get("profiles")).isEqualTo(List.of("gpu"));
    Map<String, Object> device =
        list(map(gpu, "deploy", "resources", "reservations"), "devices").getFirst();
    assertThat(device)
        .containsEntry("driver", "nvidia")
        .containsEntry("count", 1)
        .containsEntry("capabilities", List.of("gpu"));
    assertThat(env("inference-worker-gpu", "GLM_WORKER_DEVICE")).isEqualTo("cuda:0");
    assertThat(service("inference-worker").get("profiles")).isEqualTo(List.of("cpu"));
    assertThat(env("inference-worker", "GLM_WORKER_DEVICE")).isEqualTo("cpu");
    assertThat(list(service("inference-worker"), "volumes").toString()).contains(":/models:ro");
  }

  @Test
  void mountedConfigFilesExist() {
    for (String name : List.of("prometheus", "grafana", "postgres")) {
      for (Object volume : (List<?>) service(name).get("volumes")) {
        String source = volume.toString().split(":")[0];
        if (source.startsWith("./")) {
          assertThat(RepoFiles.deploy(source.substring(2))).as(name + " mounts " + source).exists();
        }
      }
    }
  }

  private static Map<String, Object> service(String name) {
    assertThat(services).containsKey(name);
    return map(services, name);
  }

  private static String env(String serviceName, String key) {
    Map<String, Object> env = new LinkedHashMap<>(map(service(serviceName), "environment"));
    assertThat(env).as("%s env", serviceName).containsKey(key);
    return String.valueOf(env.get(key));
  }
}
