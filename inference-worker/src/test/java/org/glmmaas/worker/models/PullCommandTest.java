package org.glmmaas.worker.models;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code glm pull} end to end against a local HTTP server that behaves like Hugging Face's resolve
 * endpoint (ranges, X-Linked-Etag with the SHA-256): no internet needed.
 */
class PullCommandTest {

  @TempDir Path models;

  private HttpServer server;
  private byte[] file;
  private String sha;

  /** When > 0, the next full (non-range) response is cut after this many bytes. */
  private final AtomicInteger cutAfter = new AtomicInteger();

  private volatile boolean corrupt;
  private final List<String> ranges = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    file = fakeGguf(3 << 20);
    sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/acme/glm-test-GGUF/resolve/main/", this::serve);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  /** Further files the server offers (split-model parts), by name. */
  private final Map<String, byte[]> more = new java.util.concurrent.ConcurrentHashMap<>();

  private void serve(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String name = path.substring(path.lastIndexOf('/') + 1);
    byte[] served = name.equals("glm-test.gguf") ? file : more.get(name);
    if (served == null) {
      ex.sendResponseHeaders(404, -1);
      ex.close();
      return;
    }
    String range = ex.getRequestHeaders().getFirst("Range");
    ranges.add(range == null ? "none" : range);
    byte[] body = served.clone();
    if (corrupt) {
      body[body.length / 2] ^= 0x55;
    }
    ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(served) + "\"");
    int from = 0;
    if (range != null) {
      from = Integer.parseInt(range.replace("bytes=", "").replace("-", ""));
      ex.getResponseHeaders()
          .add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
      ex.sendResponseHeaders(206, body.length - from);
    } else {
      ex.sendResponseHeaders(200, body.length);
    }
    int cut = cutAfter.getAndSet(0);
    try (OutputStream out = ex.getResponseBody()) {
      int end = cut > 0 ? Math.min(body.length, from + cut) : body.length;
      out.write(body, from, end - from);
      out.flush();
      if (cut > 0) {
        // The network goes quiet mid-body: the client's stall watch must give up, not hang.
        Thread.sleep(4000);
      }
    } catch (IOException | InterruptedException ignored) {
      // client went away, or the deliberate cut
    }
  }

  private String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private record Result(int code, String out, String err) {}

  private Result pull(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        PullCommand.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of("HF_ENDPOINT", endpoint(), "GLM_PULL_STALL_TIMEOUT_S", "2"));
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void downloadsVerifiesAndShowsProgress() throws Exception {
    Result r = pull("acme/glm-test-GGUF:glm-test.gguf", "--models-dir", models.toString());

    assertThat(r.code()).as(r.err()).isZero();
    Path saved = models.resolve("glm-test.gguf");
    assertThat(Files.readAllBytes(saved)).isEqualTo(file);
    assertThat(models.resolve("glm-test.gguf.part")).doesNotExist();
    assertThat(r.err())
        .contains("100%")
        .contains("3.0 MiB")
        .contains("ETA")
        .contains(sha + " verified");
    assertThat(r.out()).contains("model ready").contains("glm4");
  }

  @Test
  void anInterruptedDownloadResumesWhereItStopped() throws Exception {
    cutAfter.set(1 << 20);
    Result first = pull("acme/glm-test-GGUF:glm-test.gguf", "--models-dir", models.toString());
    assertThat(first.code()).isEqualTo(1);
    assertThat(first.err())
        .contains("no data for 2 s")
        .contains("run the same command again to resume");
    long partial = Files.size(models.resolve("glm-test.gguf.part"));
    assertThat(partial).isGreaterThan(0).isLessThan(file.length);

    // the network comes back: the same command continues from the partial file
    Result second = pull("acme/glm-test-GGUF:glm-test.gguf", "--models-dir", models.toString());

    assertThat(second.code()).as(second.err()).isZero();
    assertThat(second.err()).contains("resuming glm-test.gguf");
    assertThat(ranges).contains("bytes=" + partial + "-");
    assertThat(Files.readAllBytes(models.resolve("glm-test.gguf"))).isEqualTo(file);
  }

  @Test
  void aCorruptedFileIsRefusedAndDeleted() {
    corrupt = true;
    Result r = pull("acme/glm-test-GGUF:glm-test.gguf", "--models-dir", models.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("checksum mismatch").contains("expected sha256 " + sha);
    assertThat(models.resolve("glm-test.gguf")).doesNotExist();
    assertThat(models.resolve("glm-test.gguf.part")).doesNotExist();
  }

  @Test
  void offlineIsAClearError() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        PullCommand.run(
            new String[] {"glm-4-9b-chat:q8_0", "--models-dir", models.toString()},
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of("HF_ENDPOINT", "http://127.0.0.1:" + closed));
    assertThat(code).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("cannot reach 127.0.0.1")
        .contains("HF_ENDPOINT");
  }

  @Test
  void unknownNamesAndMissingFilesAreExplained() {
    Result unknown = pull("gpt-5", "--models-dir", models.toString());
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).contains("unknown model 'gpt-5'").contains("glm-4-9b-chat:q8_0");

    Result missing = pull("acme/glm-test-GGUF:nope.gguf", "--models-dir", models.toString());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("HTTP 404").contains("no such file");

    Result noValue = pull("--models-dir");
    assertThat(noValue.code()).isEqualTo(2);
    assertThat(noValue.err()).contains("--models-dir needs a value");
  }

  @Test
  void modelsListsWhatWasPulled() {
    assertThat(pull("acme/glm-test-GGUF:glm-test.gguf", "--models-dir", models.toString()).code())
        .isZero();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        ModelsCommand.run(
            new String[] {"--models-dir", models.toString(), "--json"},
            new PrintStream(out, true, StandardCharsets.UTF_8),
            System.err,
            Map.of());
    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("\"name\":\"glm-test\"")
        .contains("\"architecture\":\"glm4\"")
        .contains("\"context_length\":4096")
        .contains("\"tensor_types\":{\"Q8_0\":1}")
        // 2 (K,V) x 2 layers x 4096 positions x 2 kv heads x 64 dims x 2 bytes
        .contains("\"kv_bytes_full_context\":" + (2L * 2 * 4096 * 2 * 64 * 2));
  }

  @Test
  void aSplitModelIsPulledPartByPartAndListedOnce() throws Exception {
    // three parts as gguf-split writes them: metadata in the first, one tensor in each
    for (int k = 0; k < 3; k++) {
      more.put(String.format("glm-split-%05d-of-00003.gguf", k + 1), splitPart(k, 3, 1 << 20));
    }
    byte[] third = more.remove("glm-split-00003-of-00003.gguf");

    // the last part is not on the server yet: a clear error, the first two are kept
    Result partial =
        pull("acme/glm-test-GGUF:glm-split-00001-of-00003.gguf", "--models-dir", models.toString());
    assertThat(partial.code()).isEqualTo(1);
    assertThat(partial.err())
        .contains("part 3 of 3: glm-split-00003-of-00003.gguf")
        .contains("HTTP 404");
    assertThat(models.resolve("glm-split-00002-of-00003.gguf")).exists();
    assertThat(ModelInventory.scan(models))
        .singleElement()
        .satisfies(m -> assertThat(m.error()).contains("part 3 of 3").contains("is missing"));

    more.put("glm-split-00003-of-00003.gguf", third);
    Result r =
        pull("acme/glm-test-GGUF:glm-split-00001-of-00003.gguf", "--models-dir", models.toString());

    assertThat(r.code()).as(r.err()).isZero();
    for (int k = 1; k <= 3; k++) {
      String name = String.format("glm-split-%05d-of-00003.gguf", k);
      assertThat(Files.readAllBytes(models.resolve(name))).as(name).isEqualTo(more.get(name));
    }
    assertThat(r.err())
        .contains("glm-split-00001-of-00003.gguf already exists")
        .contains(sha256(third) + " verified");
    // one model, its size and tensors those of all three parts
    List<ModelInventory.LocalModel> listed = ModelInventory.scan(models);
    assertThat(listed).singleElement();
    ModelInventory.LocalModel m = listed.get(0);
    assertThat(m.error()).isNull();
    assertThat(m.name()).isEqualTo("glm-split-00001-of-00003");
    assertThat(m.architecture()).isEqualTo("glm4");
    assertThat(m.fileBytes()).isEqualTo(3L << 20);
    assertThat(m.tensorTypes()).isEqualTo(Map.of("Q8_0", 3));
    assertThat(m.numParameters()).isEqualTo(3L * 512 * 64);
  }

  @Test
  void catalogueSplitEntriesNameEveryPart() throws Exception {
    ModelDownloader.Source first = ModelDownloader.resolve("glm-4.5-air:q8_0", endpoint());
    List<ModelDownloader.Source> parts = ModelDownloader.parts(first);
    assertThat(parts)
        .extracting(ModelDownloader.Source::fileName)
        .containsExactly(
            "GLM-4.5-Air-Q8_0-00001-of-00003.gguf",
            "GLM-4.5-Air-Q8_0-00002-of-00003.gguf",
            "GLM-4.5-Air-Q8_0-00003-of-00003.gguf");
    assertThat(parts.get(2).uri().toString())
        .isEqualTo(
            endpoint()
                + "/unsloth/GLM-4.5-Air-GGUF/resolve/main/Q8_0/GLM-4.5-Air-Q8_0-00003-of-00003.gguf");
    assertThat(ModelDownloader.parts(ModelDownloader.resolve("glm-4-9b-chat:q8_0", endpoint())))
        .hasSize(1);
  }

  private static String sha256(byte[] b) throws IOException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IOException(e);
    }
  }

  /**
   * Part {@code k} of {@code n} of a split model as gguf-split writes it: split.no / split.count
   * (uint16), split.tensors.count (int32), the glm4 metadata in the first part only, and one Q8_0
   * tensor per part.
   */
  static byte[] splitPart(int k, int n, int size) {
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x46554747).putInt(3).putLong(1).putLong(k == 0 ? 6 : 3);
    str(b, "split.no");
    b.putInt(2).putShort((short) k);
    str(b, "split.count");
    b.putInt(2).putShort((short) n);
    str(b, "split.tensors.count");
    b.putInt(5).putInt(n);
    if (k == 0) {
      kvString(b, "general.architecture", "glm4");
      kvU32(b, "glm4.context_length", 4096);
      kvU32(b, "glm4.block_count", 2);
    }
    str(b, k == 0 ? "token_embd.weight" : "blk." + (k - 1) + ".ffn_up.weight");
    b.putInt(2).putLong(512).putLong(64).putInt(8).putLong(0);
    byte[] rest = new byte[b.remaining()];
    new Random(7 + k).nextBytes(rest);
    b.put(rest);
    return b.array();
  }

  /** A valid GGUF header (glm4 metadata, one Q8_0 tensor) followed by random tensor bytes. */
  static byte[] fakeGguf(int size) {
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x46554747).putInt(3).putLong(1).putLong(7);
    kvString(b, "general.architecture", "glm4");
    kvU32(b, "glm4.context_length", 4096);
    kvU32(b, "glm4.block_count", 2);
    kvU32(b, "glm4.embedding_length", 512);
    kvU32(b, "glm4.attention.head_count", 8);
    kvU32(b, "glm4.attention.head_count_kv", 2);
    kvU32(b, "glm4.attention.key_length", 64);
    str(b, "token_embd.weight");
    b.putInt(2).putLong(512).putLong(64).putInt(8).putLong(0);
    byte[] rest = new byte[b.remaining()];
    new Random(7).nextBytes(rest);
    b.put(rest);
    return b.array();
  }

  private static void str(ByteBuffer b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.putLong(bytes.length).put(bytes);
  }

  private static void kvString(ByteBuffer b, String k, String v) {
    str(b, k);
    b.putInt(8);
    str(b, v);
  }

  private static void kvU32(ByteBuffer b, String k, int v) {
    str(b, k);
    b.putInt(4).putInt(v);
  }
}
