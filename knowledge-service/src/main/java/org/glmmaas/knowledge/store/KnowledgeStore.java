package org.glmmaas.knowledge.store;

import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.glmmaas.knowledge.ingest.Chunker.Chunk;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Knowledge bases, documents, chunks and indexing-job state in PostgreSQL. Every read and delete
 * that a client drives takes the tenant id, so another tenant's ids are simply not found.
 */
@Repository
public class KnowledgeStore {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final JdbcClient jdbc;
  private final JdbcTemplate template;
  private final TransactionTemplate tx;

  public KnowledgeStore(JdbcTemplate template, TransactionTemplate tx) {
    this.template = template;
    this.jdbc = JdbcClient.create(template);
    this.tx = tx;
  }

  public record KnowledgeRow(
      String id,
      String tenantId,
      String name,
      String description,
      String embeddingModel,
      int dimensions,
      int documentCount,
      long bytes,
      long createdUnixS) {}

  public record DocumentRow(
      String id,
      String knowledgeId,
      String fileName,
      long bytes,
      String status,
      String failure,
      int chunkCount,
      int chunksIndexed,
      long createdUnixS) {}

  /** A claimed indexing job. */
  public record Job(
      String documentId,
      String knowledgeId,
      String tenantId,
      String keyId,
      String embeddingModel,
      String text,
      int chunkCount) {}

  public record PendingChunk(String id, int ordinal, String text) {}

  public record ChunkRow(String id, String documentId, int ordinal, String text, String fileName) {}

  /** The tenant's storage quota would be exceeded. */
  public static final class QuotaExceededException extends RuntimeException {
    public QuotaExceededException(String message) {
      super(message, null, false, false);
    }
  }

  static String newId(String prefix) {
    byte[] b = new byte[10];
    RANDOM.nextBytes(b);
    return prefix + HexFormat.of().formatHex(b);
  }

  private static final String KB_SELECT =
      """
      SELECT k.id, k.tenant_id, k.name, k.description, k.embedding_model, k.dimensions,
             k.created_at,
             (SELECT count(*) FROM document d WHERE d.knowledge_id = k.id) AS docs,
             (SELECT coalesce(sum(d.bytes), 0) FROM document d WHERE d.knowledge_id = k.id) AS bytes
      FROM knowledge_base k
      """;

  private static KnowledgeRow kb(ResultSet rs, int n) throws SQLException {
    return new KnowledgeRow(
        rs.getString("id"),
        rs.getString("tenant_id"),
        rs.getString("name"),
        rs.getString("description"),
        rs.getString("embedding_model"),
        rs.getInt("dimensions"),
        rs.getInt("docs"),
        rs.getLong("bytes"),
        rs.getTimestamp("created_at").toInstant().getEpochSecond());
  }

  public KnowledgeRow createKnowledge(
      String tenantId, String name, String description, String model) {
    String id = newId("kb_");
    jdbc.sql(
            "INSERT INTO knowledge_base (id, tenant_id, name, description, embedding_model)"
                + " VALUES (?, ?, ?, ?, ?)")
        .params(id, tenantId, name, description, model)
        .update();
    return getKnowledge(tenantId, id).orElseThrow();
  }

  public Optional<KnowledgeRow> getKnowledge(String tenantId, String id) {
    return jdbc.sql(KB_SELECT + " WHERE k.id = ? AND k.tenant_id = ?")
        .params(id, tenantId)
        .query(KnowledgeStore::kb)
        .optional();
  }

  public List<KnowledgeRow> listKnowledge(String tenantId) {
    return jdbc.sql(KB_SELECT + " WHERE k.tenant_id = ? ORDER BY k.created_at, k.id")
        .param(tenantId)
        .query(KnowledgeStore::kb)
        .list();
  }

  /** Deletes the knowledge base with its documents (and their bytes) and chunks. */
  public boolean deleteKnowledge(String tenantId, String id) {
    return jdbc.sql("DELETE FROM knowledge_base WHERE id = ? AND tenant_id = ?")
            .params(id, tenantId)
            .update()
        > 0;
  }

  public void setDimensions(String knowledgeId, int dimensions) {
    jdbc.sql("UPDATE knowledge_base SET dimensions = ? WHERE id = ? AND dimensions = 0")
        .params(dimensions, knowledgeId)
        .update();
  }

