package org.glmmaas.worker.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.glmmaas.worker.gguf.GgufFormatException;
import org.glmmaas.worker.gguf.GgufReader;

/**
 * Downloads a GGUF file into the model folder: resumable through HTTP ranges (a partial {@code
 * <file>.part} is continued, not restarted), size and SHA-256 verified, a GGUF header check at the
 * end, and only then renamed into place. Progress goes to a {@link Progress} listener.
 */
public final class ModelDownloader {

  /** Where and what to fetch. */
  public record Source(URI uri, String fileName, long expectedSize, String expectedSha256) {}

  /** Receives progress; implementations print a bar or lines. */
  public interface Progress {
    void update(long done, long total, double bytesPerSecond);

    void message(String line);

    /** Bytes as a human reads them: 512 B, 1.5 KiB, 2.3 GiB. */
    static String human(long bytes) {
      if (bytes < 0) {
        return "?";
      }
      if (bytes < 1024) {
        return bytes + " B";
      }
      String[] units = {"KiB", "MiB", "GiB", "TiB"};
      double v = bytes;
      int u = -1;
      while (v >= 1024 && u < units.length - 1) {
        v /= 1024;
        u++;
      }
      return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
  }

  /** A failed download, with a message a user can act on. */
  public static final class DownloadException extends IOException {
    public DownloadException(String message) {
      super(message);
    }

    public DownloadException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static final Pattern SHA256 = Pattern.compile("\"?([0-9a-fA-F]{64})\"?");
  private static final Pattern REPO_FILE =
      Pattern.compile("([\\w.-]+/[\\w.-]+):([\\w./-]+\\.gguf)");

  /** The first part of a split model as llama.cpp's gguf-split names it: PREFIX-00001-of-0000N. */
  static final Pattern SPLIT_FIRST = Pattern.compile("(.+)-00001-of-(\\d{5})\\.gguf");

  static final String HUGGING_FACE = "https://huggingface.co";
  private static final int MAX_REDIRECTS = 10;

  private final HttpClient http;
  private final Duration timeout;
  private final Duration stallTimeout;
  private final String token;
  private final URI tokenEndpoint;

  public ModelDownloader(Duration connectTimeout, Duration readTimeout) {
    this(connectTimeout, readTimeout, Duration.ofSeconds(60), null, URI.create(HUGGING_FACE));
  }

