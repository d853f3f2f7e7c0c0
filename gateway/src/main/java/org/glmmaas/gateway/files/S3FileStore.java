package org.glmmaas.gateway.files;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.glmmaas.platform.config.PlaceholderSecrets;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Files in an S3-compatible bucket (AWS S3, MinIO, …), for gateways with several replicas: every
 * replica sees every upload. Keys, under an optional prefix:
 *
 * <pre>
 * {prefix}files/{sha-256 of the tenant id, 32 hex}/{id}.data   the content
 * {prefix}files/{sha-256 of the tenant id, 32 hex}/{id}.json   metadata (the same JSON as the folder store's)
 * </pre>
 *
 * As in {@link FolderFileStore} the content is written first and the metadata last, so a file
 * exists exactly when its metadata object does; delete removes the metadata first. Content is
 * streamed from the upload's temporary file and back out of the bucket, never held in memory.
 * Metadata never changes once written, so listings keep what they read in a cache and only fetch
 * the metadata of ids they have not seen. Any failure to reach the bucket is an {@link IOException}
 * (the Files API answers 503); a missing object is an empty answer.
 */
public final class S3FileStore implements FileStore, AutoCloseable {

  /** Content objects older than this with no metadata are leftovers of an interrupted upload. */
  static final Duration ORPHAN_AGE = Duration.ofHours(1);

  private static final int CACHE_MAX = 100_000;

  /** Metadata objects one listing reads at once. */
  private static final int METADATA_READS = 16;

  /**
   * How to reach the bucket.
   *
   * @param endpoint the S3 API URL ({@code http://127.0.0.1:9000} for MinIO); blank for AWS
   * @param region the signing region ({@code us-east-1} suits MinIO)
   * @param bucket an existing bucket
   * @param prefix a key prefix for every object (blank: none)
   * @param pathStyle {@code http://host/bucket/key} instead of {@code http://bucket.host/key}, as
   *     MinIO and most self-hosted stores need
   * @param accessKey explicit credentials; blank: the AWS default chain ({@code AWS_ACCESS_KEY_ID}
   *     and {@code AWS_SECRET_ACCESS_KEY}, profile, web identity, instance role)
   * @param secretKey the secret for {@code accessKey}
   */
  public record Settings(
      String endpoint,
      String region,
      String bucket,
      String prefix,
      boolean pathStyle,
      String accessKey,
      String secretKey) {

    @Override
    public String toString() {
      // never the secret (a record's own toString would print it)
      return "S3[endpoint="
          + endpoint
          + ", region="
          + region
          + ", bucket="
          + bucket
          + ", prefix="
          + prefix
          + ", pathStyle="
          + pathStyle
          + ", credentials="
          + (blank(accessKey) ? "default chain" : "explicit key")
          + "]";
    }
  }

  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final Path incoming;
  private final Map<String, StoredFile> seen = new ConcurrentHashMap<>();

  /**
   * @param s3 a client (closed with the store)
   * @param bucket the bucket
   * @param prefix a key prefix, blank for none ({@code /} is added when missing)
   * @param incoming a local folder for uploads in flight
   */
  public S3FileStore(S3Client s3, String bucket, String prefix, Path incoming) {
    this.s3 = s3;
    this.bucket = bucket;
    String p = prefix == null ? "" : prefix.strip();
    while (p.startsWith("/")) {
      p = p.substring(1);
    }
    this.prefix = p.isEmpty() || p.endsWith("/") ? p : p + "/";
    this.incoming = incoming;
  }

  /**
   * Builds a client from the settings and checks the bucket is there and reachable with these
   * credentials.
   *
   * @throws IllegalStateException naming the bucket and endpoint when it is missing, forbidden or
   *     unreachable (the gateway does not start)
   */
  public static S3FileStore connect(Settings s, Path dataDir) {
    if (blank(s.bucket())) {
      throw new IllegalStateException(
          "glm.gateway.files.store=s3 needs glm.gateway.files.s3.bucket (an existing bucket)");
    }
    if (blank(s.accessKey()) != blank(s.secretKey())) {
      throw new IllegalStateException(
          "glm.gateway.files.s3.access-key and glm.gateway.files.s3.secret-key go together: set"
              + " both, or neither to use the AWS default credentials chain");
    }
    if (!blank(s.secretKey())) {
      // a value copied from deploy/.env.example stops the start (never printed back)
      if (PlaceholderSecrets.isPlaceholder(s.secretKey())) {
        throw new IllegalStateException(
            "glm.gateway.files.s3.secret-key is a placeholder: set the bucket's real secret key");
      }
    }
    AwsCredentialsProvider creds =
        blank(s.accessKey())
            ? DefaultCredentialsProvider.builder().build()
            : StaticCredentialsProvider.create(
                AwsBasicCredentials.create(s.accessKey(), s.secretKey()));
    S3ClientBuilder b =
        S3Client.builder()
            .httpClient(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(5))
                    .socketTimeout(Duration.ofSeconds(60))
                    .build())
            .region(Region.of(blank(s.region()) ? "us-east-1" : s.region()))
            .credentialsProvider(creds)
            .forcePathStyle(s.pathStyle())
            // many S3-compatible stores reject the newer default trailing checksums
            .requestChecksumCalculation(
                software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(
                software.amazon.awssdk.core.checksums.ResponseChecksumValidation.WHEN_REQUIRED);
    if (!blank(s.endpoint())) {
      b.endpointOverride(URI.create(s.endpoint()));
    }
    S3Client client = b.build();
    String where =
        "bucket '"
            + s.bucket()
            + "' at "
            + (blank(s.endpoint()) ? "AWS S3 (" + s.region() + ")" : s.endpoint());
    try {
      client.headBucket(r -> r.bucket(s.bucket()));
    } catch (S3Exception e) {
      client.close();
      String why =
          switch (e.statusCode()) {
            case 404 -> "does not exist: create it first (glm.gateway.files.s3.bucket)";
            case 301, 400 -> "answered " + e.statusCode() + ": check the region and path-style";
            case 401, 403 ->
                "refused these credentials ("
                    + e.statusCode()
                    + "): check the access key and secret";
            default -> "answered " + e.statusCode();
          };
      throw new IllegalStateException("the file store's " + where + " " + why, e);
    } catch (SdkException e) {
      client.close();
      throw new IllegalStateException(
          "the file store's " + where + " cannot be reached: " + e.getMessage(), e);
    }
    try {
      return new S3FileStore(
          client, s.bucket(), s.prefix(), dataDir.resolve("files").resolve(".incoming"));
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private String dir(String tenantId) {
    return prefix + "files/" + FolderFileStore.hash(tenantId) + "/";
  }

  private String meta(String tenantId, String id) {
    return dir(tenantId) + FileIds.check(id) + ".json";
  }

  private String data(String tenantId, String id) {
    return dir(tenantId) + FileIds.check(id) + ".data";
  }

  /** Runs one S3 call; unreachable or failing storage becomes an IOException. */
  private <T> T call(String what, SdkCall<T> c) throws IOException {
    try {
      return c.run();
    } catch (S3Exception e) {
      throw new IOException(
          "S3 " + what + " failed: " + e.statusCode() + " " + e.awsErrorDetails().errorCode(), e);
    } catch (SdkClientException e) {
      throw new IOException("S3 " + what + " failed: " + e.getMessage(), e);
    }
  }

  @FunctionalInterface
  private interface SdkCall<T> {
    T run();
  }

  private static boolean missing(S3Exception e) {
    return e.statusCode() == 404;
  }

  @Override
  public Path incoming() throws IOException {
    return Files.createDirectories(incoming);
  }

  @Override
  public StoredFile create(
      String tenantId, String filename, String purpose, Path content, long bytes)
      throws IOException {
    StoredFile f =
        new StoredFile(
            FileIds.next(), tenantId, filename, purpose, bytes, System.currentTimeMillis() / 1000);
    String dataKey = data(tenantId, f.id());
    call(
        "upload",
        () ->
            s3.putObject(
                r ->
                    r.bucket(bucket)
                        .key(dataKey)
                        .contentLength(bytes)
                        .contentType("application/octet-stream"),
                RequestBody.fromFile(content)));
    try {
      call(
          "metadata write",
          () ->
              s3.putObject(
                  r -> r.bucket(bucket).key(meta(tenantId, f.id())).contentType("application/json"),
                  RequestBody.fromString(f.toJson(), StandardCharsets.UTF_8)));
    } catch (IOException e) {
      try {
        s3.deleteObject(r -> r.bucket(bucket).key(dataKey));
      } catch (SdkException ignored) {
        // an orphan the start-up sweep removes
      }
      throw e;
    }
    Files.deleteIfExists(content);
    seen.put(f.id(), f);
    return f;
  }

  @Override
  public Optional<StoredFile> get(String tenantId, String id) throws IOException {
    if (!FileIds.valid(id)) {
      return Optional.empty();
    }
    return readMeta(tenantId, meta(tenantId, id));
  }

  private Optional<StoredFile> readMeta(String tenantId, String key) throws IOException {
    String json =
        call(
            "metadata read",
            () -> {
              try {
                return s3.getObjectAsBytes(r -> r.bucket(bucket).key(key))
                    .asString(StandardCharsets.UTF_8);
              } catch (S3Exception e) {
                if (missing(e)) {
                  return null;
                }
                throw e;
              }
            });
    if (json == null) {
      return Optional.empty();
    }
    StoredFile f = StoredFile.fromJson(json);
    return tenantId.equals(f.tenantId()) ? Optional.of(f) : Optional.empty();
  }

  @Override
  public List<StoredFile> list(String tenantId) throws IOException {
    List<StoredFile> out = new ArrayList<>();
    List<String> unseen = new ArrayList<>();
    String dir = dir(tenantId);
    for (S3Object o : objects(dir)) {
      String name = o.key().substring(dir.length());
      if (!name.endsWith(".json")) {
        continue;
      }
      String id = name.substring(0, name.length() - ".json".length());
      if (!FileIds.valid(id)) {
        continue;
      }
      StoredFile f = seen.get(id);
      if (f != null && tenantId.equals(f.tenantId())) {
        out.add(f);
      } else {
        unseen.add(o.key());
      }
    }
    for (StoredFile f : readAll(tenantId, unseen)) {
      if (seen.size() >= CACHE_MAX) {
        seen.clear();
      }
      seen.put(f.id(), f);
      out.add(f);
    }
    return out;
  }

  /** The metadata behind these keys, read a few at a time (a first listing after a start). */
  private List<StoredFile> readAll(String tenantId, List<String> keys) throws IOException {
    if (keys.size() <= 1) {
      List<StoredFile> out = new ArrayList<>();
      for (String k : keys) {
        readMeta(tenantId, k).ifPresent(out::add);
      }
      return out;
    }
    java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(METADATA_READS);
    List<java.util.concurrent.Future<Optional<StoredFile>>> reads = new ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (String k : keys) {
        reads.add(
            pool.submit(
                () -> {
                  slots.acquire();
                  try {
                    return readMeta(tenantId, k);
                  } finally {
                    slots.release();
                  }
                }));
      }
      List<StoredFile> out = new ArrayList<>();
      for (var r : reads) {
        try {
          r.get().ifPresent(out::add); // empty: deleted meanwhile
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof IOException io) {
            throw io;
          }
          throw new IOException("S3 metadata read failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted while listing files");
        }
      }
      return out;
    }
  }

  private List<S3Object> objects(String keyPrefix) throws IOException {
    List<S3Object> all = new ArrayList<>();
    String token = null;
    do {
      String t = token;
      ListObjectsV2Response page =
          call(
              "list",
              () ->
                  s3.listObjectsV2(
                      ListObjectsV2Request.builder()
                          .bucket(bucket)
                          .prefix(keyPrefix)
                          .continuationToken(t)
                          .build()));
      all.addAll(page.contents());
      token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
    } while (token != null);
    return all;
  }

  @Override
  public Optional<InputStream> open(String tenantId, String id) throws IOException {
    if (get(tenantId, id).isEmpty()) {
      return Optional.empty();
    }
    String key = data(tenantId, id);
    ResponseInputStream<GetObjectResponse> in =
        call(
            "download",
            () -> {
              try {
                return s3.getObject(r -> r.bucket(bucket).key(key));
              } catch (S3Exception e) {
                if (missing(e)) {
                  return null;
                }
                throw e;
              }
            });
    return Optional.ofNullable(in);
  }

  @Override
  public boolean delete(String tenantId, String id) throws IOException {
    if (get(tenantId, id).isEmpty()) {
      return false;
    }
    call("delete", () -> s3.deleteObject(r -> r.bucket(bucket).key(meta(tenantId, id))));
    seen.remove(id);
    call("delete", () -> s3.deleteObject(r -> r.bucket(bucket).key(data(tenantId, id))));
    return true;
  }

  /**
   * Removes what an interrupted upload left: the local uploads in flight ({@link
   * #recoverIncoming}), and content objects without metadata older than {@link #ORPHAN_AGE} ({@link
   * #recoverOrphans}). Call once at start.
   *
   * @return how many leftovers were removed
   */
  public int recover(Instant now) throws IOException {
    return recoverIncoming() + recoverOrphans(now);
  }

  /**
   * Deletes the local uploads in flight; call at start before the gateway takes uploads (it cannot
   * tell a leftover from an upload of this process).
   */
  public int recoverIncoming() throws IOException {
    int removed = 0;
    if (Files.isDirectory(incoming)) {
      try (var s = Files.list(incoming)) {
        for (Path p : s.toList()) {
          if (Files.isRegularFile(p) && Files.deleteIfExists(p)) {
            removed++;
          }
        }
      }
    }
    return removed;
  }

  /**
   * Deletes content objects without metadata older than {@link #ORPHAN_AGE} (younger ones may be
   * another replica's upload in progress); safe while uploads run, and a listing of the whole
   * prefix, so the gateway runs it in the background.
   */
  public int recoverOrphans(Instant now) throws IOException {
    int removed = 0;
    List<S3Object> all = objects(prefix + "files/");
    java.util.Set<String> keys = new java.util.HashSet<>();
    for (S3Object o : all) {
      keys.add(o.key());
    }
    for (S3Object o : all) {
      String k = o.key();
      if (k.endsWith(".data")
          && !keys.contains(k.substring(0, k.length() - ".data".length()) + ".json")
          && o.lastModified() != null
          && o.lastModified().isBefore(now.minus(ORPHAN_AGE))) {
        call("delete", () -> s3.deleteObject(r -> r.bucket(bucket).key(k)));
        removed++;
      }
    }
    return removed;
  }

  @Override
  public void close() {
    s3.close();
  }
}
