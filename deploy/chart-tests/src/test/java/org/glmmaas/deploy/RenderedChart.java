package org.glmmaas.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** The chart rendered by Helm (helm-java, no binary) into parsed manifests. */
record RenderedChart(String yaml, List<Map<String, Object>> manifests) {

  static final String RELEASE = "glm";
  static final String KUBE_VERSION = "1.31.0";

  /**
   * Hook annotations are renamed to this prefix in the rendered copy, so tests still see what was a
   * hook.
   */
  static final String HOOK_MARK = "glm-maas.test/was-helm.sh-hook";

  private static Path unhookedChart;

  /**
   * helm-java's template returns the release manifest without hook resources (the helm CLI prints
   * hooks too). To validate hooks (the pre-install Secrets, the `helm test` Pod) we render a copy
   * of the chart whose hook annotations are renamed, so they render as ordinary manifests.
   */
  static synchronized Path unhookedChart() {
    if (unhookedChart == null) {
      try {
        Path tmp = Files.createTempDirectory("glm-chart-");
        Path copy = tmp.resolve("glm-maas");
        Path src = RepoFiles.chart();
        try (Stream<Path> paths = Files.walk(src)) {
          for (Path p : paths.toList()) {
            Path target = copy.resolve(src.relativize(p).toString());
            if (Files.isDirectory(p)) {
              Files.createDirectories(target);
            } else {
              Files.writeString(target, Files.readString(p).replace("helm.sh/hook", HOOK_MARK));
            }
          }
        }
        unhookedChart = copy;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return unhookedChart;
  }

  static RenderedChart render(List<Path> valuesFiles, Map<String, Object> sets) {
    TemplateCommand cmd =
        new Helm(unhookedChart())
            .template()
            .withName(RELEASE)
            .withNamespace("glm")
            .withKubeVersion(KUBE_VERSION);
    valuesFiles.forEach(cmd::withValuesFile);
    sets.forEach(cmd::set);
    String out = cmd.call();
    return new RenderedChart(out, parseAll(out));
  }

  static RenderedChart defaults() {
    return render(List.of(), Map.of());
  }

  static RenderedChart gpuProduction() {
    return render(List.of(RepoFiles.chart().resolve("values-gpu-production.yaml")), Map.of());
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> parseAll(String yaml) {
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object doc : new Yaml(new LoaderOptions()).loadAll(yaml)) {
      if (doc == null) {
        continue;
      }
      if (!(doc instanceof Map<?, ?> map)) {
        throw new AssertionError("rendered document is not a mapping: " + doc);
      }
      docs.add((Map<String, Object>) map);
    }
    return docs;
  }

  List<Map<String, Object>> ofKind(String kind) {
    return manifests.stream().filter(m -> kind.equals(m.get("kind"))).toList();
  }

  Optional<Map<String, Object>> find(String kind, String name) {
    return ofKind(kind).stream().filter(m -> name.equals(name(m))).findFirst();
  }

  Map<String, Object> get(String kind, String name) {
    return find(kind, name)
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in:\n" + names()));
  }

  List<String> names() {
    return manifests.stream().map(m -> m.get("kind") + "/" + name(m)).toList();
  }

  static String name(Map<String, Object> manifest) {
    return (String) map(manifest, "metadata").get("name");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Map<String, Object> parent, String... path) {
    Map<String, Object> cur = parent;
    for (String key : path) {
      Object next = cur.get(key);
      if (next == null) {
        return new LinkedHashMap<>();
      }
      cur = (Map<String, Object>) next;
    }
    return cur;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Map<String, Object> parent, String key) {
    Object v = parent.get(key);
    return v == null ? List.of() : (List<Map<String, Object>>) v;
  }

  static Map<String, Object> podSpec(Map<String, Object> workload) {
    return map(workload, "spec", "template", "spec");
  }

  static List<Map<String, Object>> allContainers(Map<String, Object> podSpec) {
    List<Map<String, Object>> all = new ArrayList<>(list(podSpec, "initContainers"));
    all.addAll(list(podSpec, "containers"));
    return all;
  }
}
