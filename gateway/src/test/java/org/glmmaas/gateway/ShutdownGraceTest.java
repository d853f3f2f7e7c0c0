package org.glmmaas.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;
import org.springframework.boot.convert.DurationStyle;

/**
 * The gateway's graceful shutdown gives open calls as long as the chart's grace period allows
 * (before: Spring's default 30 s against the chart's 60 s, so streams were cut half-way through the
 * time Kubernetes granted), and ends before Kubernetes kills the pod.
 */
class ShutdownGraceTest {

  @Test
  void theShutdownPhaseFitsTheChartsGracePeriod() throws Exception {
    Path values = Path.of("..", "helm", "glm-maas", "values.yaml");
    assumeTrue(Files.isRegularFile(values), "no chart next to the gateway module");
    String yaml = Files.readString(values);
    // the first terminationGracePeriodSeconds is the gateway's (its section comes first)
    int gateway = yaml.indexOf("\ngateway:");
    assertThat(gateway).isNotNegative();
    Matcher m =
        Pattern.compile("terminationGracePeriodSeconds: (\\d+)").matcher(yaml.substring(gateway));
    assertThat(m.find()).isTrue();
    long chart = Long.parseLong(m.group(1));
    String phase =
        TestGateway.get()
            .context
            .getEnvironment()
            .getProperty("spring.lifecycle.timeout-per-shutdown-phase", "30s");
    Duration d = DurationStyle.detectAndParse(phase);
    assertThat(d.toSeconds()).isLessThan(chart).isGreaterThanOrEqualTo(chart - 10);
  }
}
