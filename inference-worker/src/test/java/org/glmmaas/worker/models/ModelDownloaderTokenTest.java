package org.glmmaas.worker.models;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code HF_TOKEN} goes only to the configured Hugging Face host over https: never over plain http
 * and never to the host a redirect leads to (before, it went to any host, even over http).
 */
class ModelDownloaderTokenTest {

  @TempDir Path dir;

  private static ModelDownloader downloader(String endpoint) {
    return new ModelDownloader(
        Duration.ofSeconds(5),
        Duration.ofSeconds(5),
        Duration.ofSeconds(5),
        "hf_secret_token",
        URI.create(endpoint));
  }

  @Test
  void theTokenGoesOnlyToTheConfiguredHostOverHttps() {
    ModelDownloader d = downloader("https://huggingface.co");
    assertThat(d.sendsTokenTo(URI.create("https://huggingface.co/o/r/resolve/main/m.gguf")))
        .isTrue();
    assertThat(d.sendsTokenTo(URI.create("https://HuggingFace.co:443/o/r/resolve/main/m.gguf")))
        .isTrue();
    assertThat(d.sendsTokenTo(URI.create("http://huggingface.co/o/r/resolve/main/m.gguf")))
        .as("plain http")
        .isFalse();
    assertThat(d.sendsTokenTo(URI.create("https://cdn-lfs.huggingface.co/repos/x/y")))
        .as("the CDN a redirect leads to")
        .isFalse();
    assertThat(d.sendsTokenTo(URI.create("https://evil.example/m.gguf"))).isFalse();
    assertThat(d.sendsTokenTo(URI.create("https://huggingface.co:8443/m.gguf"))).isFalse();
    assertThat(downloader("http://mirror.local").sendsTokenTo(URI.create("http://mirror.local/x")))
        .as("a plain-http mirror never gets it")
        .isFalse();
  }

  @Test
  void neitherAPlainHttpEndpointNorTheHostARedirectLeadsToSeesTheToken() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    HttpServer cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    cdn.createContext(
        "/",
        ex -> {
          seen.add("cdn " + ex.getRequestHeaders().getFirst("Authorization"));
          ex.sendResponseHeaders(404, -1);
          ex.close();
        });
    cdn.start();
    HttpServer hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hub.createContext(
        "/",
        ex -> {
          seen.add("hub " + ex.getRequestHeaders().getFirst("Authorization"));
          ex.getResponseHeaders()
              .add("Location", "http://localhost:" + cdn.getAddress().getPort() + "/blob");
          ex.sendResponseHeaders(302, -1);
          ex.close();
        });
    hub.start();
    try {
      String endpoint = "http://127.0.0.1:" + hub.getAddress().getPort();
      ModelDownloader.Source source = ModelDownloader.resolve("owner/repo:m.gguf", endpoint);
      try {
        downloader(endpoint).download(source, dir, new NoProgress());
      } catch (ModelDownloader.DownloadException expected) {
        assertThat(expected).hasMessageContaining("HTTP 404");
      }
      assertThat(seen).containsExactly("hub null", "cdn null");
    } finally {
      hub.stop(0);
      cdn.stop(0);
    }
  }

  private static final class NoProgress implements ModelDownloader.Progress {
    @Override
    public void update(long done, long total, double bytesPerSecond) {}

    @Override
    public void message(String line) {}
  }
}
