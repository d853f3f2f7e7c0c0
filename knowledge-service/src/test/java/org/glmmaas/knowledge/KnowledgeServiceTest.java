package org.glmmaas.knowledge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.glmmaas.knowledge.index.VectorIndex;
import org.glmmaas.knowledge.store.KnowledgeStore;
import org.glmmaas.knowledge.support.FakeBillingHolds;
import org.glmmaas.knowledge.support.FakeEmbedder;
import org.glmmaas.knowledge.support.Pdfs;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.test.TestPostgres;
import org.glmmaas.proto.knowledge.v1.CreateKnowledgeRequest;
import org.glmmaas.proto.knowledge.v1.Document;
import org.glmmaas.proto.knowledge.v1.DocumentRef;
import org.glmmaas.proto.knowledge.v1.KnowledgeBase;
import org.glmmaas.proto.knowledge.v1.KnowledgeRef;
import org.glmmaas.proto.knowledge.v1.KnowledgeServiceGrpc;
import org.glmmaas.proto.knowledge.v1.KnowledgeServiceGrpc.KnowledgeServiceBlockingStub;
import org.glmmaas.proto.knowledge.v1.ListKnowledgeRequest;
import org.glmmaas.proto.knowledge.v1.RetrieveRequest;
import org.glmmaas.proto.knowledge.v1.RetrieveResponse;
import org.glmmaas.proto.knowledge.v1.UploadDocumentRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The service over real gRPC with a real PostgreSQL and Lucene index; only the embedding model is a
 * {@link FakeEmbedder} (equal texts embed equally, as with any model).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KnowledgeServiceTest {

  static Path indexDir;

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    indexDir = Files.createTempDirectory("kn-index");
    r.add("spring.datasource.url", () -> TestPostgres.newDatabase("knowledge_service_test"));
    r.add("spring.datasource.username", () -> "postgres");
    r.add("glm.knowledge.grpc.port", () -> "0");
    r.add("glm.knowledge.index-dir", () -> indexDir.toString());
    r.add("glm.knowledge.poll", () -> "50ms");
    r.add("glm.knowledge.embed-batch", () -> "4");
    r.add("glm.knowledge.tenant-quota", () -> "64KB");
  }

  @TestConfiguration
  static class Fakes {
    @Bean
    @Primary
    FakeEmbedder fakeEmbedder() {
      return new FakeEmbedder();
    }

    @Bean
    @Primary
    FakeBillingHolds fakeBillingHolds() {
      return new FakeBillingHolds();
    }
  }

  @Autowired GrpcServer server;
  @Autowired VectorIndex index;
  @Autowired KnowledgeStore store;
  @Autowired FakeEmbedder embedder;
  @Autowired FakeBillingHolds holds;

  ManagedChannel channel;
  KnowledgeServiceBlockingStub stub;

  @BeforeAll
  void connect() {
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    stub = KnowledgeServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  void close() {
    channel.shutdownNow();
  }

  KnowledgeBase create(String tenant, String name) {
    return stub.createKnowledge(
        CreateKnowledgeRequest.newBuilder().setTenantId(tenant).setName(name).build());
  }

  Document upload(String tenant, String kb, String name, byte[] content) {
    return stub.uploadDocument(
        UploadDocumentRequest.newBuilder()
            .setTenantId(tenant)
            .setKnowledgeId(kb)
            .setFileName(name)
            .setContent(ByteString.copyFrom(content))
            .build());
  }

  List<Document> awaitIndexed(String tenant, String kb) throws InterruptedException {
    Instant until = Instant.now().plus(Duration.ofSeconds(30));
    while (true) {
      List<Document> docs =
          stub.listDocuments(
                  KnowledgeRef.newBuilder().setTenantId(tenant).setKnowledgeId(kb).build())
              .getDocumentsList();
      if (docs.stream().allMatch(d -> d.getStatus().equals("indexed"))) {
        return docs;
      }
      assertThat(docs).noneMatch(d -> d.getStatus().equals("failed"));
      assertThat(Instant.now()).isBefore(until);
      Thread.sleep(50);
    }
  }

  RetrieveResponse retrieve(String tenant, String kb, String query, int k) {
    return stub.retrieve(
        RetrieveRequest.newBuilder()
            .setTenantId(tenant)
            .setKnowledgeId(kb)
            .setQuery(query)
            .setTopK(k)
            .build());
  }

  @Test
  void markdownAndPdfParagraphsAreRetrievedByTheirOwnSentence() throws Exception {
    String kb = create("t-a", "handbook").getId();
    String md =
        "# Llamas\n\nLlamas hum when they are curious about a stranger.\n\n"
            + "Alpacas were bred for fibre in the Andes.\n";
    Document mdDoc = upload("t-a", kb, "animals.md", md.getBytes(StandardCharsets.UTF_8));
    byte[] pdf =
        Pdfs.of(
            List.of(
                List.of("Ferns reproduce with spores instead of seeds.", "Mosses lack roots."),
                List.of("Cycads are ancient seed plants.")));
    Document pdfDoc = upload("t-a", kb, "plants.pdf", pdf);
    assertThat(mdDoc.getStatus()).isEqualTo("pending");

    List<Document> docs = awaitIndexed("t-a", kb);
    assertThat(docs).extracting(Document::getChunkCount).containsExactly(3, 3);
    assertThat(docs).extracting(Document::getChunksIndexed).containsExactly(3, 3);

    RetrieveResponse r = retrieve("t-a", kb, "Ferns reproduce with spores instead of seeds.", 3);
    assertThat(r.getChunks(0).getText()).isEqualTo("Ferns reproduce with spores instead of seeds.");
    assertThat(r.getChunks(0).getDocumentId()).isEqualTo(pdfDoc.getId());
    assertThat(r.getChunks(0).getScore()).isGreaterThan(0.999f);
    assertThat(r.getChunks(1).getScore()).isLessThan(r.getChunks(0).getScore());
    assertThat(r.getChunksCount()).isEqualTo(3);
    assertThat(r.getEmbeddingTokens()).isPositive();

    RetrieveResponse r2 =
        retrieve("t-a", kb, "Llamas hum when they are curious about a stranger.", 1);
    assertThat(r2.getChunks(0).getDocumentId()).isEqualTo(mdDoc.getId());
    assertThat(r2.getChunks(0).getChunkId()).isEqualTo(mdDoc.getId() + "-1");
  }

  /**
   * Embedding calls are held on the tenant's balance first, as chat calls are: every indexing batch
   * and every retrieve reserves under its usage request id (settled by the worker's usage event, so
   * not released); a tenant whose balance cannot cover it indexes nothing (the document fails
   * saying so) and its retrieve is refused before any embedding.
   */
  @Test
  void embeddingIsHeldOnTheBalanceAndATenantWithoutBalanceIndexesNothing() throws Exception {
    String kb = create("t-paying", "held").getId();
    Document doc =
        upload(
            "t-paying",
            kb,
            "a.md",
            "Quartz is harder than glass.".getBytes(StandardCharsets.UTF_8));
    awaitIndexed("t-paying", kb);
    String batchId = "kn-" + doc.getId() + "-0";
    assertThat(holds.open).containsKey(batchId);
    assertThat(holds.open.get(batchId))
        .isGreaterThanOrEqualTo("Quartz is harder than glass.".length());
    int before = holds.open.size();
    retrieve("t-paying", kb, "Quartz is harder than glass.", 1);
    assertThat(holds.open).hasSize(before + 1);
    assertThat(holds.released).isEmpty();

    // a balance above zero but below the batch's hold: the upload is taken, its indexing refused
    holds.broke.add("t-broke");
    String poor = create("t-broke", "poor").getId();
    int embedsBefore = embedder.calls.get();
    Document refused =
        upload("t-broke", poor, "b.md", "Basalt cools from lava.".getBytes(StandardCharsets.UTF_8));
    Instant until = Instant.now().plus(Duration.ofSeconds(30));
    Document now;
    do {
      Thread.sleep(50);
      now =
          stub.listDocuments(
                  KnowledgeRef.newBuilder().setTenantId("t-broke").setKnowledgeId(poor).build())
              .getDocuments(0);
      assertThat(Instant.now()).isBefore(until);
    } while (!now.getStatus().equals("failed"));
    assertThat(now.getId()).isEqualTo(refused.getId());
    assertThat(now.getFailure()).contains("balance");
    assertThat(now.getChunksIndexed()).isZero();
    assertThat(index.chunkIdCounts(poor)).isEmpty();
    assertThatThrownBy(() -> retrieve("t-broke", poor, "Basalt cools from lava.", 1))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("balance");
            });
    assertThat(embedder.calls.get())
        .as("nothing embedded for the broke tenant")
        .isEqualTo(embedsBefore);
    holds.broke.remove("t-broke");

    // a used-up balance: the upload itself is refused, nothing stored
    holds.empty.add("t-empty");
    String none = create("t-empty", "none").getId();
    assertThatThrownBy(() -> upload("t-empty", none, "c.md", "Granite is coarse.".getBytes()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("balance");
            });
    assertThat(
            stub.listDocuments(
                    KnowledgeRef.newBuilder().setTenantId("t-empty").setKnowledgeId(none).build())
                .getDocumentsCount())
        .isZero();
    holds.empty.remove("t-empty");
  }

  @Test
  void anotherTenantsKnowledgeIsNotFoundNeverAResult() throws Exception {
    String kb = create("t-owner", "private").getId();
    upload("t-owner", kb, "secret.txt", "The vault code is 1234.".getBytes(StandardCharsets.UTF_8));
    awaitIndexed("t-owner", kb);
    KnowledgeRef other =
        KnowledgeRef.newBuilder().setTenantId("t-other").setKnowledgeId(kb).build();
    for (Runnable call :
        List.<Runnable>of(
            () -> retrieve("t-other", kb, "The vault code is 1234.", 1),
            () -> stub.getKnowledge(other),
            () -> stub.listDocuments(other),
            () -> stub.deleteKnowledge(other),
            () -> upload("t-other", kb, "x.txt", "x".getBytes()))) {
      assertThatThrownBy(call::run)
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }
    assertThat(
            stub.listKnowledge(ListKnowledgeRequest.newBuilder().setTenantId("t-other").build())
                .getKnowledgeCount())
        .isZero();
    assertThat(retrieve("t-owner", kb, "The vault code is 1234.", 1).getChunksCount()).isEqualTo(1);
  }

  @Test
  void badDocumentsAreRefusedAndNothingIsStored() {
    String kb = create("t-bad", "bad").getId();
    assertCode(
        () -> upload("t-bad", kb, "a.exe", new byte[] {1, 2}),
        Status.Code.INVALID_ARGUMENT,
        "unsupported file type");
    assertCode(
        () -> upload("t-bad", kb, "a.md", new byte[0]), Status.Code.INVALID_ARGUMENT, "0 bytes");
    assertCode(
        () -> upload("t-bad", kb, "a.pdf", "%PDF-1.7 garbage".getBytes()),
        Status.Code.INVALID_ARGUMENT,
        "cannot be read");
    // over the 64KB tenant quota
    assertCode(
        () -> upload("t-bad", kb, "big.txt", "word ".repeat(14_000).getBytes()),
        Status.Code.RESOURCE_EXHAUSTED,
        "storage quota exceeded");
    assertThat(store.listDocuments(kb)).isEmpty();
    assertThat(store.usedBytes("t-bad")).isZero();
  }

  @Test
  void deletingAKnowledgeBaseDeletesItsVectorsChunksAndFiles() throws Exception {
    String kb = create("t-del", "temp").getId();
    Document d = upload("t-del", kb, "a.txt", "One.\n\nTwo.\n\nThree.".getBytes());
    awaitIndexed("t-del", kb);
    assertThat(index.chunkIdCounts(kb)).hasSize(3);
    Document d2 = upload("t-del", kb, "b.txt", "Four.".getBytes());
    awaitIndexed("t-del", kb);
    stub.deleteDocument(
        DocumentRef.newBuilder()
            .setTenantId("t-del")
            .setKnowledgeId(kb)
            .setDocumentId(d2.getId())
            .build());
    assertThat(index.chunkIdCounts(kb)).hasSize(3).doesNotContainKey(d2.getId() + "-0");

    stub.deleteKnowledge(KnowledgeRef.newBuilder().setTenantId("t-del").setKnowledgeId(kb).build());
    assertThat(index.chunkIdCounts(kb)).isEmpty();
    assertThat(Files.exists(indexDir.resolve(kb))).isFalse();
    assertThat(store.chunkIdCounts(kb, false)).isEmpty();
    assertThat(store.usedBytes("t-del")).isZero();
    assertThat(d.getId()).isNotEmpty();
  }

  @Test
  void aLongDocumentIsIndexedInBatchesEachChunkOnceWithOneUsageIdPerBatch() throws Exception {
    String kb = create("t-long", "long").getId();
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 30; i++) {
      text.append("Paragraph number ").append(i).append(" has its own words.\n\n");
    }
    int before = embedder.requestIds.size();
    upload("t-long", kb, "long.md", text.toString().getBytes());
    awaitIndexed("t-long", kb);
    Map<String, Integer> lucene = index.chunkIdCounts(kb);
    assertThat(lucene).hasSize(30).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    assertThat(store.chunkIdCounts(kb, true)).isEqualTo(lucene);
    List<String> ids =
        new ArrayList<>(embedder.requestIds.subList(before, embedder.requestIds.size()));
    assertThat(ids).hasSize(8).doesNotHaveDuplicates(); // 30 chunks in batches of 4
  }

  static void assertCode(Runnable call, Status.Code code, String message) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription()).contains(message);
            });
  }
}