  /**
   * Stores a document as a pending job, refusing it when the tenant's documents would pass {@code
   * quotaBytes} (checked under a per-tenant lock, so concurrent uploads cannot both slip under).
   */
  public DocumentRow insertDocument(
      String tenantId,
      String knowledgeId,
      String keyId,
      String fileName,
      String fileType,
      byte[] content,
      String text,
      long quotaBytes) {
    String id = newId("doc_");
    tx.executeWithoutResult(
        s -> {
          jdbc.sql("SELECT pg_advisory_xact_lock(hashtext(?))").param(tenantId).query().rowSet();
          long used =
              jdbc.sql("SELECT coalesce(sum(bytes), 0) FROM document WHERE tenant_id = ?")
                  .param(tenantId)
                  .query(Long.class)
                  .single();
          if (used + content.length > quotaBytes) {
            throw new QuotaExceededException(
                "storage quota exceeded: the tenant holds "
                    + used
                    + " bytes of documents, this file is "
                    + content.length
                    + ", the quota is "
                    + quotaBytes);
          }
          jdbc.sql(
                  "INSERT INTO document (id, knowledge_id, tenant_id, key_id, file_name, file_type,"
                      + " bytes, content, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
              .params(
                  id,
                  knowledgeId,
                  tenantId,
                  keyId,
                  fileName,
                  fileType,
                  content.length,
                  content,
                  text)
              .update();
        });
    return listDocuments(knowledgeId).stream()
        .filter(d -> d.id().equals(id))
        .findFirst()
        .orElseThrow();
  }

  public long usedBytes(String tenantId) {
    return jdbc.sql("SELECT coalesce(sum(bytes), 0) FROM document WHERE tenant_id = ?")
        .param(tenantId)
        .query(Long.class)
        .single();
  }

  public List<DocumentRow> listDocuments(String knowledgeId) {
    return jdbc.sql(
            """
            SELECT d.id, d.knowledge_id, d.file_name, d.bytes, d.status, d.failure, d.chunk_count,
                   d.created_at,
                   (SELECT count(*) FROM chunk c WHERE c.document_id = d.id AND c.indexed) AS done
            FROM document d WHERE d.knowledge_id = ? ORDER BY d.created_at, d.id
            """)
        .param(knowledgeId)
        .query(
            (rs, n) ->
                new DocumentRow(
                    rs.getString("id"),
                    rs.getString("knowledge_id"),
                    rs.getString("file_name"),
                    rs.getLong("bytes"),
                    rs.getString("status"),
                    rs.getString("failure"),
                    rs.getInt("chunk_count"),
                    rs.getInt("done"),
                    rs.getTimestamp("created_at").toInstant().getEpochSecond()))
        .list();
  }

  public boolean deleteDocument(String tenantId, String knowledgeId, String documentId) {
    return jdbc.sql("DELETE FROM document WHERE id = ? AND knowledge_id = ? AND tenant_id = ?")
            .params(documentId, knowledgeId, tenantId)
            .update()
        > 0;
  }

  /** A restarted instance takes back at once the jobs it held under its own name. */
  public int releaseLeases(String nodeId) {
    return jdbc.sql(
            "UPDATE document SET lease_until = now() - interval '1 second'"
                + " WHERE status = 'indexing' AND lease_owner = ?")
        .param(nodeId)
        .update();
  }

  /**
   * Claims the oldest pending job, or an indexing one whose lease ran out (its instance died), for
   * {@code lease}; another instance skips rows being claimed.
   */
  public Optional<Job> claim(String nodeId, Duration lease) {
    return jdbc.sql(
            """
            UPDATE document d SET status = 'indexing', lease_owner = ?,
                   lease_until = now() + make_interval(secs => ?)
            FROM knowledge_base k
            WHERE k.id = d.knowledge_id AND d.id = (
              SELECT id FROM document
              WHERE status = 'pending' OR (status = 'indexing' AND lease_until < now())
              ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING d.id, d.knowledge_id, d.tenant_id, d.key_id, k.embedding_model, d.text,
                      d.chunk_count
            """)
        .params(nodeId, lease.toMillis() / 1000.0)
        .query(
            (rs, n) ->
                new Job(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    rs.getString(5),
                    rs.getString(6),
                    rs.getInt(7)))
        .optional();
  }

  /** Extends a held lease; false when the job is no longer this instance's (or was deleted). */
  public boolean renew(String documentId, String nodeId, Duration lease) {
    return jdbc.sql(
                "UPDATE document SET lease_until = now() + make_interval(secs => ?)"
                    + " WHERE id = ? AND lease_owner = ? AND status = 'indexing'")
            .params(lease.toMillis() / 1000.0, documentId, nodeId)
            .update()
        > 0;
  }

  /**
   * Writes a document's chunks once: ids are deterministic from (document, ordinal) and an existing
   * row is kept, so a job that crashed after chunking re-runs this harmlessly.
   */
  public void insertChunks(String documentId, String knowledgeId, List<Chunk> chunks) {
    tx.executeWithoutResult(
        s -> {
          List<Object[]> rows = new ArrayList<>(chunks.size());
          for (int i = 0; i < chunks.size(); i++) {
            Chunk c = chunks.get(i);
            rows.add(
                new Object[] {
                  chunkId(documentId, i), documentId, knowledgeId, i, c.text(), c.tokens()
                });
          }
          template.batchUpdate(
              "INSERT INTO chunk (id, document_id, knowledge_id, ordinal, text, tokens)"
                  + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
              rows);
          jdbc.sql("UPDATE document SET chunk_count = ? WHERE id = ?")
              .params(chunks.size(), documentId)
              .update();
        });
  }

  public static String chunkId(String documentId, int ordinal) {
    return documentId + "-" + ordinal;
  }

  public List<PendingChunk> pendingChunks(String documentId, int limit) {
    return jdbc.sql(
            "SELECT id, ordinal, text FROM chunk WHERE document_id = ? AND NOT indexed"
                + " ORDER BY ordinal LIMIT ?")
        .params(documentId, limit)
        .query((rs, n) -> new PendingChunk(rs.getString(1), rs.getInt(2), rs.getString(3)))
        .list();
  }

  public void markIndexed(List<String> chunkIds) {
    jdbc.sql("UPDATE chunk SET indexed = true WHERE id = ANY (?)")
        .param(chunkIds.toArray(String[]::new))
        .update();
  }

  public void finish(String documentId) {
    jdbc.sql(
            "UPDATE document SET status = 'indexed', lease_owner = NULL, lease_until = NULL"
                + " WHERE id = ?")
        .param(documentId)
        .update();
  }

  public void fail(String documentId, String reason) {
    jdbc.sql(
            "UPDATE document SET status = 'failed', failure = ?, lease_owner = NULL,"
                + " lease_until = NULL WHERE id = ?")
        .params(reason, documentId)
        .update();
  }

  /** Hands a job back to be retried later (workers unreachable). */
  public void postpone(String documentId, Duration delay) {
    jdbc.sql(
            "UPDATE document SET lease_until = now() + make_interval(secs => ?), lease_owner = NULL"
                + " WHERE id = ? AND status = 'indexing'")
        .params(delay.toMillis() / 1000.0, documentId)
        .update();
  }

  public boolean documentExists(String documentId) {
    return jdbc.sql("SELECT count(*) FROM document WHERE id = ?")
            .param(documentId)
            .query(Integer.class)
            .single()
        > 0;
  }

  public boolean knowledgeExists(String knowledgeId) {
    return jdbc.sql("SELECT count(*) FROM knowledge_base WHERE id = ?")
            .param(knowledgeId)
            .query(Integer.class)
            .single()
        > 0;
  }

  public Map<String, ChunkRow> chunks(List<String> ids) {
    if (ids.isEmpty()) {
      return Map.of();
    }
    return jdbc
        .sql(
            "SELECT c.id, c.document_id, c.ordinal, c.text, d.file_name FROM chunk c"
                + " JOIN document d ON d.id = c.document_id WHERE c.id = ANY (?)")
        .param(ids.toArray(String[]::new))
        .query(
            (rs, n) ->
                new ChunkRow(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getInt(3),
                    rs.getString(4),
                    rs.getString(5)))
        .list()
        .stream()
        .collect(Collectors.toMap(ChunkRow::id, Function.identity()));
  }

  /** Chunk rows per id of a knowledge base (checks and tests: 1 for every id). */
  public Map<String, Integer> chunkIdCounts(String knowledgeId, boolean indexedOnly) {
    return jdbc
        .sql(
            "SELECT id, count(*) FROM chunk WHERE knowledge_id = ?"
                + (indexedOnly ? " AND indexed" : "")
                + " GROUP BY id")
        .param(knowledgeId)
        .query((rs, n) -> Map.entry(rs.getString(1), rs.getInt(2)))
        .list()
        .stream()
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }
}
