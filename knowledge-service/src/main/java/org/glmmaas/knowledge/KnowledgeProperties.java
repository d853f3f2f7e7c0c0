package org.glmmaas.knowledge;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Settings under {@code glm.knowledge.*} (docs/knowledge.md lists them).
 *
 * @param indexDir where the Lucene indexes live, one folder per knowledge base
 * @param nodeId this instance's name in indexing leases; a restarted instance takes back the jobs
 *     leased under its own name at once (default: the host name)
 * @param embedTargets host:port of the inference workers to embed with (the Embed RPC); the one
 *     serving a knowledge base's model is found by ListModels
 * @param defaultEmbeddingModel the model of a knowledge base created without one
 * @param maxFileSize largest document accepted
 * @param maxTextChars most characters a document's text may extract to (a PDF or DOCX that inflates
 *     beyond it is refused: zip-bomb-like input)
 * @param tenantQuota stored document bytes one tenant may hold over all its knowledge bases
 * @param chunkTokens target chunk size in (approximate) tokens
 * @param chunkOverlap tokens of the previous chunk repeated at the start of the next one when a
 *     paragraph is split
 * @param embedBatch chunks per Embed call while indexing
 * @param lease how long an indexing job is held by one instance without progress before another may
 *     take it
 * @param poll how often idle indexers look for work
 * @param grpc the KnowledgeService gRPC server, {@code glm.knowledge.grpc.*} (port 9085)
 * @param billing where embedding calls are held on the tenant's balance, {@code
 *     glm.knowledge.billing.*}
 * @param hnsw the vector index's graph and search settings, {@code glm.knowledge.hnsw.*}
 */
@ConfigurationProperties("glm.knowledge")
public record KnowledgeProperties(
    @DefaultValue("${java.io.tmpdir}/glm-knowledge-index") Path indexDir,
    @DefaultValue("") String nodeId,
    @DefaultValue("127.0.0.1:9084") List<String> embedTargets,
    @DefaultValue("glm-embed-demo") String defaultEmbeddingModel,
    @DefaultValue("20MB") DataSize maxFileSize,
    @DefaultValue("5000000") int maxTextChars,
    @DefaultValue("200MB") DataSize tenantQuota,
    @DefaultValue("256") int chunkTokens,
    @DefaultValue("32") int chunkOverlap,
    @DefaultValue("16") int embedBatch,
    @DefaultValue("30s") Duration lease,
    @DefaultValue("500ms") Duration poll,
    @DefaultValue GrpcServerProperties grpc,
    @DefaultValue Billing billing,
    @DefaultValue Hnsw hnsw) {

  /**
   * Lucene HNSW settings (docs/knowledge.md has the recall and latency measured for them).
   *
   * @param maxConn neighbours per graph node (M)
   * @param beamWidth candidates while building the graph
   * @param candidates neighbours searched for before the top k are cut (recall vs latency)
   * @param exactLimit a knowledge base of at most this many chunks is searched exactly (recall 1.0)
   */
  public record Hnsw(
      @DefaultValue("16") int maxConn,
      @DefaultValue("100") int beamWidth,
      @DefaultValue("256") int candidates,
      @DefaultValue("100000") int exactLimit) {
    public org.glmmaas.knowledge.index.LuceneVectorIndex.Hnsw index() {
      return new org.glmmaas.knowledge.index.LuceneVectorIndex.Hnsw(
          maxConn, beamWidth, candidates, exactLimit);
    }
  }

  /**
   * @param address billing-service's gRPC host:port; empty means no holds (a standalone service:
   *     the worker still bills the usage, but a tenant without balance is not refused)
   * @param timeout deadline of one Reserve/Release call
   */
  public record Billing(@DefaultValue("") String address, @DefaultValue("5s") Duration timeout) {}

  public static final int DEFAULT_GRPC_PORT = 9085;

  public KnowledgeProperties {
    grpc = grpc.withDefaultPort(DEFAULT_GRPC_PORT);
    if (nodeId == null || nodeId.isBlank()) {
      String host = System.getenv("HOSTNAME");
      nodeId = host == null || host.isBlank() ? "knowledge-0" : host;
    }
    if (chunkTokens < 16 || chunkTokens > 480) {
      throw new IllegalArgumentException("glm.knowledge.chunk-tokens must be 16..480");
    }
    if (chunkOverlap < 0 || chunkOverlap >= chunkTokens / 2) {
      throw new IllegalArgumentException(
          "glm.knowledge.chunk-overlap must be 0..chunk-tokens/2 - 1");
    }
    if (embedBatch < 1 || embedBatch > 256) {
      throw new IllegalArgumentException("glm.knowledge.embed-batch must be 1..256");
    }
  }
}
