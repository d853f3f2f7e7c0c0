package org.glmmaas.worker.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A byte-level BPE vocabulary built in code (no model file): the 256 byte tokens, merges learned
 * greedily from a sample text up to the requested size, and GLM's special tokens at the end. Used
 * by tests that must run without ../shared, and by the benchmark at the real GLM-4 size (151,552).
 */
public final class SyntheticVocab {

  public static final String[] SPECIALS = {
    "<|endoftext|>",
    "[MASK]",
    "[gMASK]",
    "[sMASK]",
    "<sop>",
    "<eop>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|observation|>"
  };

  final List<String> tokens = new ArrayList<>();
  final List<String> merges = new ArrayList<>();
  int[] types;

  private SyntheticVocab() {}

  /** Vocabulary of exactly {@code size} tokens, merges learned on {@code sample}. */
  public static SyntheticVocab build(String sample, int size, long seed) {
    return build(sample, size, seed, 4000);
  }

  /** As {@link #build(String, int, long)}, learning at most {@code maxLearnedMerges} merges. */
  public static SyntheticVocab build(String sample, int size, long seed, int maxLearnedMerges) {
    SyntheticVocab v = new SyntheticVocab();
    Set<String> known = new LinkedHashSet<>();
    for (int b = 0; b < 256; b++) {
      String t = ByteLevel.encodeByte(b);
      v.tokens.add(t);
      known.add(t);
    }
    int normalTarget = size - SPECIALS.length;
    // merges: adjacent pairs inside words of the sample, most frequent first, plus random ones
    List<List<String>> words = new ArrayList<>();
    int[] cps = sample.codePoints().toArray();
    Llama3PreTokenizer.split(
        cps,
        0,
        cps.length,
        (s, e) -> {
          byte[] bytes = new String(cps, s, e - s).getBytes(StandardCharsets.UTF_8);
          List<String> syms = new ArrayList<>();
          for (byte b : bytes) {
            syms.add(ByteLevel.encodeByte(b & 0xFF));
          }
          words.add(syms);
        });
    while (v.tokens.size() < normalTarget) {
      java.util.Map<String, Integer> counts = new java.util.HashMap<>();
      for (List<String> w : words) {
        for (int i = 0; i + 1 < w.size(); i++) {
          counts.merge(w.get(i) + " " + w.get(i + 1), 1, Integer::sum);
        }
      }
      String best = null;
      int bestCount = 1;
      for (var e : counts.entrySet()) {
        if (e.getValue() > bestCount
            || (e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = e.getValue();
        }
      }
      if (best == null) {
        break;
      }
      String[] pair = best.split(" ", 2);
      String merged = pair[0] + pair[1];
      v.merges.add(best);
      if (known.add(merged)) {
        v.tokens.add(merged);
      }
      for (List<String> w : words) {
        for (int i = 0; i + 1 < w.size(); i++) {
          if (w.get(i).equals(pair[0]) && w.get(i + 1).equals(pair[1])) {
            w.set(i, merged);
            w.remove(i + 1);
          }
        }
      }
      if (v.merges.size() >= maxLearnedMerges) {
        break; // learning is quadratic: the rest of a big vocabulary is random merges below
      }
    }
    Random random = new Random(seed);
    List<String> pool = new ArrayList<>(v.tokens);
    while (v.tokens.size() < normalTarget) {
      String a = pool.get(random.nextInt(pool.size()));
      String b = pool.get(random.nextInt(Math.min(pool.size(), 512)));
      String merged = a + b;
      if (merged.length() > 24 || merged.contains(" ") || !known.add(merged)) {
        continue;
      }
      v.merges.add(a + " " + b);
      v.tokens.add(merged);
      pool.add(merged);
    }
    v.types = new int[normalTarget + SPECIALS.length];
    Arrays.fill(v.types, BpeTokenizer.TYPE_NORMAL);
    for (String s : SPECIALS) {
      v.types[v.tokens.size()] = BpeTokenizer.TYPE_CONTROL;
      v.tokens.add(s);
    }
    return v;
  }

  /** The same vocabulary for the model maker, to write it into a GGUF file. */
  public org.glmmaas.worker.modelmaker.BpeVocabulary toBpeVocabulary() {
    return new org.glmmaas.worker.modelmaker.BpeVocabulary(
        List.copyOf(tokens),
        types.clone(),
        List.copyOf(merges),
        tokens.indexOf("<|endoftext|>"),
        tokens.indexOf("<|user|>"));
  }

  public int size() {
    return tokens.size();
  }

  public int numMerges() {
    return merges.size();
  }

  public BpeTokenizer tokenizer() {
    int eos = tokens.indexOf("<|endoftext|>");
    int eot = tokens.indexOf("<|user|>");
    return new BpeTokenizer(tokens, types, merges, eos, eot, -1);
  }

  public static final String SAMPLE =
      "随着人工神经网络和深度学习技术的不断发展，大型语言模型已经成为了自然语言处理领域中的重要研究方向之一。"
          + "The quick brown fox jumps over the lazy dog. GLM is a General Language Model pretrained with an "
          + "autoregressive blank-filling objective. 清华大学发布了一款具有重要意义的 GLM 大模型，它不仅在中文语言处理方面取得了"
          + "显著的进展，还在英文语言处理方面表现出了强大的能力。 def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\n"
          + "I've been told they're here, we'll see. 2024年12月31日 12345 🚀🦙 нещо на Български";
}
