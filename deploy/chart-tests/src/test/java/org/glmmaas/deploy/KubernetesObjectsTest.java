package org.glmmaas.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The validator itself must catch the mistakes it exists for, or the chart tests prove nothing. */
class KubernetesObjectsTest {

  private static Map<String, Object> deployment(String containerYaml) {
    return RenderedChart.parseAll(
            """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: demo
                  labels: {app.kubernetes.io/name: demo}
                spec:
                  selector: {matchLabels: {app: demo}}
                  template:
                    metadata: {labels: {app: demo}}
                    spec:
                      containers:
                """
                + containerYaml)
        .getFirst();
  }

  @Test
  void acceptsAWellFormedDeployment() {
    assertThat(
            KubernetesObjects.problems(
                deployment(
                    """
                        - name: c
                          image: busybox
                          resources: {limits: {nvidia.com/gpu: 1}}
                """)))
        .isEmpty();
  }

  @Test
  void reportsAFieldInTheWrongPlace() {
    assertThat(
            KubernetesObjects.problems(
                deployment(
                    """
                        - name: c
                          image: busybox
                          runAsNonRoot: true
                """)))
        .singleElement()
        .asString()
        .contains("runAsNonRoot");
  }

  @Test
  void reportsUnknownKindsAndMissingNames() {
    assertThat(
            KubernetesObjects.problems(
                RenderedChart.parseAll("apiVersion: v1\nkind: Widget\nmetadata: {name: w}")
                    .getFirst()))
        .singleElement()
        .asString()
        .contains("unknown or unexpected apiVersion/kind v1/Widget");
    assertThat(
            KubernetesObjects.problems(
                RenderedChart.parseAll("apiVersion: v1\nkind: Service\nmetadata: {}").getFirst()))
        .singleElement()
        .asString()
        .contains("metadata.name");
  }

  @Test
  void reportsAWrongValueType() {
    assertThat(
            KubernetesObjects.problems(
                deployment(
                    """
                        - name: c
                          image: busybox
                          ports: [{containerPort: http}]
                """)))
        .singleElement()
        .asString()
        .contains("does not bind");
  }
}
