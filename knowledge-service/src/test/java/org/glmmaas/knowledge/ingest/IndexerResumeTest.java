package org.glmmaas.knowledge.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.glmmaas.knowledge.index.LuceneVectorIndex;
import org.glmmaas.knowledge.index.VectorIndex;
import org.glmmaas.knowledge.store.KnowledgeStore;
import org.glmmaas.knowledge.support.FakeEmbedder;
import org.glmmaas.platform.test.TestPostgres;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A job interrupted at the worst moments (mid-embedding; after the vectors were committed to the
 * index but before PostgreSQL marked them) resumes on the next claim and leaves every chunk in the
 * index exactly once, counted by chunk id in Lucene and in PostgreSQL.
 */
class IndexerResumeTest {

  @TempDir Path dir;
  KnowledgeStore store;

  @BeforeEach
  void db() {
    String url = TestPostgres.newDatabase("knowledge_resume_test");
    DataSource ds = new DriverManagerDataSource(url, "postgres", "");
    Flyway.configure().dataSource(ds).load().migrate();
    store =
        new KnowledgeStore(
            new JdbcTemplate(ds), new TransactionTemplate(new DataSourceTransactionManager(ds)));
  }

  @Test
  void aJobCrashedBetweenIndexCommitAndDatabaseMarkResumesWithEachChunkOnce() {
    String kb = store.createKnowledge("t", "kb", "", "m").id();
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 50; i++) {
      text.append("Sentence ").append(i).append(" stands alone.\n\n");
    }
    store.insertDocument(
        "t", kb, "k", "doc.md", "markdown", text.toString().getBytes(), text.toString(), 1 << 20);

    FakeEmbedder embedder = new FakeEmbedder();
    Chunker chunker = new Chunker(256, 32);
    try (LuceneVectorIndex lucene = new LuceneVectorIndex(dir)) {
      // 1st run: dies after the 3rd batch's vectors are committed, before they are marked
      VectorIndex crashing = new CrashAfterUpsert(lucene, 3);
      Indexer first =
          new Indexer(store, crashing, embedder, chunker, "node-a", Duration.ofMinutes(5), 5);
      assertThatThrownBy(first::runOne).hasMessageContaining("crash after upsert");
      assertThat(lucene.chunkIdCounts(kb)).hasSize(15);
      assertThat(store.chunkIdCounts(kb, true)).hasSize(10);

      // 2nd run, same node restarted: dies inside an embedding call
      store.releaseLeases("node-a");
      embedder.crashAtCall = embedder.calls.get() + 2;
      Indexer second =
          new Indexer(store, lucene, embedder, chunker, "node-a", Duration.ofMinutes(5), 5);
      assertThatThrownBy(second::runOne).hasMessageContaining("simulated crash");

      // another node may not take it while the lease runs
      Indexer other =
          new Indexer(store, lucene, embedder, chunker, "node-b", Duration.ofMinutes(5), 5);
      assertThat(other.runOne()).isFalse();

      // 3rd run after restart completes the job
      store.releaseLeases("node-a");
      Indexer third =
          new Indexer(store, lucene, embedder, chunker, "node-a", Duration.ofMinutes(5), 5);
      assertThat(third.runOne()).isTrue();
      assertThat(third.runOne()).isFalse();

      Map<String, Integer> inLucene = lucene.chunkIdCounts(kb);
      assertThat(inLucene).hasSize(50).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
      assertThat(store.chunkIdCounts(kb, false)).isEqualTo(inLucene);
      assertThat(store.chunkIdCounts(kb, true)).isEqualTo(inLucene);
      assertThat(store.listDocuments(kb).getFirst().status()).isEqualTo("indexed");
      // the re-embedded batch reused its usage id: billed once
      assertThat(embedder.requestIds)
          .contains("kn-" + store.listDocuments(kb).getFirst().id() + "-10");
      assertThat(embedder.requestIds.stream().distinct().count()).isEqualTo(10);
    }
  }

  /** Passes writes through, then throws right after the n-th upsert was committed. */
  record CrashAfterUpsert(VectorIndex delegate, int n, int[] count) implements VectorIndex {
    CrashAfterUpsert(VectorIndex delegate, int n) {
      this(delegate, n, new int[1]);
    }

    @Override
    public void upsert(String knowledgeId, List<Entry> entries) {
      delegate.upsert(knowledgeId, entries);
      if (++count[0] == n) {
        throw new IllegalStateException("crash after upsert " + n);
      }
    }

    @Override
    public void deleteDocument(String knowledgeId, String documentId) {
      delegate.deleteDocument(knowledgeId, documentId);
    }

    @Override
    public void deleteKnowledge(String knowledgeId) {
      delegate.deleteKnowledge(knowledgeId);
    }

    @Override
    public List<Hit> search(String knowledgeId, float[] query, int k) {
      return delegate.search(knowledgeId, query, k);
    }

    @Override
    public Map<String, Integer> chunkIdCounts(String knowledgeId) {
      return delegate.chunkIdCounts(knowledgeId);
    }

    @Override
    public void close() {}
  }
}
