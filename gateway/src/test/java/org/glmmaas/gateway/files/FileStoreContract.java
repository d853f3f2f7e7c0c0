package org.glmmaas.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What every {@link FileStore} must do, run against each store (folder, fake S3, MinIO): files
 * outlive the store object, stay with their tenant, stream back byte for byte, and vanish on
 * delete.
 */
abstract class FileStoreContract {

  /** A store over the test's storage (a fresh object each call: a restarted gateway). */
  abstract FileStore store() throws Exception;

  StoredFile put(FileStore s, String tenant, String name, String purpose, byte[] content)
      throws Exception {
    Path tmp = s.incoming().resolve("u-" + System.nanoTime());
    Files.write(tmp, content);
    StoredFile f = s.create(tenant, name, purpose, tmp, content.length);
    assertThat(tmp).doesNotExist();
    return f;
  }

  @Test
  void filesOutliveTheStoreAndStayWithTheirTenant() throws Exception {
    FileStore a = store();
    StoredFile f = put(a, "t1", "in.jsonl", "batch", "{\"x\":1}\n".getBytes());
    assertThat(f.bytes()).isEqualTo(8);
    assertThat(f.filename()).isEqualTo("in.jsonl");
    assertThat(f.purpose()).isEqualTo("batch");

    FileStore b = store(); // a restarted gateway
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
    assertThat(b.get("t1", "file-nosuchfile")).isEmpty();
    assertThat(b.open("t1", "file-nosuchfile")).isEmpty();

    assertThat(b.delete("t1", f.id())).isTrue();
    assertThat(b.get("t1", f.id())).isEmpty();
    assertThat(b.open("t1", f.id())).isEmpty();
    assertThat(b.list("t1")).isEmpty();
    assertThat(b.delete("t1", f.id())).isFalse();
    assertThat(a.list("t1")).isEmpty(); // the other instance sees the delete too
  }

  @Test
  void listingHoldsEveryFileOfTheTenantAndOnlyThose() throws Exception {
    FileStore s = store();
    Set<StoredFile> mine = new HashSet<>();
    for (int i = 0; i < 7; i++) {
      mine.add(
          put(
              s,
              "lister",
              "f" + i + ".txt",
              i % 2 == 0 ? "batch" : "retrieval",
              ("" + i).getBytes()));
    }
    put(s, "lister-other", "x.txt", "retrieval", "x".getBytes());
    assertThat(store().list("lister")).containsExactlyInAnyOrderElementsOf(mine);
    StoredFile gone = mine.iterator().next();
    assertThat(s.delete("lister", gone.id())).isTrue();
    mine.remove(gone);
    assertThat(s.list("lister")).containsExactlyInAnyOrderElementsOf(mine);
  }

  @Test
  void contentComesBackByteForByte() throws Exception {
    byte[] big = new byte[3 * 1024 * 1024 + 17];
    new Random(7).nextBytes(big);
    FileStore s = store();
    StoredFile f = put(s, "bytes", "blob.bin", "retrieval", big);
    assertThat(f.bytes()).isEqualTo(big.length);
    try (var in = store().open("bytes", f.id()).orElseThrow()) {
      assertThat(in.readAllBytes()).isEqualTo(big);
    }
  }

  @Test
  void filenamesKeepTheirCharacters() throws Exception {
    FileStore s = store();
    StoredFile f = put(s, "names", "数据 & \"quotes\" +1%.jsonl", "batch", "{}\n".getBytes());
    assertThat(store().get("names", f.id()).orElseThrow().filename())
        .isEqualTo("数据 & \"quotes\" +1%.jsonl");
  }
}
