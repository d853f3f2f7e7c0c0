package org.glmmaas.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderFileStoreTest extends FileStoreContract {

  @TempDir Path dir;

  @Override
  FileStore store() {
    return new FolderFileStore(dir);
  }

  @Test
  void deleteLeavesNothingInTheTenantsFolder() throws Exception {
    FileStore s = store();
    StoredFile f = put(s, "t1", "in.jsonl", "batch", "{}\n".getBytes());
    assertThat(s.delete("t1", f.id())).isTrue();
    try (var l = Files.list(dir.resolve("files").resolve(FolderFileStore.hash("t1")))) {
      assertThat(l.toList()).isEmpty();
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
