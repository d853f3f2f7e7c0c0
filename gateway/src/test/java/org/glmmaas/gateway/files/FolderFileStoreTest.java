package org.glmmaas.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderFileStoreTest {

  @TempDir Path dir;

  @Test
  void filesOutliveTheStoreAndStayWithTheirTenant() throws Exception {
    FolderFileStore a = new FolderFileStore(dir);
    Path tmp = a.incoming().resolve("u1");
    Files.writeString(tmp, "{\"x\":1}\n");
    StoredFile f = a.create("t1", "in.jsonl", "batch", tmp, 8);
    assertThat(tmp).doesNotExist();

    FolderFileStore b = new FolderFileStore(dir); // a restarted gateway
    assertThat(b.get("t1", f.id())).contains(f);
    assertThat(b.list("t1")).containsExactly(f);
    try (var in = b.open("t1", f.id()).orElseThrow()) {
      assertThat(new String(in.readAllBytes())).isEqualTo("{\"x\":1}\n");
    }
    assertThat(b.get("t2", f.id())).isEmpty();
    assertThat(b.open("t2", f.id())).isEmpty();
    assertThat(b.list("t2")).isEmpty();
    assertThat(b.delete("t2", f.id())).isFalse();
    assertThat(b.get("t1", "../" + f.id())).isEmpty();

    assertThat(b.delete("t1", f.id())).isTrue();
    assertThat(b.get("t1", f.id())).isEmpty();
    assertThat(b.list("t1")).isEmpty();
    try (var s = Files.list(dir.resolve("files").resolve(FolderFileStore.hash("t1")))) {
      assertThat(s.toList()).isEmpty();
    }
  }

  @Test
  void anUploadCutShortLeavesNoVisibleFile() throws Exception {
    FolderFileStore s = new FolderFileStore(dir);
    // content moved but the metadata never written (a crash between the two moves)
    Path tenant = Files.createDirectories(dir.resolve("files").resolve(FolderFileStore.hash("t")));
    Files.writeString(tenant.resolve("file-abc.data"), "x");
    Files.writeString(tenant.resolve("file-abc.json.tmp"), "{");
    assertThat(s.list("t")).isEmpty();
    assertThat(s.get("t", "file-abc")).isEmpty();
  }

  @Test
  void recoveryAtStartRemovesLeftoversAndKeepsFiles() throws Exception {
    FolderFileStore s = new FolderFileStore(dir);
    Path tmp = s.incoming().resolve("u1");
    Files.writeString(tmp, "{}\n");
    StoredFile kept = s.create("t", "in.jsonl", "batch", tmp, 3);
    Path tenant = dir.resolve("files").resolve(FolderFileStore.hash("t"));
    Files.writeString(tenant.resolve("file-orphan.data"), "x");
    Files.writeString(tenant.resolve("file-torn.json.tmp"), "{");
    Files.writeString(s.incoming().resolve("upload-123"), "half an upload");

    assertThat(new FolderFileStore(dir).recover()).isEqualTo(3);
    assertThat(tenant.resolve("file-orphan.data")).doesNotExist();
    assertThat(tenant.resolve("file-torn.json.tmp")).doesNotExist();
    try (var in = Files.list(s.incoming())) {
      assertThat(in.toList()).isEmpty();
    }
    assertThat(s.get("t", kept.id())).contains(kept);
    try (var in = s.open("t", kept.id()).orElseThrow()) {
      assertThat(new String(in.readAllBytes())).isEqualTo("{}\n");
    }
  }
}
