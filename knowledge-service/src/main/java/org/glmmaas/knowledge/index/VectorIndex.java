package org.glmmaas.knowledge.index;

import java.util.List;
import java.util.Map;

/**
 * Where chunk vectors live, keyed by chunk id, one namespace per knowledge base. Every write is
 * durable when the call returns and an upsert of an id already present replaces it, so a job that
 * re-runs a batch after a crash leaves each chunk in the index once.
 *
 * <p>{@link LuceneVectorIndex} (HNSW on local disk) is the single-node implementation;
 * docs/knowledge.md describes the pgvector/OpenSearch one for more than one node.
 */
public interface VectorIndex extends AutoCloseable {

  /** One chunk's vector (unit length) with the ids it is found and deleted by. */
  record Entry(String chunkId, String documentId, float[] vector) {}

  /** A search result: score is (1 + cosine) / 2, in 0..1, higher is nearer. */
  record Hit(String chunkId, String documentId, float score) {}

  void upsert(String knowledgeId, List<Entry> entries);

  void deleteDocument(String knowledgeId, String documentId);

  /** Drops the whole knowledge base's vectors and storage. */
  void deleteKnowledge(String knowledgeId);

  /** The k nearest chunks, nearest first. */
  List<Hit> search(String knowledgeId, float[] query, int k);

  /** How many times each chunk id is present (for checks and tests; 1 for every id when sound). */
  Map<String, Integer> chunkIdCounts(String knowledgeId);

  @Override
  void close();
}
