package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherOptionsTest {

  @TempDir Path tmp;

  @Test
  void defaultsUseTheCheckoutsDataFolderAndPort8080() {
    LauncherOptions o = LauncherOptions.parse(new String[0], tmp);
    assertThat(o.dataDir()).isEqualTo(tmp.resolve(".glm-data"));
    assertThat(o.portBase()).isEqualTo(8080);
    assertThat(o.modelId()).isEqualTo("glm-demo");
    assertThat(o.model()).isNull();
    assertThat(o.startTimeout()).isEqualTo(Duration.ofSeconds(300));
    assertThat(Ports.fixed(o.portBase()))
        .isEqualTo(new Ports(8080, 8081, 9081, 8082, 9082, 8083, 9083, 8084, 9084, 8085, 9085));
  }

  @Test
  void aModelFileNamesTheModelUnlessAnIdIsGiven() throws Exception {
    Path gguf = Files.writeString(tmp.resolve("glm-4-9b-chat-Q4_K_M.gguf"), "x");
    assertThat(LauncherOptions.parse(new String[] {"--model", gguf.toString()}, tmp).modelId())
        .isEqualTo("glm-4-9b-chat-Q4_K_M");
    assertThat(
            LauncherOptions.parse(
                    new String[] {"--model", gguf.toString(), "--model-id", "glm-4"}, tmp)
                .modelId())
        .isEqualTo("glm-4");
  }

  @Test
  void badOptionsGetAPreciseMessage() {
    assertThatThrownBy(() -> LauncherOptions.parse(new String[] {"--bogus"}, tmp))
        .hasMessageContaining("unknown option '--bogus'");
    assertThatThrownBy(() -> LauncherOptions.parse(new String[] {"--port", "eighty"}, tmp))
        .hasMessageContaining("--port must be a number");
    assertThatThrownBy(() -> LauncherOptions.parse(new String[] {"--port", "70000"}, tmp))
        .hasMessageContaining("--port must be between");
    assertThatThrownBy(() -> LauncherOptions.parse(new String[] {"--data"}, tmp))
        .hasMessageContaining("--data needs a value");
    assertThatThrownBy(() -> LauncherOptions.parse(new String[] {"--model", "/nope.gguf"}, tmp))
        .hasMessageContaining("is not a file");
    assertThatThrownBy(() -> LauncherOptions.parse(new String[] {"--model-id", "a b"}, tmp))
        .hasMessageContaining("--model-id must be");
  }

  @Test
  void ephemeralPortsAreDistinct() {
    Ports p = Ports.ephemeral();
    assertThat(
            java.util.Set.of(
                p.gateway(),
                p.authHttp(),
                p.authGrpc(),
                p.billingHttp(),
                p.billingGrpc(),
                p.workerHttp(),
                p.workerGrpc()))
        .hasSize(7);
  }
}
