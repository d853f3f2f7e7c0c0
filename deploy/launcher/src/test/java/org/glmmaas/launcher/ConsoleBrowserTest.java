package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console in a real browser against a real {@code ./glm up} (free ports, its own data folder):
 * console/e2e/console.e2e.mjs drives Debian's Chromium with playwright-core: the admin signs in,
 * creates a tenant, tops it up and creates a key whose secret is shown once; the tenant signs in
 * with it, streams a chat in the playground and sees the call's tokens in the usage chart; the
 * admin revokes the key and the next playground call shows the refusal. axe-core scans every page
 * (no serious or critical violation), no page logs a browser console error, and every page is
 * screenshot in zh and en.
 *
 * <p>Skipped, with the reason, without Node.js 20, without Chromium ({@code /usr/bin/chromium}, or
 * {@code -Dglm.console.chromium}) or without the console's npm packages (the console module's build
 * installs them). Screenshots go to {@code -Dglm.console.screenshots} (default
 * target/console-screenshots; docs/console to refresh the committed ones). {@code
 * -Dglm.console.e2e=false} switches it off.
 */
@DisabledIfSystemProperty(
    named = "glm.console.e2e",
    matches = "false",
    disabledReason = "console browser test switched off with -Dglm.console.e2e=false")
class ConsoleBrowserTest {

  @TempDir Path data;

  @Test
  void adminAndTenantWalkThroughTheConsoleInChromium() throws Exception {
    Path home = Path.of(System.getProperty("glm.home", "../..")).toAbsolutePath().normalize();
    Path consoleDir = home.resolve("console");
    Assumptions.assumeTrue(nodeMajor() >= 20, "console browser test skipped: no Node.js >= 20");
    Path chromium = Path.of(System.getProperty("glm.console.chromium", "/usr/bin/chromium"));
    Assumptions.assumeTrue(
        Files.isExecutable(chromium),
        "console browser test skipped: no Chromium at "
            + chromium
            + " (Debian: apt-get install chromium; .ci/run installs it as root)");
    Assumptions.assumeTrue(
        Files.isDirectory(consoleDir.resolve("node_modules/playwright-core"))
            && Files.isDirectory(consoleDir.resolve("node_modules/axe-core")),
        "console browser test skipped: console/node_modules is not installed"
            + " (the console module's build runs npm ci)");
    Path shots =
        Path.of(System.getProperty("glm.console.screenshots", "target/console-screenshots"))
            .toAbsolutePath();

    GlmUp up = GlmUp.start(data);
    try {
      Map<?, ?> endpoints = up.awaitReady();
      ProcessBuilder pb =
          new ProcessBuilder("node", "e2e/console.e2e.mjs")
              .directory(consoleDir.toFile())
              .redirectErrorStream(true);
      pb.environment().put("GATEWAY_URL", (String) endpoints.get("gateway_url"));
      pb.environment().put("ADMIN_TOKEN", (String) endpoints.get("console_admin_token"));
      pb.environment().put("DEMO_API_KEY", (String) endpoints.get("api_key"));
      pb.environment().put("MODEL", (String) endpoints.get("model"));
      pb.environment().put("CHROMIUM", chromium.toString());
      pb.environment().put("SCREENSHOT_DIR", shots.toString());
      Process node = pb.start();
      StringBuffer out = new StringBuffer();
      Thread reader = pump(node, out, "[console e2e] ");
      boolean finished = node.waitFor(10, TimeUnit.MINUTES);
      if (!finished) {
        node.destroyForcibly();
      }
      reader.join(5000);
      assertThat(finished).as("the browser test ended within 10 minutes:%n%s", out).isTrue();
      assertThat(out.toString()).as(out.toString()).doesNotContain("FAIL ");
      assertThat(node.exitValue()).as(out.toString()).isZero();
      assertThat(out.toString().lines().filter(l -> l.startsWith("ok ")).count())
          .as(out.toString())
          .isEqualTo(13);
    } finally {
      up.kill(Duration.ofMinutes(2));
    }
  }

  private static Thread pump(Process p, StringBuffer out, String prefix) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  out.append(line).append('\n');
                  System.out.println(prefix + line);
                }
              } catch (IOException e) {
                // process ended
              }
            });
  }

  private static int nodeMajor() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return 0;
      }
      return Integer.parseInt(v.replaceFirst("^v(\\d+).*", "$1"));
    } catch (Exception e) {
      return 0;
    }
  }
}
