package org.glmmaas.worker.grammar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A byte-level BPE-like vocabulary for grammar tests and benchmarks (no GLM tokenizer file is at
 * hand): the 256 single bytes, JSON punctuation runs (<code>{"</code>, <code>":</code>, <code>",
 * "</code>, ...), whitespace/indent runs, digit runs, ASCII words with and without a leading space,
 * CJK characters whole and split mid-character, escapes, and quote-joined pieces — then filled with
 * random ASCII/UTF-8 pieces up to the asked size. The last id is end-of-generation and the one
 * before is a control token.
 */
final class SyntheticVocabulary {

  private SyntheticVocabulary() {}

  static Vocabulary of(int size, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    LinkedHashSet<String> pieces = new LinkedHashSet<>();
    List<byte[]> raw = new ArrayList<>();
    for (int b = 0; b < 256; b++) {
      raw.add(new byte[] {(byte) b});
    }
    for (String s :
        List.of(
            "{",
            "}",
            "[",
            "]",
            "{\"",
            "\":",
            "\": ",
            "\",",
            "\", \"",
            "\"}",
            "\"]",
            "},",
            "}]",
            "}}",
            "]}",
            "[{",
            "[\"",
            ", ",
            ",\"",
            ",\n",
            "\n",
            "\n ",
            "\n  ",
            "\n    ",
            "  ",
            "    ",
            "\t",
            " \"",
            "\":\"",
            "\": \"",
            "true",
            "false",
            "null",
            " true",
            " false",
            " null",
            "\\n",
            "\\\"",
            "\\u00",
            "\\u4e2d",
            "-",
            "0",
            ".",
            "e",
            "E",
            "+",
            "\"\"",
            "\"\n",
            "name",
            "age",
            "items",
            "id",
            "tags",
            "value",
            "type",
            "\"name\"",
            "\"age\"",
            "\"}\n",
            "\"}}",
            ":[",
            "\":[",
            "\":{",
            "\": {",
            "\": [")) {
      pieces.add(s);
    }
    for (int i = 0; i < 1000; i++) {
      pieces.add(Integer.toString(i));
    }
    String letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    String[] cjk = {"中", "文", "模", "型", "的", "是", "智", "谱", "数", "据", "名", "字"};
    for (String c : cjk) {
      pieces.add(c);
      byte[] b = c.getBytes(StandardCharsets.UTF_8);
      raw.add(new byte[] {b[0], b[1]});
      raw.add(new byte[] {b[1], b[2]});
      raw.add(new byte[] {b[2]});
    }
    while (pieces.size() + raw.size() < size - 2) {
      int kind = rnd.nextInt(10);
      StringBuilder sb = new StringBuilder();
      int len = 1 + rnd.nextInt(kind < 6 ? 8 : 3);
      if (kind < 3) {
        sb.append(' ');
      }
      for (int i = 0; i < len; i++) {
        if (kind == 7) {
          sb.append(cjk[rnd.nextInt(cjk.length)]);
        } else if (kind == 8) {
          sb.append("\",:{}[] \n".charAt(rnd.nextInt(9)));
        } else {
          sb.append(letters.charAt(rnd.nextInt(letters.length())));
        }
      }
      if (kind == 9) {
        sb.append(rnd.nextBoolean() ? "\"" : "\",");
      }
      pieces.add(sb.toString());
    }
    List<byte[]> all = new ArrayList<>(raw);
    for (String p : pieces) {
      if (all.size() >= size - 2) {
        break;
      }
      all.add(p.getBytes(StandardCharsets.UTF_8));
    }
    all.add("<|control|>".getBytes(StandardCharsets.UTF_8));
    all.add("<|endoftext|>".getBytes(StandardCharsets.UTF_8));
    byte[][] bytes = all.toArray(new byte[0][]);
    boolean[] excluded = new boolean[bytes.length];
    excluded[bytes.length - 2] = true;
    return new Vocabulary(bytes, excluded, new int[] {bytes.length - 1});
  }
}
