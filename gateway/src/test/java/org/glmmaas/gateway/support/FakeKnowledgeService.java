package org.glmmaas.gateway.support;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.proto.knowledge.v1.CreateKnowledgeRequest;
import org.glmmaas.proto.knowledge.v1.DeleteResponse;
import org.glmmaas.proto.knowledge.v1.Document;
import org.glmmaas.proto.knowledge.v1.KnowledgeBase;
import org.glmmaas.proto.knowledge.v1.KnowledgeRef;
import org.glmmaas.proto.knowledge.v1.KnowledgeServiceGrpc;
import org.glmmaas.proto.knowledge.v1.ListDocumentsResponse;
import org.glmmaas.proto.knowledge.v1.ListKnowledgeRequest;
import org.glmmaas.proto.knowledge.v1.ListKnowledgeResponse;
import org.glmmaas.proto.knowledge.v1.RetrieveRequest;
import org.glmmaas.proto.knowledge.v1.RetrieveResponse;
import org.glmmaas.proto.knowledge.v1.RetrievedChunk;
import org.glmmaas.proto.knowledge.v1.UploadDocumentRequest;

/**
 * An in-memory knowledge-service for gateway tests: tenant-scoped knowledge bases; an uploaded
 * document is "indexed" at once as one chunk ({@code <doc id>-0}); Retrieve returns the chunks
 * whose text equals the query first (score 1), then the rest (score 0.5). Records the last
 * Retrieve.
 */
public final class FakeKnowledgeService implements AutoCloseable {

  record Kb(
      String tenant, KnowledgeBase kb, Map<String, Document> docs, Map<String, String> text) {}

  private final Map<String, Kb> kbs = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();
  public volatile RetrieveRequest lastRetrieve;
  private final Server server;

  public FakeKnowledgeService() throws IOException {
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(new Service())
            .build()
            .start();
  }

  /** A knowledge base with a fixed id (docs/api.md's examples use "kb_docs"). */
  public void seed(String tenant, String id) {
    kbs.put(
        id,
        new Kb(
            tenant,
            KnowledgeBase.newBuilder().setId(id).setName(id).setEmbeddingModel("emb").build(),
            new ConcurrentHashMap<>(),
            new ConcurrentHashMap<>()));
  }

  public String address() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
  }

  private final class Service extends KnowledgeServiceGrpc.KnowledgeServiceImplBase {

    private Kb find(String tenant, String id, StreamObserver<?> out) {
      Kb k = kbs.get(id);
      if (k == null || !k.tenant().equals(tenant)) {
        out.onError(
            Status.NOT_FOUND
                .withDescription("knowledge base '" + id + "' not found")
                .asRuntimeException());
        return null;
      }
      return k;
    }

    @Override
    public void createKnowledge(CreateKnowledgeRequest r, StreamObserver<KnowledgeBase> out) {
      String id = "kb_fake" + ids.incrementAndGet();
      KnowledgeBase kb =
          KnowledgeBase.newBuilder()
              .setId(id)
              .setName(r.getName())
              .setDescription(r.getDescription())
              .setEmbeddingModel(r.getEmbeddingModel().isEmpty() ? "emb" : r.getEmbeddingModel())
              .build();
      kbs.put(
          id, new Kb(r.getTenantId(), kb, new ConcurrentHashMap<>(), new ConcurrentHashMap<>()));
      out.onNext(kb);
      out.onCompleted();
    }

    @Override
    public void getKnowledge(KnowledgeRef r, StreamObserver<KnowledgeBase> out) {
      Kb k = find(r.getTenantId(), r.getKnowledgeId(), out);
      if (k != null) {
        out.onNext(k.kb());
        out.onCompleted();
      }
    }

    @Override
    public void listKnowledge(ListKnowledgeRequest r, StreamObserver<ListKnowledgeResponse> out) {
      ListKnowledgeResponse.Builder b = ListKnowledgeResponse.newBuilder();
      kbs.values().stream()
          .filter(k -> k.tenant().equals(r.getTenantId()))
          .forEach(k -> b.addKnowledge(k.kb()));
      out.onNext(b.build());
      out.onCompleted();
    }

    @Override
    public void deleteKnowledge(KnowledgeRef r, StreamObserver<DeleteResponse> out) {
      if (find(r.getTenantId(), r.getKnowledgeId(), out) != null) {
        kbs.remove(r.getKnowledgeId());
        out.onNext(DeleteResponse.newBuilder().setDeleted(true).build());
        out.onCompleted();
      }
    }

    @Override
    public void uploadDocument(UploadDocumentRequest r, StreamObserver<Document> out) {
      Kb k = find(r.getTenantId(), r.getKnowledgeId(), out);
      if (k == null) {
        return;
      }
      if (r.getContent().isEmpty()) {
        out.onError(
            Status.INVALID_ARGUMENT
                .withDescription("file '" + r.getFileName() + "' is empty (0 bytes)")
                .asRuntimeException());
        return;
      }
      String id = "doc_fake" + ids.incrementAndGet();
      Document d =
          Document.newBuilder()
              .setId(id)
              .setKnowledgeId(k.kb().getId())
              .setFileName(r.getFileName())
              .setBytes(r.getContent().size())
              .setStatus("pending")
              .build();
      k.docs()
          .put(id, d.toBuilder().setStatus("indexed").setChunkCount(1).setChunksIndexed(1).build());
      k.text().put(id, r.getContent().toString(StandardCharsets.UTF_8).strip());
      out.onNext(d);
      out.onCompleted();
    }

    @Override
    public void listDocuments(KnowledgeRef r, StreamObserver<ListDocumentsResponse> out) {
      Kb k = find(r.getTenantId(), r.getKnowledgeId(), out);
      if (k != null) {
        out.onNext(ListDocumentsResponse.newBuilder().addAllDocuments(k.docs().values()).build());
        out.onCompleted();
      }
    }

    @Override
    public void retrieve(RetrieveRequest r, StreamObserver<RetrieveResponse> out) {
      lastRetrieve = r;
      Kb k = find(r.getTenantId(), r.getKnowledgeId(), out);
      if (k == null) {
        return;
      }
      RetrieveResponse.Builder b =
          RetrieveResponse.newBuilder().setEmbeddingTokens(7).setEmbeddingModel("emb");
      k.text().entrySet().stream()
          .sorted(
              (x, y) ->
                  Boolean.compare(
                      y.getValue().equals(r.getQuery()), x.getValue().equals(r.getQuery())))
          .limit(r.getTopK())
          .forEach(
              e ->
                  b.addChunks(
                      RetrievedChunk.newBuilder()
                          .setChunkId(e.getKey() + "-0")
                          .setDocumentId(e.getKey())
                          .setText(e.getValue())
                          .setScore(e.getValue().equals(r.getQuery()) ? 1f : 0.5f)));
      out.onNext(b.build());
      out.onCompleted();
    }
  }
}
