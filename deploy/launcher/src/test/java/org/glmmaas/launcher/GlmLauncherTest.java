package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the launcher says and does when it cannot start; the happy path is LauncherEndToEndTest. */
class GlmLauncherTest {

  @TempDir Path home;

  @Test
  void missingServiceJarsFailWithExitStatus1AndSayHowToBuildThem() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream oldErr = System.err;
    System.setErr(new PrintStream(err, true));
    int status;
    try {
      status =
          new GlmLauncher(
                  LauncherOptions.parse(new String[] {"--ephemeral-ports"}, home),
                  new Console(System.out))
              .run();
    } finally {
      System.setErr(oldErr);
    }
    assertThat(status).isEqualTo(1);
    assertThat(err.toString())
        .contains(
            "service jars not built: [auth-service, billing-service, inference-worker, gateway,"
                + " knowledge-service]",
            "./mvnw -pl auth-service,billing-service,inference-worker,gateway,knowledge-service -am"
                + " package -DskipTests");
    assertThat(home.resolve(".glm-data/endpoints.json")).doesNotExist();
  }

  @Test
  void theReadyBlockHasTheGatewayTheKeyAndAStreamingCurl() {
    GlmLauncher launcher =
        new GlmLauncher(LauncherOptions.parse(new String[0], home), new Console(System.out));
    String block =
        launcher.readyBlock("http://127.0.0.1:8080", "http://127.0.0.1:8081", "sk-demo.123");
    assertThat(block)
        .contains(
            "GLM MaaS is READY",
            "http://127.0.0.1:8080",
            "sk-demo.123",
            "random weights",
            "curl -N http://127.0.0.1:8080/api/paas/v4/chat/completions",
            "Bearer sk-demo.123",
            "\"stream\":true",
            "\"model\":\"glm-demo\"",
            "http://127.0.0.1:8080/console/",
            "http://127.0.0.1:8080/admin/auth/v1");
  }

  /** {@code ./glm up --json} printed the text block on stdout before (it accepted --json). */
  @Test
  void withJsonTheReadyOutputIsOneJsonObject() throws Exception {
    LauncherOptions options = LauncherOptions.parse(new String[] {"--json"}, home);
    assertThat(options.json()).isTrue();
    String json =
        new GlmLauncher(options, new Console(System.err))
            .readyJson("http://127.0.0.1:8080", "sk-demo.123");
    @SuppressWarnings("unchecked")
    java.util.Map<String, Object> m = LauncherState.JSON.readValue(json, java.util.Map.class);
    assertThat(json).doesNotContain("\n");
    assertThat(m)
        .containsEntry("status", "ready")
        .containsEntry("gateway_url", "http://127.0.0.1:8080")
        .containsEntry("api_key", "sk-demo.123")
        .containsEntry("model", "glm-demo")
        .containsKey("endpoints_file");
    assertThat(m.toString()).doesNotContain("admin_token");
  }
}
