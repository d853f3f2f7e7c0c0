package org.glmmaas.knowledge.ingest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.glmmaas.knowledge.embed.Embedder;
import org.glmmaas.knowledge.index.VectorIndex;
import org.glmmaas.knowledge.store.KnowledgeStore;
import org.glmmaas.knowledge.store.KnowledgeStore.Job;
import org.glmmaas.knowledge.store.KnowledgeStore.PendingChunk;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs indexing jobs: claims a document (a lease in PostgreSQL), writes its chunks once, then in
 * batches embeds the chunks not yet indexed, upserts their vectors by chunk id (committed) and only
 * then marks them indexed. A crash anywhere loses at most the batch in flight: the next claim
 * (after the lease, or at once by the same node after a restart) re-embeds it under the same usage
 * request id (billed once) and the upsert by id replaces rather than adds, so every chunk ends in
 * the index exactly once.
 */
public final class Indexer {

  private static final Logger log = LoggerFactory.getLogger(Indexer.class);

  private final KnowledgeStore store;
  private final VectorIndex index;
  private final Embedder embedder;
  private final Chunker chunker;
  private final String nodeId;
  private final Duration lease;
  private final int batch;

  public Indexer(
      KnowledgeStore store,
      VectorIndex index,
      Embedder embedder,
      Chunker chunker,
      String nodeId,
      Duration lease,
      int batch) {
    this.store = store;
    this.index = index;
    this.embedder = embedder;
    this.chunker = chunker;
    this.nodeId = nodeId;
    this.lease = lease;
    this.batch = batch;
  }

  /** Claims and runs one job; false when there was none. */
  public boolean runOne() {
    Optional<Job> claimed = store.claim(nodeId, lease);
    if (claimed.isEmpty()) {
      return false;
    }
    Job job = claimed.get();
    try {
      run(job);
    } catch (Embedder.RefusedException e) {
      log.warn("indexing {} failed: {}", job.documentId(), e.getMessage());
      store.fail(job.documentId(), e.getMessage());
    } catch (org.glmmaas.knowledge.embed.HeldEmbedder.InsufficientBalanceException e) {
      // nothing more is embedded or billed; the chunks indexed so far stay until deleted
      log.info("indexing {} stopped: insufficient balance", job.documentId());
      store.fail(job.documentId(), e.getMessage() + ", then upload the document again");
    } catch (Embedder.UnavailableException e) {
      log.info("indexing {} postponed: {}", job.documentId(), e.getMessage());
      store.postpone(job.documentId(), Duration.ofSeconds(5));
    }
    return true;
  }

  private void run(Job job) {
    if (job.chunkCount() == 0) {
      List<Chunker.Chunk> chunks = chunker.chunk(job.text());
      store.insertChunks(job.documentId(), job.knowledgeId(), chunks);
    }
    Embedder.Caller caller = new Embedder.Caller(job.tenantId(), job.keyId(), "");
    while (true) {
      List<PendingChunk> pending = store.pendingChunks(job.documentId(), batch);
      if (pending.isEmpty()) {
        break;
      }
      List<String> texts = pending.stream().map(PendingChunk::text).toList();
      // one id per (document, first ordinal): a re-run of this batch is the same usage event
      String requestId = "kn-" + job.documentId() + "-" + pending.getFirst().ordinal();
      Embedder.Result r = embedder.embed(job.embeddingModel(), texts, requestId, caller);
      if (r.vectors().size() != pending.size()) {
        throw new Embedder.RefusedException(
            "embedding returned " + r.vectors().size() + " vectors for " + pending.size());
      }
      List<VectorIndex.Entry> entries = new ArrayList<>(pending.size());
      for (int i = 0; i < pending.size(); i++) {
        entries.add(
            new VectorIndex.Entry(pending.get(i).id(), job.documentId(), r.vectors().get(i)));
      }
      store.setDimensions(job.knowledgeId(), r.vectors().getFirst().length);
      index.upsert(job.knowledgeId(), entries);
      store.markIndexed(entries.stream().map(VectorIndex.Entry::chunkId).toList());
      if (!store.renew(job.documentId(), nodeId, lease)) {
        if (!store.knowledgeExists(job.knowledgeId())) {
          // the knowledge base was deleted while this job ran: drop the index it re-created
          index.deleteKnowledge(job.knowledgeId());
        } else if (!store.documentExists(job.documentId())) {
          // the document was deleted while being indexed: drop what this job wrote
          index.deleteDocument(job.knowledgeId(), job.documentId());
        }
        return;
      }
    }
    store.finish(job.documentId());
    log.info("indexed document {} of {}", job.documentId(), job.knowledgeId());
  }
}
