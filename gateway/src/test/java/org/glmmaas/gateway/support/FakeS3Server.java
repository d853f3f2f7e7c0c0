package org.glmmaas.gateway.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal S3 API on 127.0.0.1 for tests, path-style only: HEAD bucket, PUT/GET/HEAD/DELETE
 * object, and ListObjectsV2 with {@code prefix}, {@code max-keys} and continuation tokens. Requests
 * must be SigV4-signed with the configured access key (the signature itself is not checked); other
 * requests get a 403. Bodies in {@code aws-chunked} encoding are decoded. Everything lives in
 * memory.
 */
public final class FakeS3Server implements AutoCloseable {

  /** One stored object. */
  public record Obj(byte[] data, Instant modified) {}

  private final HttpServer server;
  private final String accessKey;
  private final Set<String> buckets = ConcurrentHashMap.newKeySet();
  private final NavigableMap<String, Obj> objects = new ConcurrentSkipListMap<>();
  private final AtomicInteger requests = new AtomicInteger();
  private volatile int pageSize = 1000;

  public FakeS3Server(String accessKey, String... buckets) throws IOException {
    this.accessKey = accessKey;
    this.buckets.addAll(List.of(buckets));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/",
        ex -> {
          try (ex) {
            handle(ex);
          } catch (RuntimeException e) {
            error(ex, 500, "InternalError", e.toString());
          }
        });
    server.start();
  }

  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The most keys one ListObjectsV2 page holds (S3's is 1000), to exercise continuation. */
  public void pageSize(int n) {
    pageSize = n;
  }

  /** bucket/key → object, live. */
  public NavigableMap<String, Obj> objects() {
    return objects;
  }

  public int requests() {
    return requests.get();
  }

  /** Stops answering: the port refuses connections from now on. */
  public void stop() {
    server.stop(0);
  }

  @Override
  public void close() {
    stop();
  }

  private void handle(HttpExchange ex) throws IOException {
    requests.incrementAndGet();
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (auth == null
        || !auth.startsWith("AWS4-HMAC-SHA256 Credential=" + accessKey + "/")
        || !auth.contains("Signature=")) {
      drain(ex);
      error(ex, 403, "InvalidAccessKeyId", "unknown access key");
      return;
    }
    String path = ex.getRequestURI().getRawPath();
    String rest = path.substring(1);
    int slash = rest.indexOf('/');
    String bucket = decode(slash < 0 ? rest : rest.substring(0, slash));
    String key = slash < 0 ? "" : decode(rest.substring(slash + 1));
    Map<String, String> q = query(ex.getRequestURI().getRawQuery());
    String method = ex.getRequestMethod();
    if (!buckets.contains(bucket)) {
      drain(ex);
      error(ex, 404, "NoSuchBucket", "no bucket " + bucket);
      return;
    }
    if (key.isEmpty()) {
      if (method.equals("HEAD")) {
        ex.sendResponseHeaders(200, -1);
      } else if (method.equals("GET") && "2".equals(q.get("list-type"))) {
        list(ex, bucket, q);
      } else {
        error(ex, 501, "NotImplemented", method + " on a bucket");
      }
      return;
    }
    String id = bucket + "/" + key;
    switch (method) {
      case "PUT" -> {
        byte[] body = body(ex);
        objects.put(id, new Obj(body, Instant.now()));
        ex.getResponseHeaders().set("ETag", "\"" + Integer.toHexString(body.length) + "\"");
        ex.sendResponseHeaders(200, -1);
      }
      case "GET", "HEAD" -> {
        Obj o = objects.get(id);
        if (o == null) {
          error(ex, 404, "NoSuchKey", "no key " + key);
          return;
        }
        ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        ex.getResponseHeaders().set("ETag", "\"" + Integer.toHexString(o.data.length) + "\"");
        ex.getResponseHeaders()
            .set(
                "Last-Modified",
                DateTimeFormatter.RFC_1123_DATE_TIME.format(
                    o.modified.atZone(java.time.ZoneOffset.UTC)));
        if (method.equals("HEAD")) {
          ex.getResponseHeaders().set("Content-Length", "" + o.data.length);
          ex.sendResponseHeaders(200, -1);
        } else {
          ex.sendResponseHeaders(200, o.data.length == 0 ? -1 : o.data.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(o.data);
          }
        }
      }
      case "DELETE" -> {
        objects.remove(id);
        ex.sendResponseHeaders(204, -1);
      }
      default -> error(ex, 501, "NotImplemented", method);
    }
  }

  private void list(HttpExchange ex, String bucket, Map<String, String> q) throws IOException {
    String prefix = q.getOrDefault("prefix", "");
    int max = Math.min(pageSize, Integer.parseInt(q.getOrDefault("max-keys", "1000")));
    String token = q.get("continuation-token");
    String from =
        token == null
            ? bucket + "/" + prefix
            : new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    List<Map.Entry<String, Obj>> page = new ArrayList<>();
    boolean truncated = false;
    for (Map.Entry<String, Obj> e : objects.tailMap(from, token == null).entrySet()) {
      if (!e.getKey().startsWith(bucket + "/" + prefix)) {
        break;
      }
      if (page.size() == max) {
        truncated = true;
        break;
      }
      page.add(e);
    }
    StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    x.append("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    x.append("<Name>").append(bucket).append("</Name>");
    x.append("<Prefix>").append(xml(prefix)).append("</Prefix>");
    x.append("<KeyCount>").append(page.size()).append("</KeyCount>");
    x.append("<MaxKeys>").append(max).append("</MaxKeys>");
    x.append("<IsTruncated>").append(truncated).append("</IsTruncated>");
    for (Map.Entry<String, Obj> e : page) {
      x.append("<Contents><Key>")
          .append(xml(e.getKey().substring(bucket.length() + 1)))
          .append("</Key><LastModified>")
          .append(DateTimeFormatter.ISO_INSTANT.format(e.getValue().modified))
          .append("</LastModified><Size>")
          .append(e.getValue().data.length)
          .append("</Size><StorageClass>STANDARD</StorageClass></Contents>");
    }
    if (truncated) {
      String last = page.getLast().getKey();
      x.append("<NextContinuationToken>")
          .append(Base64.getUrlEncoder().encodeToString(last.getBytes(StandardCharsets.UTF_8)))
          .append("</NextContinuationToken>");
    }
    x.append("</ListBucketResult>");
    byte[] b = x.toString().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/xml");
    ex.sendResponseHeaders(200, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  private static byte[] body(HttpExchange ex) throws IOException {
    byte[] raw;
    try (InputStream in = ex.getRequestBody()) {
      raw = in.readAllBytes();
    }
    String sha = ex.getRequestHeaders().getFirst("x-amz-content-sha256");
    String enc = ex.getRequestHeaders().getFirst("Content-Encoding");
    if ((sha != null && sha.startsWith("STREAMING-"))
        || (enc != null && enc.contains("aws-chunked"))) {
      return unchunk(raw);
    }
    return raw;
  }

  /** {@code hex-size[;chunk-signature=…]\r\n data \r\n} … {@code 0…\r\n} trailers. */
  static byte[] unchunk(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    while (i < raw.length) {
      int eol = indexOf(raw, i);
      String header = new String(raw, i, eol - i, StandardCharsets.US_ASCII);
      int semi = header.indexOf(';');
      int size = Integer.parseInt((semi < 0 ? header : header.substring(0, semi)).strip(), 16);
      i = eol + 2;
      if (size == 0) {
        break;
      }
      out.write(raw, i, size);
      i += size + 2;
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] b, int from) {
    for (int i = from; i + 1 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
    }
    throw new IllegalArgumentException("a chunk header without CRLF");
  }

  private static void drain(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    }
  }

  private static void error(HttpExchange ex, int status, String code, String message)
      throws IOException {
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(status, -1);
      return;
    }
    byte[] b =
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                + code
                + "</Code><Message>"
                + xml(message)
                + "</Message></Error>")
            .getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/xml");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> m = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return m;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      m.put(decode(eq < 0 ? kv : kv.substring(0, eq)), eq < 0 ? "" : decode(kv.substring(eq + 1)));
    }
    return m;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String xml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
