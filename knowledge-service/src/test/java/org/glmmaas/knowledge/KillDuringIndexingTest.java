package org.glmmaas.knowledge;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.glmmaas.knowledge.index.LuceneVectorIndex;
import org.glmmaas.knowledge.support.FakeEmbedWorker;
import org.glmmaas.knowledge.support.Pdfs;
import org.glmmaas.platform.test.TestPostgres;
import org.glmmaas.proto.knowledge.v1.CreateKnowledgeRequest;
import org.glmmaas.proto.knowledge.v1.Document;
import org.glmmaas.proto.knowledge.v1.KnowledgeRef;
import org.glmmaas.proto.knowledge.v1.KnowledgeServiceGrpc;
import org.glmmaas.proto.knowledge.v1.UploadDocumentRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The must-show crash test at process level: knowledge-service runs as its own JVM (real
 * PostgreSQL, real Lucene index on disk, a fake embedding worker over gRPC); it is killed with
 * SIGKILL in the middle of indexing a 200-page PDF, started again on the same database and index
 * folder, and the job completes with every chunk in the index exactly once — counted by chunk id in
 * Lucene and in PostgreSQL.
 */
class KillDuringIndexingTest {

  @TempDir Path dir;

  @Test
  void kill9InTheMiddleOfIndexingA200PageDocumentThenEveryChunkIsIndexedOnce() throws Exception {
    String db = TestPostgres.newDatabase("knowledge_kill_test");
    Path index = dir.resolve("index");
    try (FakeEmbedWorker worker = new FakeEmbedWorker()) {
      worker.delayMs = 40;
      int grpcPort = freePort();
      Process first = start(db, index, grpcPort, worker);
      ManagedChannel ch =
          ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
      try {
        var stub = KnowledgeServiceGrpc.newBlockingStub(ch);
        awaitUp(stub, first);
        String kb =
            stub.createKnowledge(
                    CreateKnowledgeRequest.newBuilder()
                        .setTenantId("t-kill")
                        .setName("book")
                        .setEmbeddingModel(FakeEmbedWorker.MODEL)
                        .build())
                .getId();
        List<List<String>> pages = new ArrayList<>();
        for (int p = 0; p < 200; p++) {
          List<String> paragraphs = new ArrayList<>();
          for (int i = 0; i < 6; i++) {
            paragraphs.add("Page " + p + " paragraph " + i + " tells its own small story.");
          }
          pages.add(paragraphs);
        }
        Document doc =
            stub.uploadDocument(
                UploadDocumentRequest.newBuilder()
                    .setTenantId("t-kill")
                    .setKnowledgeId(kb)
                    .setFileName("book.pdf")
                    .setContent(ByteString.copyFrom(Pdfs.of(pages)))
                    .build());
        KnowledgeRef ref =
            KnowledgeRef.newBuilder().setTenantId("t-kill").setKnowledgeId(kb).build();

        // kill -9 once indexing is well under way but far from done
        long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        Document seen = null;
        while (System.nanoTime() < until) {
          seen = stub.listDocuments(ref).getDocuments(0);
          if (seen.getChunksIndexed() >= 200) {
            break;
          }
          Thread.sleep(50);
        }
        assertThat(seen.getStatus()).isEqualTo("indexing");
        assertThat(seen.getChunkCount()).isEqualTo(1200);
        first.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL
        assertThat(seen.getChunksIndexed()).isLessThan(1200);

        Process second = start(db, index, grpcPort, worker);
        try {
          awaitUp(stub, second);
          Document done = null;
          long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
          while (System.nanoTime() < deadline) {
            done = stub.listDocuments(ref).getDocuments(0);
            if (done.getStatus().equals("indexed")) {
              break;
            }
            Thread.sleep(100);
          }
          assertThat(done.getStatus()).isEqualTo("indexed");
          assertThat(done.getChunksIndexed()).isEqualTo(1200);
        } finally {
          second.destroy();
          second.waitFor(30, TimeUnit.SECONDS);
        }

        Map<String, Integer> inPostgres = new HashMap<>();
        try (Connection c = DriverManager.getConnection(db, "postgres", "");
            ResultSet rs =
                c.createStatement()
                    .executeQuery(
                        "SELECT id, count(*) FROM chunk WHERE knowledge_id = '"
                            + kb
                            + "' AND indexed GROUP BY id")) {
          while (rs.next()) {
            inPostgres.put(rs.getString(1), rs.getInt(2));
          }
        }
        Map<String, Integer> inLucene;
        try (LuceneVectorIndex lucene = new LuceneVectorIndex(index)) {
          inLucene = lucene.chunkIdCounts(kb);
        }
        assertThat(inLucene).hasSize(1200).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
        assertThat(inPostgres).isEqualTo(inLucene);
        assertThat(inLucene).containsKey(doc.getId() + "-0").containsKey(doc.getId() + "-1199");
      } finally {
        ch.shutdownNow();
        first.destroyForcibly();
      }
    }
  }

  private Process start(String db, Path index, int grpcPort, FakeEmbedWorker worker)
      throws Exception {
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            KnowledgeServiceApplication.class.getName(),
            "--server.port=0",
            "--spring.datasource.url=" + db,
            "--spring.datasource.username=postgres",
            "--glm.knowledge.grpc.port=" + grpcPort,
            "--glm.knowledge.index-dir=" + index,
            "--glm.knowledge.node-id=kill-test-node",
            "--glm.knowledge.embed-targets=" + worker.address(),
            "--glm.knowledge.embed-batch=8",
            "--glm.knowledge.poll=100ms",
            "--logging.structured.format.console=");
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("service-" + System.nanoTime() + ".log").toFile())
        .start();
  }

  private static void awaitUp(KnowledgeServiceGrpc.KnowledgeServiceBlockingStub stub, Process p)
      throws InterruptedException {
    long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < until) {
      assertThat(p.isAlive()).as("knowledge-service exited").isTrue();
      try {
        stub.withDeadlineAfter(2, TimeUnit.SECONDS)
            .listKnowledge(
                org.glmmaas.proto.knowledge.v1.ListKnowledgeRequest.newBuilder()
                    .setTenantId("probe")
                    .build());
        return;
      } catch (StatusRuntimeException e) {
        Thread.sleep(250);
      }
    }
    throw new AssertionError("knowledge-service did not come up");
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
