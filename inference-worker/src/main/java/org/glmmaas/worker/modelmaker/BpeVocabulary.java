package org.glmmaas.worker.modelmaker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small but real byte-level BPE vocabulary in the GLM-4 layout: ids 0-255 are the single bytes
 * (GPT-2 byte-to-unicode spelling, id = byte value), then tokens learned by BPE merges from a
 * bundled Chinese/English/code corpus (pre-split with the GLM-4 regex), then the GLM special tokens
 * as CONTROL, then unused padding tokens up to the requested vocabulary size.
 *
 * @param tokens token texts by id
 * @param tokenTypes llama token types by id (1 normal, 3 control, 5 unused)
 * @param merges "left right" by rank
 * @param eosId {@code <|endoftext|>}, also eos and unk
 * @param eotId {@code <|user|>}
 */
public record BpeVocabulary(
    List<String> tokens, int[] tokenTypes, List<String> merges, int eosId, int eotId) {

  /** The GLM-4 special tokens, in their canonical order. */
  public static final List<String> SPECIALS =
      List.of(
          "<|endoftext|>",
          "[MASK]",
          "[gMASK]",
          "[sMASK]",
          "<sop>",
          "<eop>",
          "<|system|>",
          "<|user|>",
          "<|assistant|>",
          "<|observation|>",
          "<|begin_of_image|>",
          "<|end_of_image|>",
          "<|begin_of_video|>",
          "<|end_of_video|>");

  /** The GLM-4 pre-tokenizer pattern (the LLaMA-3 regex). */
  static final Pattern PRE_SPLIT =
      Pattern.compile(
          "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
              + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

  public static final int TYPE_NORMAL = 1;
  public static final int TYPE_CONTROL = 3;
  public static final int TYPE_UNUSED = 5;

  /** Merges learned for the default vocabulary (as in the reference models: 1244). */
  public static final int DEFAULT_MERGES = 1244;

  /**
   * Builds a vocabulary of exactly {@code vocabSize} tokens with up to {@code maxMerges} merges.
   */
  public static BpeVocabulary build(int vocabSize, int maxMerges) {
    return build(vocabSize, maxMerges, List.of());
  }

  /** CodeGeeX4's fill-in-the-middle tokens. */
  public static final List<String> FIM_SPECIALS =
      List.of("<|code_prefix|>", "<|code_suffix|>", "<|code_middle|>");

  /**
   * As {@link #build(int, int)}, with {@code extraSpecials} as control tokens right after the GLM
   * ones (e.g. {@link #FIM_SPECIALS}).
   */
  public static BpeVocabulary build(int vocabSize, int maxMerges, List<String> extraSpecials) {
    int numSpecials = SPECIALS.size() + extraSpecials.size();
    int room = vocabSize - 256 - numSpecials;
    if (room < 0) {
      throw new IllegalArgumentException(
          "vocabulary size "
              + vocabSize
              + " is below the "
              + (256 + numSpecials)
              + " byte and special tokens");
    }
    List<String> merges = train(corpus(), Math.min(room, maxMerges));
    List<String> tokens = new ArrayList<>(vocabSize);
    String[] byteChars = byteToUnicode();
    for (int b = 0; b < 256; b++) {
      tokens.add(byteChars[b]);
    }
    java.util.Set<String> seen = new java.util.HashSet<>(tokens);
    for (String m : merges) {
      String joined = m.replace(" ", "");
      if (seen.add(joined)) { // two merges may spell the same token; it gets one id
        tokens.add(joined);
      }
    }
    int eos = tokens.size();
    tokens.addAll(SPECIALS);
    tokens.addAll(extraSpecials);
    while (tokens.size() < vocabSize) {
      tokens.add("[PAD" + tokens.size() + "]");
    }
    int[] types = new int[vocabSize];
    for (int i = 0; i < vocabSize; i++) {
      types[i] = i < eos ? TYPE_NORMAL : i < eos + numSpecials ? TYPE_CONTROL : TYPE_UNUSED;
    }
    return new BpeVocabulary(
        List.copyOf(tokens), types, List.copyOf(merges), eos, eos + SPECIALS.indexOf("<|user|>"));
  }

  /** The id of a special token by its text. */
  public int special(String text) {
    int i = SPECIALS.indexOf(text);
    if (i < 0) {
      throw new IllegalArgumentException("not a GLM special token: " + text);
    }
    return eosId + i;
  }

  static String corpus() {
    try (InputStream in = BpeVocabulary.class.getResourceAsStream("/modelmaker/corpus.txt")) {
      if (in == null) {
        throw new IllegalStateException("modelmaker/corpus.txt is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Standard BPE training: words from the pre-split, spelled in byte symbols, weighted by count;
   * repeatedly merge the most frequent adjacent pair (ties: the lexicographically smallest pair, so
   * the result is deterministic).
   */
  static List<String> train(String text, int numMerges) {
    String[] byteChars = byteToUnicode();
    Map<String, Integer> wordCounts = new LinkedHashMap<>();
    Matcher m = PRE_SPLIT.matcher(text);
    while (m.find()) {
      wordCounts.merge(m.group(), 1, Integer::sum);
    }
    List<List<String>> words = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
      List<String> symbols = new ArrayList<>();
      for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) {
        symbols.add(byteChars[b & 0xff]);
      }
      words.add(symbols);
      counts.add(e.getValue());
    }
    List<String> merges = new ArrayList<>();
    while (merges.size() < numMerges) {
      Map<String, Integer> pairs = new HashMap<>();
      for (int w = 0; w < words.size(); w++) {
        List<String> s = words.get(w);
        for (int i = 0; i + 1 < s.size(); i++) {
          pairs.merge(s.get(i) + " " + s.get(i + 1), counts.get(w), Integer::sum);
        }
      }
      String best = null;
      int bestCount = 0;
      for (Map.Entry<String, Integer> e : pairs.entrySet()) {
        if (e.getValue() > bestCount
            || (e.getValue() == bestCount && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = e.getValue();
        }
      }
      if (best == null) {
        break; // every word is one token
      }
      merges.add(best);
      int sp = best.indexOf(' ');
      String left = best.substring(0, sp);
      String right = best.substring(sp + 1);
      String joined = left + right;
      for (List<String> s : words) {
        for (int i = 0; i + 1 < s.size(); i++) {
          if (s.get(i).equals(left) && s.get(i + 1).equals(right)) {
            s.set(i, joined);
            s.remove(i + 1);
          }
        }
      }
    }
    return merges;
  }

  /** GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to 256+n. */
  public static String[] byteToUnicode() {
    String[] out = new String[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      out[b] = Character.toString(printable ? b : 256 + n++);
    }
    return out;
  }
}
