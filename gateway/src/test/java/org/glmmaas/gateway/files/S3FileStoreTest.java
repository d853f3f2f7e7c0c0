package org.glmmaas.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.glmmaas.gateway.support.FakeS3Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The S3 store through the real AWS SDK against {@link FakeS3Server} (no Docker needed). */
class S3FileStoreTest extends FileStoreContract {

  static final String KEY = "AKIAFAKE";
  static final String SECRET = "fake-secret-never-logged";

  @TempDir Path dataDir;
  FakeS3Server s3;
  final List<S3FileStore> opened = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    s3 = new FakeS3Server(KEY, "glm-files");
    s3.pageSize(3); // listings of more than 3 files take several pages
  }

  @AfterEach
  void stop() {
    opened.forEach(S3FileStore::close);
    s3.close();
  }

  S3FileStore.Settings settings(String bucket, String secretKey) {
    return new S3FileStore.Settings(
        s3.endpoint(), "us-east-1", bucket, "glm/", true, KEY, secretKey);
  }

  @Override
  S3FileStore store() {
    S3FileStore s = S3FileStore.connect(settings("glm-files", SECRET), dataDir);
    opened.add(s);
    return s;
  }

  @Test
  void objectsLiveUnderThePrefixAndTheTenantHashNeverTheTenantId() throws Exception {
    StoredFile f = put(store(), "tenant-secret-name", "in.jsonl", "batch", "{}\n".getBytes());
    String dir = "glm-files/glm/files/" + FolderFileStore.hash("tenant-secret-name") + "/";
    assertThat(s3.objects().keySet())
        .containsExactly(dir + f.id() + ".data", dir + f.id() + ".json");
    assertThat(new String(s3.objects().get(dir + f.id() + ".data").data())).isEqualTo("{}\n");
  }

  @Test
  void aMissingBucketStopsTheStartWithItsName() {
    assertThatThrownBy(() -> S3FileStore.connect(settings("no-such-bucket", SECRET), dataDir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("bucket 'no-such-bucket' at " + s3.endpoint())
        .hasMessageContaining("does not exist");
  }

  @Test
  void refusedCredentialsStopTheStartWithoutShowingTheSecret() {
    S3FileStore.Settings wrong =
        new S3FileStore.Settings(
            s3.endpoint(), "us-east-1", "glm-files", "", true, "AKIAOTHER", SECRET);
    assertThatThrownBy(() -> S3FileStore.connect(wrong, dataDir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("refused these credentials (403)")
        .message()
        .doesNotContain(SECRET);
    assertThat(wrong.toString()).doesNotContain(SECRET).contains("explicit key");
  }

  @Test
  void aPlaceholderSecretStopsTheStartWithoutShowingIt() {
    assertThatThrownBy(() -> S3FileStore.connect(settings("glm-files", "change-me-minio"), dataDir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("glm.gateway.files.s3.secret-key is a placeholder")
        .message()
        .doesNotContain("change-me-minio");
    assertThat(s3.requests()).isZero();
  }

  /**
   * IRSA (a service account's web identity token) works only with the SDK's STS module present:
   * without it the default chain skips that provider silently and the gateway starts with no
   * credentials on EKS.
   */
  @Test
  void theDefaultChainCanUseAWebIdentityToken() throws Exception {
    Class.forName(
        "software.amazon.awssdk.services.sts.internal.StsWebIdentityCredentialsProviderFactory");
  }

  @Test
  void anUnreachableEndpointStopsTheStart() {
    s3.stop();
    assertThatThrownBy(() -> S3FileStore.connect(settings("glm-files", SECRET), dataDir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot be reached");
  }

  @Test
  void storageGoingAwayIsAnIoErrorNotACrash() throws Exception {
    S3FileStore s = store();
    StoredFile f = put(s, "t", "in.jsonl", "batch", "{}\n".getBytes());
    s3.stop();
    // the Files API maps IOException to 503 "the file store is unavailable"
    assertThatThrownBy(() -> s.get("t", f.id())).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> s.list("t")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> s.open("t", f.id())).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> s.delete("t", f.id())).isInstanceOf(IOException.class);
    Path tmp = s.incoming().resolve("u");
    java.nio.file.Files.writeString(tmp, "{}\n");
    assertThatThrownBy(() -> s.create("t", "x.jsonl", "batch", tmp, 3))
        .isInstanceOf(IOException.class);
  }

  @Test
  void aSecondListingReadsOnlyTheListingNotEveryFilesMetadata() throws Exception {
    S3FileStore s = store();
    for (int i = 0; i < 6; i++) {
      put(s, "cached", "f" + i, "batch", "{}\n".getBytes());
    }
    S3FileStore fresh = store();
    assertThat(fresh.list("cached")).hasSize(6);
    int before = s3.requests();
    assertThat(fresh.list("cached")).hasSize(6);
    // 12 objects in pages of 3: four list calls and no metadata reads
    assertThat(s3.requests() - before).isEqualTo(4);
  }

  @Test
  void recoveryRemovesOldOrphansAndKeepsYoungOnesAndFiles() throws Exception {
    S3FileStore s = store();
    StoredFile kept = put(s, "t", "in.jsonl", "batch", "{}\n".getBytes());
    String dir = "glm-files/glm/files/" + FolderFileStore.hash("t") + "/";
    Instant old = Instant.now().minus(S3FileStore.ORPHAN_AGE).minusSeconds(60);
    s3.objects().put(dir + "file-orphan.data", new FakeS3Server.Obj(new byte[] {1}, old));
    s3.objects()
        .put(dir + "file-inflight.data", new FakeS3Server.Obj(new byte[] {1}, Instant.now()));
    java.nio.file.Files.writeString(s.incoming().resolve("upload-1"), "half");

    assertThat(store().recover(Instant.now())).isEqualTo(2);
    assertThat(s3.objects()).doesNotContainKey(dir + "file-orphan.data");
    assertThat(s3.objects()).containsKey(dir + "file-inflight.data");
    assertThat(s.get("t", kept.id())).contains(kept);
    try (var l = java.nio.file.Files.list(s.incoming())) {
      assertThat(l.toList()).isEmpty();
    }
  }
}
