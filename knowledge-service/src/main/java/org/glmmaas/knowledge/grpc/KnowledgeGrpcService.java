package org.glmmaas.knowledge.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.glmmaas.knowledge.KnowledgeProperties;
import org.glmmaas.knowledge.embed.Embedder;
import org.glmmaas.knowledge.index.VectorIndex;
import org.glmmaas.knowledge.ingest.BadDocumentException;
import org.glmmaas.knowledge.ingest.DocumentParser;
import org.glmmaas.knowledge.store.KnowledgeStore;
import org.glmmaas.knowledge.store.KnowledgeStore.ChunkRow;
import org.glmmaas.knowledge.store.KnowledgeStore.DocumentRow;
import org.glmmaas.knowledge.store.KnowledgeStore.KnowledgeRow;
import org.glmmaas.proto.knowledge.v1.CreateKnowledgeRequest;
import org.glmmaas.proto.knowledge.v1.DeleteResponse;
import org.glmmaas.proto.knowledge.v1.Document;
import org.glmmaas.proto.knowledge.v1.DocumentRef;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KnowledgeService over gRPC. Every call is scoped to its tenant: a knowledge base or document of
 * another tenant is NOT_FOUND, exactly like one that does not exist. Refusals carry a message fit
 * for the client (the gateway maps INVALID_ARGUMENT to 400, RESOURCE_EXHAUSTED to 413/429).
 */
public final class KnowledgeGrpcService extends KnowledgeServiceGrpc.KnowledgeServiceImplBase {

  private static final Logger log = LoggerFactory.getLogger(KnowledgeGrpcService.class);
  static final int MAX_NAME = 200;
  static final int MAX_DESCRIPTION = 2000;
  static final int MAX_QUERY_CHARS = 4000;
  static final int MAX_TOP_K = 20;

  private final KnowledgeStore store;
  private final VectorIndex index;
  private final Embedder embedder;
  private final org.glmmaas.knowledge.embed.BillingHolds holds;
  private final DocumentParser parser;
  private final KnowledgeProperties props;

  public KnowledgeGrpcService(
      KnowledgeStore store, VectorIndex index, Embedder embedder, KnowledgeProperties props) {
    this(store, index, embedder, props, org.glmmaas.knowledge.embed.BillingHolds.NONE);
  }

  /**
   * @param holds asked at upload whether the tenant has any balance left (the embedder itself holds
   *     each call's price)
   */
  public KnowledgeGrpcService(
      KnowledgeStore store,
      VectorIndex index,
      Embedder embedder,
      KnowledgeProperties props,
      org.glmmaas.knowledge.embed.BillingHolds holds) {
    this.holds = holds;
    this.store = store;
    this.index = index;
    this.embedder = embedder;
    this.props = props;
    this.parser = new DocumentParser(props.maxFileSize().toBytes(), props.maxTextChars());
  }

  @Override
  public void createKnowledge(CreateKnowledgeRequest req, StreamObserver<KnowledgeBase> out) {
    answer(
        out,
        () -> {
          tenant(req.getTenantId());
          String name = req.getName().strip();
          if (name.isEmpty() || name.length() > MAX_NAME) {
            throw invalid("name must be 1.." + MAX_NAME + " characters");
          }
          if (req.getDescription().length() > MAX_DESCRIPTION) {
            throw invalid("description must be at most " + MAX_DESCRIPTION + " characters");
          }
          String model =
              req.getEmbeddingModel().isBlank()
                  ? props.defaultEmbeddingModel()
                  : req.getEmbeddingModel().strip();
          return proto(store.createKnowledge(req.getTenantId(), name, req.getDescription(), model));
        });
  }

  @Override
  public void getKnowledge(KnowledgeRef req, StreamObserver<KnowledgeBase> out) {
    answer(out, () -> proto(knowledge(req.getTenantId(), req.getKnowledgeId())));
  }

