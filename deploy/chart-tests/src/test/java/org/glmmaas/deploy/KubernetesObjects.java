package org.glmmaas.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates rendered manifests as Kubernetes objects: the apiVersion/kind pair must be one the
 * chart is allowed to use, the document must bind to the fabric8 Kubernetes model of that kind, and
 * no field may be left over (fabric8 keeps unknown fields in "additionalProperties", which we treat
 * as a typo or a field in the wrong place).
 */
final class KubernetesObjects {

  private static final ObjectMapper MAPPER =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
  private static final Pattern DNS_1123 =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /**
   * apiVersion + kind -> model class. ServiceMonitor is a CRD with no model here: checked
   * structurally.
   */
  static final Map<String, Class<? extends HasMetadata>> KNOWN =
      Map.ofEntries(
          Map.entry("v1/Secret", io.fabric8.kubernetes.api.model.Secret.class),
          Map.entry("v1/Service", io.fabric8.kubernetes.api.model.Service.class),
          Map.entry("v1/ServiceAccount", io.fabric8.kubernetes.api.model.ServiceAccount.class),
          Map.entry("v1/ConfigMap", io.fabric8.kubernetes.api.model.ConfigMap.class),
          Map.entry("v1/Pod", io.fabric8.kubernetes.api.model.Pod.class),
          Map.entry(
              "v1/PersistentVolumeClaim",
              io.fabric8.kubernetes.api.model.PersistentVolumeClaim.class),
          Map.entry("apps/v1/Deployment", io.fabric8.kubernetes.api.model.apps.Deployment.class),
          Map.entry("apps/v1/StatefulSet", io.fabric8.kubernetes.api.model.apps.StatefulSet.class),
          Map.entry(
              "autoscaling/v2/HorizontalPodAutoscaler",
              io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler.class),
          Map.entry(
              "policy/v1/PodDisruptionBudget",
              io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class),
          Map.entry(
              "networking.k8s.io/v1/NetworkPolicy",
              io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class),
          Map.entry(
              "networking.k8s.io/v1/Ingress",
              io.fabric8.kubernetes.api.model.networking.v1.Ingress.class),
          Map.entry(
              "rbac.authorization.k8s.io/v1/Role", io.fabric8.kubernetes.api.model.rbac.Role.class),
          Map.entry(
              "rbac.authorization.k8s.io/v1/RoleBinding",
              io.fabric8.kubernetes.api.model.rbac.RoleBinding.class));

  private KubernetesObjects() {}

  /** Returns the problems found in one manifest (empty when valid). */
  static List<String> problems(Map<String, Object> manifest) {
    List<String> problems = new ArrayList<>();
    Object apiVersion = manifest.get("apiVersion");
    Object kind = manifest.get("kind");
    Map<String, Object> metadata = RenderedChart.map(manifest, "metadata");
    Object name = metadata.get("name");
    String id = kind + "/" + name;
    if (!(apiVersion instanceof String) || !(kind instanceof String) || !(name instanceof String)) {
      problems.add(id + ": apiVersion, kind and metadata.name are required");
      return problems;
    }
    String nameStr = (String) name;
    if (nameStr.length() > 63 || !DNS_1123.matcher(nameStr).matches()) {
      problems.add(id + ": metadata.name is not a DNS-1123 name of at most 63 characters");
    }
    String key = apiVersion + "/" + kind;
    if ("monitoring.coreos.com/v1/ServiceMonitor".equals(key)) {
      checkServiceMonitor(id, manifest, problems);
      return problems;
    }
    if ("monitoring.coreos.com/v1/PrometheusRule".equals(key)) {
      List<Map<String, Object>> groups =
          RenderedChart.list(RenderedChart.map(manifest, "spec"), "groups");
      if (groups.isEmpty()
          || groups.stream()
              .anyMatch(g -> g.get("name") == null || RenderedChart.list(g, "rules").isEmpty())) {
        problems.add(id + ": spec.groups[] need a name and rules");
      }
      return problems;
    }
    Class<? extends HasMetadata> type = KNOWN.get(key);
    if (type == null) {
      problems.add(id + ": unknown or unexpected apiVersion/kind " + key);
      return problems;
    }
    HasMetadata object;
    try {
      object = MAPPER.convertValue(manifest, type);
    } catch (IllegalArgumentException e) {
      problems.add(id + ": does not bind to " + type.getSimpleName() + ": " + e.getMessage());
      return problems;
    }
    leftOverFields(
        object, id, problems, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
    ObjectMeta meta = object.getMetadata();
    if (meta.getLabels() == null || meta.getLabels().get("app.kubernetes.io/name") == null) {
      problems.add(id + ": missing the app.kubernetes.io/name label");
    }
    return problems;
  }

  private static void checkServiceMonitor(
      String id, Map<String, Object> manifest, List<String> problems) {
    if (RenderedChart.map(manifest, "spec", "selector", "matchLabels").isEmpty()) {
      problems.add(id + ": spec.selector.matchLabels is required");
    }
    List<Map<String, Object>> endpoints =
        RenderedChart.list(RenderedChart.map(manifest, "spec"), "endpoints");
    if (endpoints.isEmpty() || endpoints.stream().anyMatch(e -> e.get("port") == null)) {
      problems.add(id + ": spec.endpoints[].port is required");
    }
    Set<String> allowed = Set.of("apiVersion", "kind", "metadata", "spec");
    manifest.keySet().stream()
        .filter(k -> !allowed.contains(k))
        .forEach(k -> problems.add(id + ": unknown field " + k));
  }

  /**
   * Walks the bound model; any non-empty additionalProperties map is a field Kubernetes does not
   * know.
   */
  private static void leftOverFields(
      Object node, String path, List<String> problems, Set<Object> seen) {
    if (node == null || !seen.add(node)) {
      return;
    }
    if (node instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        leftOverFields(item, path + "[" + i++ + "]", problems, seen);
      }
      return;
    }
    if (node instanceof Map<?, ?> map) {
      map.forEach((k, v) -> leftOverFields(v, path + "." + k, problems, seen));
      return;
    }
    if (!node.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method m : node.getClass().getMethods()) {
      if (m.getParameterCount() != 0
          || Modifier.isStatic(m.getModifiers())
          || !m.getName().startsWith("get")
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      Object value;
      try {
        value = m.invoke(node);
      } catch (ReflectiveOperationException e) {
        continue;
      }
      if (m.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          problems.add(path + ": unknown field(s) " + extra.keySet());
        }
        continue;
      }
      String field = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
      leftOverFields(value, path + "." + field, problems, seen);
    }
  }
}
