package org.glmmaas.gateway.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.glmmaas.gateway.error.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** Batch state and result lines survive a restart (a new store on the same folder). */
class FolderBatchStoreTest {

  @TempDir Path dir;

  static ObjectNode batch(String id, String tenant) {
    ObjectNode b = Json.object();
    b.put("id", id);
    b.put("status", "in_progress");
    b.put("_tenant", tenant);
    return b;
  }

  @Test
  void stateAndResultsSurviveARestartAndEachCustomIdHasOneLine() throws Exception {
    String id = BatchIds.next();
    FolderBatchStore s = new FolderBatchStore(dir);
    s.put(batch(id, "t1"));
    s.writeInput(
        "t1", id, List.of("{\"custom_id\":\"a\"}".getBytes(), "{\"custom_id\":\"b\"}".getBytes()));
    FolderBatchStore.Results r = s.results("t1", id);
    assertThat(r.claim("a")).isTrue();
    assertThat(r.claim("a")).isFalse(); // running already
    assertThat(r.append("a", "{\"custom_id\":\"a\",\"response\":{}}", false)).isTrue();
    assertThat(r.append("a", "{\"custom_id\":\"a\",\"response\":{}}", false)).isFalse();
    assertThat(r.claim("a")).isFalse(); // done
    // a crash in the middle of writing b's line leaves half a line behind
    Files.writeString(
        s.output("t1", id),
        "{\"custom_id\":\"b\",\"resp",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);

    FolderBatchStore again = new FolderBatchStore(dir);
    assertThat(again.get("t1", id)).isPresent();
    assertThat(again.get("t2", id)).isEmpty(); // another tenant never sees it
    assertThat(again.list("t1")).hasSize(1);
    assertThat(again.all()).hasSize(1);
    FolderBatchStore.Results r2 = again.results("t1", id);
    assertThat(r2.completed()).isEqualTo(1);
    assertThat(r2.has("a")).isTrue();
    assertThat(r2.has("b")).isFalse(); // its half line was dropped: b runs again
    assertThat(r2.claimMissing(again.inputIds("t1", id))).containsExactly("b");
    assertThat(r2.append("b", "{\"custom_id\":\"b\",\"error\":{}}", true)).isTrue();
    assertThat(Files.readAllLines(again.output("t1", id))).hasSize(1);
    assertThat(Files.readAllLines(again.errors("t1", id))).hasSize(1);
  }

  @Test
  void lineRequestIdsAreStablePerBatchAndCustomId() {
    String a = BatchIds.requestId("batch_x", "row-1");
    assertThat(a).isEqualTo(BatchIds.requestId("batch_x", "row-1")).startsWith("batch_x-");
    assertThat(a).isNotEqualTo(BatchIds.requestId("batch_x", "row-2"));
    assertThat(a).isNotEqualTo(BatchIds.requestId("batch_y", "row-1"));
    assertThat(a.length()).isLessThan(200);
  }
}