  @Override
  public void listKnowledge(ListKnowledgeRequest req, StreamObserver<ListKnowledgeResponse> out) {
    answer(
        out,
        () -> {
          tenant(req.getTenantId());
          ListKnowledgeResponse.Builder b = ListKnowledgeResponse.newBuilder();
          store.listKnowledge(req.getTenantId()).forEach(k -> b.addKnowledge(proto(k)));
          return b.build();
        });
  }

  @Override
  public void deleteKnowledge(KnowledgeRef req, StreamObserver<DeleteResponse> out) {
    answer(
        out,
        () -> {
          KnowledgeRow k = knowledge(req.getTenantId(), req.getKnowledgeId());
          store.deleteKnowledge(k.tenantId(), k.id());
          index.deleteKnowledge(k.id());
          return DeleteResponse.newBuilder().setDeleted(true).build();
        });
  }

  @Override
  public void uploadDocument(UploadDocumentRequest req, StreamObserver<Document> out) {
    answer(
        out,
        () -> {
          KnowledgeRow k = knowledge(req.getTenantId(), req.getKnowledgeId());
          String fileName = req.getFileName().strip();
          if (fileName.isEmpty() || fileName.length() > 255) {
            throw invalid("file name must be 1..255 characters");
          }
          byte[] content = req.getContent().toByteArray();
          DocumentParser.Parsed parsed;
          try {
            parsed = parser.parse(fileName, content);
          } catch (BadDocumentException e) {
            throw (e.tooLarge() ? Status.RESOURCE_EXHAUSTED : Status.INVALID_ARGUMENT)
                .withDescription(e.getMessage())
                .asRuntimeException();
          }
          if (!holds.hasBalance(k.tenantId())) {
            // the gateway answers it as chat does: 429, code 1113; nothing is stored
            throw Status.FAILED_PRECONDITION
                .withDescription(
                    "the account balance is used up: top up before adding documents (their"
                        + " embedding is billed)")
                .asRuntimeException();
          }
          try {
            DocumentRow d =
                store.insertDocument(
                    k.tenantId(),
                    k.id(),
                    req.getKeyId(),
                    fileName,
                    parsed.type().name().toLowerCase(java.util.Locale.ROOT),
                    content,
                    parsed.text(),
                    props.tenantQuota().toBytes());
            return proto(d);
          } catch (KnowledgeStore.QuotaExceededException e) {
            throw Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException();
          }
        });
  }

  @Override
  public void listDocuments(KnowledgeRef req, StreamObserver<ListDocumentsResponse> out) {
    answer(
        out,
        () -> {
          KnowledgeRow k = knowledge(req.getTenantId(), req.getKnowledgeId());
          ListDocumentsResponse.Builder b = ListDocumentsResponse.newBuilder();
          store.listDocuments(k.id()).forEach(d -> b.addDocuments(proto(d)));
          return b.build();
        });
  }

  @Override
  public void deleteDocument(DocumentRef req, StreamObserver<DeleteResponse> out) {
    answer(
        out,
        () -> {
          KnowledgeRow k = knowledge(req.getTenantId(), req.getKnowledgeId());
          if (!store.deleteDocument(k.tenantId(), k.id(), req.getDocumentId())) {
            throw Status.NOT_FOUND
                .withDescription("document '" + req.getDocumentId() + "' not found")
                .asRuntimeException();
          }
          index.deleteDocument(k.id(), req.getDocumentId());
          return DeleteResponse.newBuilder().setDeleted(true).build();
        });
  }

