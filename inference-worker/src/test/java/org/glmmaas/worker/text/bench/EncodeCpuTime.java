package org.glmmaas.worker.text.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import org.glmmaas.worker.text.BpeTokenizer;
import org.glmmaas.worker.text.SyntheticVocab;

/**
 * Encoding throughput per CPU-second of the encoding thread (MB/s per core), for a shared machine
 * where wall-clock JMH figures mostly measure the neighbours: {@code java -cp ...
 * org.glmmaas.worker.text.bench.EncodeCpuTime}.
 */
public final class EncodeCpuTime {

  private EncodeCpuTime() {}

  public static void main(String[] args) {
    String text = BenchCorpus.mixedText(EncodeBenchmark.TEXT_BYTES, 42);
    double mb = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    for (String vocab : new String[] {"reference-1536", "synthetic-151552"}) {
      BpeTokenizer tok =
          vocab.startsWith("reference")
              ? BpeTokenizer.fromMetadata(BenchCorpus.referenceMetadata())
              : SyntheticVocab.build(BenchCorpus.mixedText(24_000, 7), 151_552, 1, 6000)
                  .tokenizer();
      for (int i = 0; i < 15; i++) {
        tok.encode(text, true); // warm-up
      }
      int runs = 20;
      long cpu0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      int tokens = 0;
      for (int i = 0; i < runs; i++) {
        tokens = tok.encode(text, true).length;
      }
      double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
      double wall = (System.nanoTime() - wall0) / 1e9;
      System.out.printf(
          "%-17s %.2f MB x %d: %.1f MB/s per CPU-second (%.1f MB/s wall), %d tokens per run%n",
          vocab, mb, runs, mb * runs / cpu, mb * runs / wall, tokens);
    }
  }
}
