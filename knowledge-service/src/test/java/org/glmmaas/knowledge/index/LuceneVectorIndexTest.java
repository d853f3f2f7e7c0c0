package org.glmmaas.knowledge.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.glmmaas.knowledge.support.FakeEmbedder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LuceneVectorIndexTest {

  @TempDir Path dir;

  @Test
  void upsertByIdKeepsEachChunkOnceAcrossReopen() {
    try (LuceneVectorIndex index = new LuceneVectorIndex(dir)) {
      index.upsert("kb1", entries("d1", 0, 10));
      index.upsert("kb1", entries("d1", 5, 15)); // re-run of an overlapping batch
    }
    try (LuceneVectorIndex index = new LuceneVectorIndex(dir)) {
      index.upsert("kb1", entries("d1", 14, 20));
      assertThat(index.chunkIdCounts("kb1"))
          .hasSize(20)
          .allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
      List<VectorIndex.Hit> hits = index.search("kb1", FakeEmbedder.vector("text 7"), 3);
      assertThat(hits.getFirst().chunkId()).isEqualTo("d1-7");
      assertThat(hits.getFirst().score()).isGreaterThan(0.999f);
      index.deleteDocument("kb1", "d1");
      assertThat(index.chunkIdCounts("kb1")).isEmpty();
      index.upsert("kb2", entries("d2", 0, 3));
      index.deleteKnowledge("kb2");
      assertThat(Files.exists(dir.resolve("kb2"))).isFalse();
      assertThat(index.search("kb2", FakeEmbedder.vector("text 1"), 3)).isEmpty();
    }
  }

  /** The HNSW graph (exact search switched off) keeps recall@10 >= 0.95 at 5,000 vectors. */
  @Test
  void recallAtTenAgainstExactSearch() {
    assertThat(recall(new LuceneVectorIndex.Hnsw(16, 100, 256, 0))).isGreaterThanOrEqualTo(0.95);
  }

  /**
   * Under the exact limit (the default covers 100,000 chunks) a search is exact: the same top 10 as
   * a brute-force scan, in order, and a deleted document's chunks never come back.
   */
  @Test
  void underTheExactLimitSearchIsExactAndSkipsDeletedChunks() {
    assertThat(recall(LuceneVectorIndex.Hnsw.DEFAULT)).isEqualTo(1.0);
    try (LuceneVectorIndex index = new LuceneVectorIndex(dir)) {
      index.upsert("kx", entries("keep", 0, 50));
      index.upsert("kx", entries("gone", 50, 100));
      index.deleteDocument("kx", "gone");
      float[] q = FakeEmbedder.vector("text 70"); // a deleted chunk's own text
      List<VectorIndex.Hit> hits = index.search("kx", q, 10);
      assertThat(hits).hasSize(10).allSatisfy(h -> assertThat(h.documentId()).isEqualTo("keep"));
      List<String> expected =
          entries("keep", 0, 50).stream()
              .sorted(Comparator.comparingDouble((VectorIndex.Entry e) -> -dot(e.vector(), q)))
              .limit(10)
              .map(VectorIndex.Entry::chunkId)
              .toList();
      assertThat(hits).extracting(VectorIndex.Hit::chunkId).containsExactlyElementsOf(expected);
      assertThat(hits.getFirst().score()).isGreaterThanOrEqualTo(hits.getLast().score());
    }
  }

  double recall(LuceneVectorIndex.Hnsw settings) {
    int n = 5000;
    try (LuceneVectorIndex index = new LuceneVectorIndex(dir, settings)) {
      List<VectorIndex.Entry> all = entries("d", 0, n);
      for (int i = 0; i < n; i += 500) {
        index.upsert("kb", all.subList(i, Math.min(n, i + 500)));
      }
      int found = 0;
      int queries = 50;
      for (int q = 0; q < queries; q++) {
        float[] query = FakeEmbedder.vector("query " + q);
        Set<String> exact = new HashSet<>();
        all.stream()
            .sorted(Comparator.comparingDouble((VectorIndex.Entry e) -> -dot(e.vector(), query)))
            .limit(10)
            .forEach(e -> exact.add(e.chunkId()));
        for (VectorIndex.Hit h : index.search("kb", query, 10)) {
          if (exact.contains(h.chunkId())) {
            found++;
          }
        }
      }
      index.deleteKnowledge("kb");
      return found / (double) (queries * 10);
    }
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static List<VectorIndex.Entry> entries(String doc, int from, int to) {
    List<VectorIndex.Entry> out = new ArrayList<>();
    IntStream.range(from, to)
        .forEach(
            i ->
                out.add(
                    new VectorIndex.Entry(doc + "-" + i, doc, FakeEmbedder.vector("text " + i))));
    return out;
  }
}