  @Override
  public void retrieve(RetrieveRequest req, StreamObserver<RetrieveResponse> out) {
    answer(
        out,
        () -> {
          KnowledgeRow k = knowledge(req.getTenantId(), req.getKnowledgeId());
          String query = req.getQuery().strip();
          if (query.isEmpty()) {
            throw invalid("query must not be empty");
          }
          if (query.length() > MAX_QUERY_CHARS) {
            throw invalid("query must be at most " + MAX_QUERY_CHARS + " characters");
          }
          int topK = req.getTopK() == 0 ? 5 : req.getTopK();
          if (topK < 1 || topK > MAX_TOP_K) {
            throw invalid("top_k must be 1.." + MAX_TOP_K);
          }
          String requestId =
              req.getRequestId().isBlank()
                  ? "kn-q-" + UUID.randomUUID()
                  : req.getRequestId().strip();
          Embedder.Result r;
          try {
            r =
                embedder.embed(
                    k.embeddingModel(),
                    List.of(query),
                    requestId,
                    new Embedder.Caller(k.tenantId(), req.getKeyId(), req.getUserId()));
          } catch (Embedder.RefusedException e) {
            throw invalid(e.getMessage());
          } catch (org.glmmaas.knowledge.embed.HeldEmbedder.InsufficientBalanceException e) {
            // the gateway answers it as chat does: 429, code 1113
            throw Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
          } catch (Embedder.UnavailableException e) {
            throw Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException();
          }
          List<VectorIndex.Hit> hits = index.search(k.id(), r.vectors().getFirst(), topK);
          Map<String, ChunkRow> rows =
              store.chunks(hits.stream().map(VectorIndex.Hit::chunkId).toList());
          List<RetrievedChunk> chunks = new ArrayList<>(hits.size());
          for (VectorIndex.Hit h : hits) {
            ChunkRow row = rows.get(h.chunkId());
            if (row == null) {
              continue; // its document was deleted a moment ago
            }
            chunks.add(
                RetrievedChunk.newBuilder()
                    .setChunkId(row.id())
                    .setDocumentId(row.documentId())
                    .setOrdinal(row.ordinal())
                    .setText(row.text())
                    .setScore(h.score())
                    .setFileName(row.fileName())
                    .build());
          }
          return RetrieveResponse.newBuilder()
              .addAllChunks(chunks)
              .setEmbeddingTokens(r.promptTokens())
              .setEmbeddingModel(k.embeddingModel())
              .build();
        });
  }

  private static void tenant(String tenantId) {
    if (tenantId.isBlank()) {
      throw invalid("tenant_id is required");
    }
  }

  private KnowledgeRow knowledge(String tenantId, String id) {
    tenant(tenantId);
    return store
        .getKnowledge(tenantId, id)
        .orElseThrow(
            () ->
                Status.NOT_FOUND
                    .withDescription("knowledge base '" + id + "' not found")
                    .asRuntimeException());
  }

  private static RuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  private static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
    T result;
    try {
      result = call.get();
    } catch (io.grpc.StatusRuntimeException e) {
      out.onError(e);
      return;
    } catch (RuntimeException e) {
      log.error("knowledge call failed", e);
      out.onError(Status.INTERNAL.withDescription("internal error").asRuntimeException());
      return;
    }
    out.onNext(result);
    out.onCompleted();
  }

  static KnowledgeBase proto(KnowledgeRow k) {
    return KnowledgeBase.newBuilder()
        .setId(k.id())
        .setName(k.name())
        .setDescription(k.description())
        .setEmbeddingModel(k.embeddingModel())
        .setDimensions(k.dimensions())
        .setDocumentCount(k.documentCount())
        .setBytes(k.bytes())
        .setCreatedUnixS(k.createdUnixS())
        .build();
  }

  static Document proto(DocumentRow d) {
    return Document.newBuilder()
        .setId(d.id())
        .setKnowledgeId(d.knowledgeId())
        .setFileName(d.fileName())
        .setBytes(d.bytes())
        .setStatus(d.status())
        .setFailure(d.failure())
        .setChunkCount(d.chunkCount())
        .setChunksIndexed(d.chunksIndexed())
        .setCreatedUnixS(d.createdUnixS())
        .build();
  }
}
