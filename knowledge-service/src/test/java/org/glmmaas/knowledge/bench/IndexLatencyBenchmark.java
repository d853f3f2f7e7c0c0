package org.glmmaas.knowledge.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.glmmaas.knowledge.index.LuceneVectorIndex;
import org.glmmaas.knowledge.index.VectorIndex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Search latency and recall of the Lucene index at 100,000 chunks of 384 dimensions (bge-small's
 * width): random unit vectors (the hardest case for HNSW: no clusters), upserted in batches of
 * 5,000 (each committed, as the indexer does), then 2,000 top-10 searches after 200 warm-up ones;
 * recall@10 against exact search on 200 of them. Not a unit test: run with
 *
 * <pre>
 * ./mvnw -B -o -pl knowledge-service -am test -Dtest=IndexLatencyBenchmark \
 *   -Dknowledge.bench=true -Dknowledge.bench.n=100000 -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * <p>Settings default to the service's (glm.knowledge.hnsw.*); sweep them with comma lists: {@code
 * -Dknowledge.bench.max-conn=16,32 -Dknowledge.bench.beam-width=100,200
 * -Dknowledge.bench.candidates=100,256,512 -Dknowledge.bench.exact-limit=0,100000} (one index per
 * maxConn x beamWidth, every candidates x exact-limit searched on it; exact-limit 0 = always the
 * HNSW graph, n or more = exact search). One line per setting, starting with {@code BENCH knowledge
 * index}.
 */
@EnabledIfSystemProperty(named = "knowledge.bench", matches = "true")
class IndexLatencyBenchmark {

  static final int N = Integer.getInteger("knowledge.bench.n", 100_000);
  static final int DIM = 384;

  /** The service's defaults (KnowledgeProperties.Hnsw, glm.knowledge.hnsw.*). */
  static final LuceneVectorIndex.Hnsw DEFAULTS = LuceneVectorIndex.Hnsw.DEFAULT;

  static List<Integer> ints(String property, int fallback) {
    String v = System.getProperty(property, "");
    if (v.isBlank()) {
      return List.of(fallback);
    }
    return Arrays.stream(v.split(",")).map(String::strip).map(Integer::valueOf).toList();
  }

  @Test
  void searchLatencyAndRecallAt100kChunks() throws Exception {
    Random r = new Random(42);
    float[][] vectors = new float[N][];
    for (int i = 0; i < N; i++) {
      vectors[i] = unit(r);
    }
    int queries = 2000;
    float[][] qs = new float[queries][];
    for (int q = 0; q < queries; q++) {
      qs[q] = unit(r);
    }
    float[][] warm = new float[200][];
    for (int q = 0; q < warm.length; q++) {
      warm[q] = unit(r);
    }
    int recallQueries = 200;
    List<Set<String>> exact = new ArrayList<>();
    for (int q = 0; q < recallQueries; q++) {
      exact.add(exactTop10(vectors, qs[q]));
    }
    System.out.printf(
        "BENCH knowledge index: vector module %s%n",
        ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            ? "jdk.incubator.vector (SIMD)"
            : "absent (scalar)");
    for (int maxConn : ints("knowledge.bench.max-conn", DEFAULTS.maxConn())) {
      for (int beamWidth : ints("knowledge.bench.beam-width", DEFAULTS.beamWidth())) {
        Path dir = Files.createTempDirectory("kn-bench");
        LuceneVectorIndex.Hnsw build = new LuceneVectorIndex.Hnsw(maxConn, beamWidth, 10, 0);
        long t0 = System.nanoTime();
        try (LuceneVectorIndex index = new LuceneVectorIndex(dir, build)) {
          for (int from = 0; from < N; from += 5000) {
            List<VectorIndex.Entry> batch = new ArrayList<>();
            for (int i = from; i < Math.min(N, from + 5000); i++) {
              batch.add(new VectorIndex.Entry("d-" + i, "d", vectors[i]));
            }
            index.upsert("kb", batch);
          }
        }
        double buildS = (System.nanoTime() - t0) / 1e9;
        for (int candidates : ints("knowledge.bench.candidates", DEFAULTS.candidates())) {
          for (int exactLimit : ints("knowledge.bench.exact-limit", DEFAULTS.exactLimit())) {
            try (LuceneVectorIndex index =
                new LuceneVectorIndex(
                    dir, new LuceneVectorIndex.Hnsw(maxConn, beamWidth, candidates, exactLimit))) {
              for (float[] w : warm) {
                index.search("kb", w, 10);
              }
              long[] ns = new long[queries];
              for (int q = 0; q < queries; q++) {
                long s = System.nanoTime();
                index.search("kb", qs[q], 10);
                ns[q] = System.nanoTime() - s;
              }
              Arrays.sort(ns);
              int hit = 0;
              for (int q = 0; q < recallQueries; q++) {
                for (VectorIndex.Hit h : index.search("kb", qs[q], 10)) {
                  if (exact.get(q).contains(h.chunkId())) {
                    hit++;
                  }
                }
              }
              System.out.printf(
                  "BENCH knowledge index: n=%d dim=%d maxConn=%d beamWidth=%d candidates=%d %s"
                      + " build=%.1fs search p50=%.2fms p99=%.2fms max=%.2fms recall@10=%.3f%n",
                  N,
                  DIM,
                  maxConn,
                  beamWidth,
                  candidates,
                  N <= exactLimit ? "exact" : "hnsw",
                  buildS,
                  ns[queries / 2] / 1e6,
                  ns[(int) (queries * 0.99)] / 1e6,
                  ns[queries - 1] / 1e6,
                  hit / (double) (recallQueries * 10));
            }
          }
        }
      }
    }
  }

  static Set<String> exactTop10(float[][] vectors, float[] q) {
    int[] best = new int[10];
    double[] score = new double[10];
    Arrays.fill(score, Double.NEGATIVE_INFINITY);
    for (int i = 0; i < vectors.length; i++) {
      double s = 0;
      float[] v = vectors[i];
      for (int j = 0; j < v.length; j++) {
        s += v[j] * q[j];
      }
      if (s > score[9]) {
        int k = 9;
        while (k > 0 && score[k - 1] < s) {
          score[k] = score[k - 1];
          best[k] = best[k - 1];
          k--;
        }
        score[k] = s;
        best[k] = i;
      }
    }
    Set<String> out = new HashSet<>();
    for (int b : best) {
      out.add("d-" + b);
    }
    return out;
  }

  static float[] unit(Random r) {
    float[] v = new float[DIM];
    double n = 0;
    for (int i = 0; i < DIM; i++) {
      v[i] = (float) r.nextGaussian();
      n += v[i] * v[i];
    }
    float inv = (float) (1 / Math.sqrt(n));
    for (int i = 0; i < DIM; i++) {
      v[i] *= inv;
    }
    return v;
  }
}
