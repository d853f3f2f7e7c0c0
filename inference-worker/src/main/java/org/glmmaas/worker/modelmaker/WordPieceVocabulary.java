package org.glmmaas.worker.modelmaker;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A small WordPiece vocabulary in the form llama.cpp's converter writes for BERT models
 * (bert-base-chinese layout): {@code [PAD]}, {@code [unused1..99]}, {@code [UNK]} 100, {@code
 * [CLS]} 101, {@code [SEP]} 102, {@code [MASK]} 103, then ASCII characters, common English words
 * and suffixes, digit pairs, CJK punctuation and CJK characters from U+4E00 until the size is
 * reached. A word-initial piece {@code x} is stored as {@code ▁x}, a continuation {@code ##x} as
 * {@code x}.
 */
public record WordPieceVocabulary(List<String> tokens, int[] tokenTypes) {

  public static final int UNK = 100;
  public static final int CLS = 101;
  public static final int SEP = 102;
  public static final int MASK = 103;

  private static final String SPACE = "\u2581";

  private static final String WORDS =
      "the of and to in is for on with as by that this it be are from at or an was which model"
          + " models glm chatglm embedding embeddings vector vectors search query document text"
          + " hello world language large open source chinese english knowledge base retrieval"
          + " question answer token tokens data train training inference service api user"
          + " request response chat completion machine learning deep neural network transformer"
          + " transformers attention layer layers weight weights first second new one two three"
          + " can will not have has more most all some any each other than then also into out"
          + " about over after before between under again what when where who why how use used"
          + " using run runs fast small good best test example com www http https email mail"
          + " day time year people work way part number point system program problem fact";

  private static final String SUFFIXES = "s es ed ing er ers est ly tion tions ment ness able ful";

  /** Builds exactly {@code size} tokens. */
  public static WordPieceVocabulary build(int size) {
    Set<String> t = new LinkedHashSet<>();
    t.add("[PAD]");
    for (int i = 1; i <= 99; i++) {
      t.add(SPACE + "[unused" + i + "]");
    }
    t.add("[UNK]");
    t.add("[CLS]");
    t.add("[SEP]");
    t.add("[MASK]");
    for (char c = 0x21; c < 0x7F; c++) {
      if (!Character.isUpperCase(c)) {
        t.add(SPACE + c);
        t.add(String.valueOf(c));
      }
    }
    for (String w : WORDS.split(" ")) {
      t.add(SPACE + w);
    }
    for (String s : SUFFIXES.split(" ")) {
      t.add(s);
    }
    for (int i = 0; i < 100; i++) {
      t.add(String.format("%02d", i));
    }
    for (char c : "，。！？：；（）、“”《》".toCharArray()) {
      t.add(SPACE + c);
    }
    for (int cp = 0x4E00; t.size() < size && cp <= 0x9FFF; cp++) {
      t.add(SPACE + new String(Character.toChars(cp)));
    }
    if (t.size() != size) {
      throw new IllegalArgumentException(
          "a WordPiece vocabulary of " + size + " tokens cannot be built (got " + t.size() + ")");
    }
    List<String> tokens = new ArrayList<>(t);
    int[] types = new int[size];
    for (int i = 0; i < size; i++) {
      types[i] = tokens.get(i).startsWith("[") ? 3 : 1; // CONTROL or NORMAL
    }
    return new WordPieceVocabulary(tokens, types);
  }
}