  /**
   * @param readTimeout how long to wait for the response headers
   * @param stallTimeout a body that delivers no byte for this long is abandoned (and resumable)
   * @param token a Hugging Face access token for gated repositories (HF_TOKEN), or null
   * @param tokenEndpoint the Hugging Face endpoint (HF_ENDPOINT): the token goes only to this host
   *     and port, and only over https; never to a host a redirect leads to (the CDN needs none)
   */
  public ModelDownloader(
      Duration connectTimeout,
      Duration readTimeout,
      Duration stallTimeout,
      String token,
      URI tokenEndpoint) {
    this.stallTimeout = stallTimeout;
    this.token = token == null || token.isBlank() ? null : token.trim();
    this.tokenEndpoint = tokenEndpoint;
    // redirects are followed here, so each hop decides for itself whether the token goes along
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(connectTimeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    this.timeout = readTimeout;
  }

  /** Whether a request to {@code uri} may carry the token: https, the configured host and port. */
  boolean sendsTokenTo(URI uri) {
    return token != null
        && "https".equalsIgnoreCase(uri.getScheme())
        && "https".equalsIgnoreCase(tokenEndpoint.getScheme())
        && uri.getHost() != null
        && uri.getHost().equalsIgnoreCase(tokenEndpoint.getHost())
        && port(uri) == port(tokenEndpoint);
  }

  private static int port(URI uri) {
    return uri.getPort() >= 0
        ? uri.getPort()
        : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  /** GET {@code uri}, following up to 10 redirects; the token only where {@link #sendsTokenTo}. */
  private HttpResponse<InputStream> get(URI uri, long have)
      throws IOException, InterruptedException {
    for (int hop = 0; ; hop++) {
      HttpRequest.Builder req =
          HttpRequest.newBuilder(uri).timeout(timeout).GET().header("User-Agent", "glm-maas");
      if (sendsTokenTo(uri)) {
        req.header("Authorization", "Bearer " + token);
      }
      if (have > 0) {
        req.header("Range", "bytes=" + have + "-");
      }
      HttpResponse<InputStream> resp =
          http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
      int status = resp.statusCode();
      Optional<String> location = resp.headers().firstValue("location");
      if ((status == 301 || status == 302 || status == 303 || status == 307 || status == 308)
          && location.isPresent()) {
        resp.body().close();
        if (hop >= MAX_REDIRECTS) {
          throw new DownloadException("too many redirects from " + uri);
        }
        uri = uri.resolve(location.get());
        if (!"https".equalsIgnoreCase(uri.getScheme())
            && !"http".equalsIgnoreCase(uri.getScheme())) {
          throw new DownloadException(
              "redirected to an unsupported URL scheme: " + uri.getScheme());
        }
        continue;
      }
      return resp;
    }
  }

  /**
   * Resolves what the user typed: a catalogue short name, {@code owner/repo:file.gguf}, or a full
   * https URL.
   *
   * @param endpoint the Hugging Face endpoint, e.g. https://huggingface.co (HF_ENDPOINT)
   */
  public static Source resolve(String spec, String endpoint) throws DownloadException {
    String base = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    Optional<ModelCatalog.Entry> known = ModelCatalog.find(spec);
    if (known.isPresent()) {
      ModelCatalog.Entry e = known.get();
      return new Source(
          URI.create(base + "/" + e.repo() + "/resolve/main/" + e.file()),
          e.file().substring(e.file().lastIndexOf('/') + 1),
          e.sizeBytes(),
          e.sha256());
    }
    var m = REPO_FILE.matcher(spec);
    if (m.matches()) {
      String file = m.group(2);
      return new Source(
          URI.create(base + "/" + m.group(1) + "/resolve/main/" + file),
          file.substring(file.lastIndexOf('/') + 1),
          0,
          "");
    }
    if (spec.startsWith("http://") || spec.startsWith("https://")) {
      URI uri = URI.create(spec);
      String path = uri.getPath();
      String file = path.substring(path.lastIndexOf('/') + 1);
      if (!file.endsWith(".gguf")) {
        throw new DownloadException("the URL must name a .gguf file: " + spec);
      }
      return new Source(uri, file, 0, "");
    }
    throw new DownloadException(
        "unknown model '"
            + spec
            + "': use a catalogue name ("
            + String.join(", ", ModelCatalog.entries().keySet().stream().sorted().toList())
            + "), owner/repo:file.gguf, or an https URL");
  }

  /**
   * The files to fetch for {@code source}: itself, or for the first part of a split model ({@code
   * PREFIX-00001-of-0000N.gguf}, as llama.cpp's gguf-split writes and Hugging Face hosts models
   * over 50 GB) every part, in order, beside it in the same repository folder. The engine loads a
   * split model from its first part and finds the others by these names. Sizes and checksums of the
   * later parts come from the server, as for a file outside the catalogue.
   */
  public static List<Source> parts(Source source) {
    var m = SPLIT_FIRST.matcher(source.fileName());
    int count = m.matches() ? Integer.parseInt(m.group(2)) : 1;
    List<Source> out = new ArrayList<>();
    out.add(source);
    String uri = source.uri().toString();
    int at = uri.lastIndexOf(source.fileName());
    for (int i = 2; i <= count && at >= 0; i++) {
      String name = String.format(Locale.ROOT, "%s-%05d-of-%05d.gguf", m.group(1), i, count);
      out.add(
          new Source(
              URI.create(
                  uri.substring(0, at) + name + uri.substring(at + source.fileName().length())),
              name,
              0,
              ""));
    }
    return out;
  }

  /** Downloads {@code source} into {@code dir}; returns the final path. */
  public Path download(Source source, Path dir, Progress progress) throws IOException {
    Files.createDirectories(dir);
    Path target = dir.resolve(source.fileName());
    Path part = dir.resolve(source.fileName() + ".part");
    if (Files.exists(target)) {
      progress.message(target + " already exists; delete it to download again");
      return target;
    }
    MessageDigest sha = sha256();
    long have = Files.exists(part) ? Files.size(part) : 0;
    if (have > 0) {
      hashExisting(part, sha);
      progress.message(
          String.format(Locale.ROOT, "resuming %s at %s", source.fileName(), Progress.human(have)));
    }
    HttpResponse<InputStream> resp;
    try {
      resp = get(source.uri(), have);
    } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
      throw new DownloadException(
          "cannot reach "
              + source.uri().getHost()
              + " ("
              + describe(e)
              + "): check the network, or set HF_ENDPOINT to a reachable mirror",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DownloadException("interrupted", e);
    }
    int status = resp.statusCode();
    if (status == 416 && have > 0) {
      resp.body().close();
      // The part already holds the whole file; verify it below.
      return finish(source, part, target, have, sha, resp, progress);
    }
    if (status == 200 && have > 0) {
      progress.message("the server ignored the range request; starting over");
      have = 0;
      sha = sha256();
    } else if (status != 200 && status != 206) {
      resp.body().close();
      throw new DownloadException(
          "HTTP "
              + status
              + " for "
              + source.uri()
              + (status == 404
                  ? ": no such file"
                  : status == 401 || status == 403
                      ? ": access denied (gated model? set HF_TOKEN)"
                      : ""));
    }
    long total = totalSize(resp, have);
    if (source.expectedSize() > 0 && total > 0 && total != source.expectedSize()) {
      resp.body().close();
      throw new DownloadException(
          "the server offers " + total + " bytes but the catalogue says " + source.expectedSize());
    }
    long done = have;
    long started = System.nanoTime();
    long lastReport = 0;
    StallWatch watch = new StallWatch(resp.body(), stallTimeout);
    try (watch;
        InputStream in = resp.body();
        OutputStream out =
            Files.newOutputStream(
                part,
                StandardOpenOption.CREATE,
                have > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(buf, 0, n);
        sha.update(buf, 0, n);
        done += n;
        watch.progressed();
        long now = System.nanoTime();
        if (now - lastReport > 200_000_000L) {
          lastReport = now;
          progress.update(done, total, (done - have) / Math.max(1e-9, (now - started) / 1e9));
        }
      }
    } catch (IOException e) {
      if (watch.fired()) {
        throw new DownloadException(
            "no data for "
                + stallTimeout.toSeconds()
                + " s at "
                + Progress.human(done)
                + " of "
                + Progress.human(total)
                + "; run the same command again to resume",
            e);
      }
      throw new DownloadException(
          "download interrupted at "
              + Progress.human(done)
              + " of "
              + Progress.human(total)
              + " ("
              + describe(e)
              + "); run the same command again to resume",
          e);
    }
    progress.update(
        done, total, (done - have) / Math.max(1e-9, (System.nanoTime() - started) / 1e9));
    if (total > 0 && done < total) {
      throw new DownloadException(
          "download stopped at "
              + Progress.human(done)
              + " of "
              + Progress.human(total)
              + "; run the same command again to resume");
    }
    return finish(source, part, target, done, sha, resp, progress);
  }

  private Path finish(
      Source source,
      Path part,
      Path target,
      long size,
      MessageDigest sha,
      HttpResponse<?> resp,
      Progress progress)
      throws IOException {
    if (source.expectedSize() > 0 && size != source.expectedSize()) {
      throw new DownloadException(
          "downloaded "
              + size
              + " bytes, expected "
              + source.expectedSize()
              + "; delete "
              + part
              + " and try again");
    }
    String actual = HexFormat.of().formatHex(sha.digest());
    String expected =
        source.expectedSha256().isEmpty()
            ? serverSha256(resp).orElse("")
            : source.expectedSha256().toLowerCase(Locale.ROOT);
    if (!expected.isEmpty() && !expected.equals(actual)) {
      Files.deleteIfExists(part);
      throw new DownloadException(
          "checksum mismatch for "
              + source.fileName()
              + ": expected sha256 "
              + expected
              + ", got "
              + actual
              + "; the corrupted download was deleted");
    }
    try {
      GgufReader.read(part);
    } catch (GgufFormatException e) {
      Files.deleteIfExists(part);
      throw new DownloadException(
          "the downloaded file is not a valid GGUF model (" + e.getMessage() + "); it was deleted");
    }
    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
    progress.message(
        String.format(
            Locale.ROOT,
            "saved %s (%s, sha256 %s%s)",
            target,
            Progress.human(size),
            actual,
            expected.isEmpty() ? ", not published: unverified" : " verified"));
    return target;
  }

  /**
   * Closes a response body that stops delivering bytes, so a stalled read fails instead of hanging.
   */
  private static final class StallWatch implements AutoCloseable {
    private final InputStream body;
    private final long limitNanos;
    private volatile long last = System.nanoTime();
    private volatile boolean fired;
    private final Thread thread;

    StallWatch(InputStream body, Duration limit) {
      this.body = body;
      this.limitNanos = limit.toNanos();
      this.thread = Thread.ofVirtual().name("glm-pull-stall-watch").start(this::watch);
    }

    void progressed() {
      last = System.nanoTime();
    }

    boolean fired() {
      return fired;
    }

    private void watch() {
      try {
        while (!Thread.currentThread().isInterrupted()) {
          Thread.sleep(Math.max(10, Math.min(1000, limitNanos / 4_000_000L)));
          if (System.nanoTime() - last > limitNanos) {
            fired = true;
            body.close();
            return;
          }
        }
      } catch (InterruptedException | IOException e) {
        // stopped, or the body is already closed
      }
    }

    @Override
    public void close() {
      thread.interrupt();
    }
  }

  /** Hugging Face names the LFS object by its SHA-256 in X-Linked-Etag (or ETag). */
  static Optional<String> serverSha256(HttpResponse<?> resp) {
    for (String h : new String[] {"x-linked-etag", "etag"}) {
      Optional<String> v = resp.headers().firstValue(h);
      if (v.isPresent()) {
        var m = SHA256.matcher(v.get().replace("W/", "").trim());
        if (m.matches()) {
          return Optional.of(m.group(1).toLowerCase(Locale.ROOT));
        }
      }
    }
    return Optional.empty();
  }

  private static long totalSize(HttpResponse<?> resp, long have) {
    if (resp.statusCode() == 206) {
      String range = resp.headers().firstValue("content-range").orElse("");
      int slash = range.lastIndexOf('/');
      if (slash >= 0 && !range.endsWith("*")) {
        return Long.parseLong(range.substring(slash + 1).trim());
      }
    }
    long len = resp.headers().firstValueAsLong("content-length").orElse(-1);
    return len < 0 ? -1 : len + (resp.statusCode() == 206 ? have : 0);
  }

  private static void hashExisting(Path part, MessageDigest sha) throws IOException {
    try (InputStream in = Files.newInputStream(part)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
