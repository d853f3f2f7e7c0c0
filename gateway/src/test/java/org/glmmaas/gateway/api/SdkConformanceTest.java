package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official `openai` npm client and the `zhipuai` npm client (pinned in
 * src/test/node/package-lock.json, installed with `npm ci` into target/) against the test gateway:
 * chat, streaming, usage, raw-key and JWT auth, async tasks, errors as the SDKs' own types. Skipped
 * where node/npm are absent or the packages cannot be installed.
 */
class SdkConformanceTest {

  static Path dir;

  @BeforeAll
  static void install() throws Exception {
    Assumptions.assumeTrue(run(Path.of("."), 30, "node", "--version") == 0, "node is absent");
    dir = Path.of("target", "sdk-conformance");
    Files.createDirectories(dir);
    for (String f :
        new String[] {
          "package.json",
          "package-lock.json",
          "conformance.mjs",
          "tools-conformance.mjs",
          "embeddings-conformance.mjs",
          "files-conformance.mjs"
        }) {
      Files.copy(
          Path.of("src", "test", "node", f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    // npm ci again when a pinned package is missing (one was added since the last install)
    if (!Files.isDirectory(dir.resolve("node_modules").resolve("openai"))
        || !Files.isDirectory(dir.resolve("node_modules").resolve("zhipuai"))
        || !Files.isDirectory(dir.resolve("node_modules").resolve("ajv"))) {
      int rc = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline");
      Assumptions.assumeTrue(rc == 0, "npm ci failed (no registry?)");
    }
  }

  static int run(Path cwd, int timeoutS, String... cmd) {
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(cwd.toFile())
              .redirectErrorStream(true)
              .redirectOutput(new File("target/sdk-conformance-" + cmd[0] + ".log"))
              .start();
      if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (Exception e) {
      return -1;
    }
  }

  static String runScript(String script) throws Exception {
    TestGateway gw = TestGateway.get();
    ProcessBuilder pb =
        new ProcessBuilder("node", script).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GATEWAY", "http://127.0.0.1:" + gw.port);
    pb.environment().put("KEY", TestGateway.KEY);
    pb.environment().put("BROKE_KEY", TestGateway.BROKE_KEY);
    pb.environment().put("OTHER_KEY", TestGateway.OTHER_TENANT_KEY);
    pb.environment().put("MODEL", TestGateway.MODEL);
    pb.environment().put("EMBED_MODEL", TestGateway.EMBED_MODEL);
    pb.environment().put("EMBED_DIMS", String.valueOf(TestGateway.EMBED_DIMS));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(out).doesNotContain("FAIL");
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  @Test
  void officialClientsWorkAgainstTheGateway() throws Exception {
    String out = runScript("conformance.mjs");
    assertThat(out.lines().filter(l -> l.startsWith("ok ")).count()).as(out).isEqualTo(9);
  }

  /**
   * Tools, structured output (validated with ajv), n, logprobs, completions with and without
   * suffix, the tokenizer = chat's prompt tokens, refused fields: the script that also runs against
   * a real ./glm up (src/test/node/run-against-glm-up.sh).
   */
  @Test
  void officialClientsGetToolsStructuredOutputAndTheTokenizer() throws Exception {
    String out = runScript("tools-conformance.mjs");
    assertThat(out.lines().filter(l -> l.startsWith("ok ")).count()).as(out).isEqualTo(13);
  }

  /**
   * openai's and zhipuai's embeddings.create: vectors of the model's width, unit norm, in order,
   * usage, bad input as BadRequestError (the script that also runs against a real ./glm up).
   */
  @Test
  void officialClientsEmbed() throws Exception {
    String out = runScript("embeddings-conformance.mjs");
    assertThat(out.lines().filter(l -> l.startsWith("ok ")).count()).as(out).isEqualTo(4);
  }

  /**
   * The Files API through the official openai client: create (purpose batch, 50 lines), retrieve,
   * content, list followed page by page, delete, and its errors (a bad line, another tenant).
   */
  @Test
  void officialClientUploadsListsReadsAndDeletesFiles() throws Exception {
    String out = runScript("files-conformance.mjs");
    assertThat(out.lines().filter(l -> l.startsWith("ok ")).count()).as(out).isEqualTo(7);
  }
}
