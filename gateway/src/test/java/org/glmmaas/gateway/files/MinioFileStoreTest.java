package org.glmmaas.gateway.files;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The file store contract against a real MinIO (skipped where there is no Docker). */
@Testcontainers(disabledWithoutDocker = true)
class MinioFileStoreTest extends FileStoreContract {

  static final String USER = "glmtest";
  static final String PASSWORD = "glmtest-password";

  @Container
  static final GenericContainer<?> MINIO =
      new GenericContainer<>("minio/minio:RELEASE.2025-09-07T16-13-09Z")
          .withCommand("server", "/data")
          .withEnv("MINIO_ROOT_USER", USER)
          .withEnv("MINIO_ROOT_PASSWORD", PASSWORD)
          .withExposedPorts(9000)
          .waitingFor(
              Wait.forHttp("/minio/health/ready")
                  .forPort(9000)
                  .withStartupTimeout(Duration.ofMinutes(2)));

  static volatile boolean bucketMade;

  @TempDir Path dataDir;
  final List<S3FileStore> opened = new ArrayList<>();

  String endpoint() {
    return "http://" + MINIO.getHost() + ":" + MINIO.getMappedPort(9000);
  }

  @Override
  S3FileStore store() {
    if (!bucketMade) {
      try (S3Client c =
          S3Client.builder()
              .endpointOverride(URI.create(endpoint()))
              .region(Region.US_EAST_1)
              .forcePathStyle(true)
              .credentialsProvider(
                  StaticCredentialsProvider.create(AwsBasicCredentials.create(USER, PASSWORD)))
              .httpClient(
                  software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create())
              .build()) {
        c.createBucket(r -> r.bucket("glm-files"));
      }
      bucketMade = true;
    }
    S3FileStore s =
        S3FileStore.connect(
            new S3FileStore.Settings(
                endpoint(), "us-east-1", "glm-files", "it/", true, USER, PASSWORD),
            dataDir);
    opened.add(s);
    return s;
  }

  @AfterEach
  void close() {
    opened.forEach(S3FileStore::close);
  }
}
