package org.glmmaas.worker.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.glmmaas.worker.gguf.GgufMetadata;

/**
 * The WordPiece tokenizer of BERT-family embedding models ({@code tokenizer.ggml.model = "bert"}),
 * as llama.cpp's WPM tokenizer applies it (docs/embeddings.md, "Tokenizer").
 *
 * <p>The vocabulary is stored in the converter's "phantom space" form: a word-initial piece {@code
 * x} is {@code ▁x}, a continuation piece {@code ##x} is {@code x}. Encoding: special-token texts
 * are cut out first (when parsing them), every raw fragment is pre-tokenized (accents stripped,
 * lower-cased, control chars dropped, split at whitespace, punctuation, ASCII symbols and CJK
 * ideographs), each word is matched greedily longest-first, and a word with any unmatched part
 * becomes one {@code [UNK]}. {@code [CLS]} and {@code [SEP]} frame the result when special tokens
 * are added.
 */
public final class WordPieceTokenizer {

  private static final String PHANTOM_SPACE = "\u2581";

  private final List<String> tokens;
  private final int[] types;
  private final Map<String, Integer> ids;
  private final int maxTokenChars;
  private final int unk;
  private final int cls;
  private final int sep;
  private final int bos;
  private final int eos;
  private final boolean addBos;
  private final boolean addEos;
  private final boolean lowercase;
  private final boolean stripAccents;
  private final SpecialTokens specialParse;
  private final SpecialTokens specialNoParse;

  private WordPieceTokenizer(GgufMetadata metadata) {
    this.tokens =
        metadata
            .strings("tokenizer.ggml.tokens")
            .orElseThrow(
                () -> new IllegalArgumentException("tokenizer: tokenizer.ggml.tokens missing"));
    int[] t = metadata.ints("tokenizer.ggml.token_type").orElse(null);
    if (t == null) {
      t = new int[tokens.size()];
      java.util.Arrays.fill(t, BpeTokenizer.TYPE_NORMAL);
    } else if (t.length != tokens.size()) {
      throw new IllegalArgumentException(
          "tokenizer: "
              + t.length
              + " token types for "
              + tokens.size()
              + " tokens (tokenizer.ggml.token_type)");
    }
    this.types = t;
    this.ids = new HashMap<>(tokens.size() * 2);
    int maxChars = 1;
    for (int id = 0; id < tokens.size(); id++) {
      String s = tokens.get(id);
      ids.putIfAbsent(s, id); // the first id wins, as llama.cpp's token_to_id map
      maxChars = Math.max(maxChars, s.length());
    }
    this.maxTokenChars = maxChars;
    this.unk = id(metadata, "tokenizer.ggml.unknown_token_id", "[UNK]");
    this.bos = id(metadata, "tokenizer.ggml.bos_token_id", "[CLS]");
    this.eos = id(metadata, "tokenizer.ggml.eos_token_id", "[SEP]");
    this.cls = optionalId(metadata, "tokenizer.ggml.cls_token_id").orElse(bos);
    this.sep = optionalId(metadata, "tokenizer.ggml.seperator_token_id").orElse(eos);
    this.addBos = metadata.bool("tokenizer.ggml.add_bos_token").orElse(true);
    this.addEos = metadata.bool("tokenizer.ggml.add_eos_token").orElse(true);
    this.lowercase = metadata.bool("tokenizer.ggml.normalizer.lowercase").orElse(true);
    // llama.cpp: absent strip_accents follows lowercase (as HF's BertNormalizer).
    this.stripAccents =
        metadata.bool("tokenizer.ggml.normalizer.strip_accents").orElse(this.lowercase);
    this.specialParse = SpecialTokens.of(tokens, types, true);
    this.specialNoParse = SpecialTokens.of(tokens, types, false);
  }

  /**
   * Builds the tokenizer of a GGUF file's metadata.
   *
   * @throws IllegalArgumentException when the vocabulary is not a WordPiece ("bert") one or lacks a
   *     required token
   */
  public static WordPieceTokenizer fromMetadata(GgufMetadata metadata) {
    String model = metadata.string("tokenizer.ggml.model").orElse("");
    if (!model.equals("bert")) {
      throw new IllegalArgumentException(
          "tokenizer: tokenizer.ggml.model is '" + model + "'; only 'bert' (WordPiece) is here");
    }
    return new WordPieceTokenizer(metadata);
  }

  private int id(GgufMetadata metadata, String key, String what) {
    return optionalId(metadata, key)
        .orElseThrow(
            () -> new IllegalArgumentException("tokenizer: " + key + " (" + what + ") missing"));
  }

  private Optional<Integer> optionalId(GgufMetadata metadata, String key) {
    Optional<Long> v = metadata.integer(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    long id = v.get();
    if (id < 0 || id >= tokens.size()) {
      throw new IllegalArgumentException(
          "tokenizer: " + key + " = " + id + " is outside the vocabulary of " + tokens.size());
    }
    return Optional.of((int) id);
  }

  public int vocabSize() {
    return tokens.size();
  }

  public int clsId() {
    return cls;
  }

  public int sepId() {
    return sep;
  }

  public int unknownId() {
    return unk;
  }

  /**
   * @param addSpecial frame the ids with {@code [CLS]} ... {@code [SEP]}
   * @param parseSpecial the exact texts of control tokens ({@code [MASK]}, {@code [SEP]}, ...)
   *     become those tokens; false: they are ordinary text
   */
  public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
    IntList out = new IntList();
    if (addSpecial) {
      out.add(cls);
    }
    SpecialTokens special = parseSpecial ? specialParse : specialNoParse;
    special.partition(text, (s, e) -> encodeRaw(text.substring(s, e), out), out::add);
    if (addSpecial) {
      out.add(sep);
    }
    return out.toArray();
  }

  private void encodeRaw(String text, IntList out) {
    for (String word : preTokenize(text)) {
      String w = PHANTOM_SPACE + word;
      int n = w.length();
      int before = out.size();
      int i = 0;
      while (i < n) {
        boolean match = false;
        for (int j = Math.min(n, i + maxTokenChars); j > i; j--) {
          if (j < n && Character.isLowSurrogate(w.charAt(j))) {
            continue; // never cut a surrogate pair
          }
          Integer id = ids.get(w.substring(i, j));
          if (id != null) {
            out.add(id);
            i = j;
            match = true;
            break;
          }
        }
        if (!match) {
          out.truncate(before);
          break;
        }
      }
      if (out.size() == before) {
        out.add(unk);
      }
    }
  }

  /** llama.cpp's WPM pre-tokenizer: normalised words, each punctuation/CJK char its own word. */
  List<String> preTokenize(String text) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < text.length(); ) {
      int cp0 = text.codePointAt(i);
      i += Character.charCount(cp0);
      int cp = stripAccents ? nfdBase(cp0) : cp0;
      if (LlamaUnicode.isWhitespace(cp)) {
        flush(word, words);
        continue;
      }
      int type = Character.getType(cp);
      if (cp == 0 || cp == 0xFFFD || isControl(type)) {
        continue;
      }
      if (stripAccents && isMark(type)) {
        continue;
      }
      int lower = lowercase ? Character.toLowerCase(cp) : cp;
      if (isPunctuation(type) || (cp < 0x7F && isSymbol(type)) || isChineseChar(cp)) {
        flush(word, words);
        words.add(new String(Character.toChars(lower)));
      } else {
        word.appendCodePoint(lower);
      }
    }
    flush(word, words);
    return words;
  }

  private static void flush(StringBuilder word, List<String> words) {
    if (!word.isEmpty()) {
      words.add(word.toString());
      word.setLength(0);
    }
  }

  /** The first code point of a code point's canonical decomposition (llama.cpp's NFD table). */
  private static int nfdBase(int cp) {
    if (cp < 0xC0) {
      return cp;
    }
    String s = new String(Character.toChars(cp));
    if (Normalizer.isNormalized(s, Normalizer.Form.NFD)) {
      return cp;
    }
    return Normalizer.normalize(s, Normalizer.Form.NFD).codePointAt(0);
  }

  private static boolean isControl(int type) {
    return type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.PRIVATE_USE
        || type == Character.SURROGATE;
  }

  private static boolean isMark(int type) {
    return type == Character.NON_SPACING_MARK
        || type == Character.ENCLOSING_MARK
        || type == Character.COMBINING_SPACING_MARK;
  }

  private static boolean isPunctuation(int type) {
    return switch (type) {
      case Character.CONNECTOR_PUNCTUATION,
          Character.DASH_PUNCTUATION,
          Character.START_PUNCTUATION,
          Character.END_PUNCTUATION,
          Character.INITIAL_QUOTE_PUNCTUATION,
          Character.FINAL_QUOTE_PUNCTUATION,
          Character.OTHER_PUNCTUATION ->
          true;
      default -> false;
    };
  }

  private static boolean isSymbol(int type) {
    return type == Character.MATH_SYMBOL
        || type == Character.CURRENCY_SYMBOL
        || type == Character.MODIFIER_SYMBOL
        || type == Character.OTHER_SYMBOL;
  }

  /** CJK ideograph blocks, as BERT's (and llama.cpp's) _is_chinese_char. */
  static boolean isChineseChar(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF)
        || (cp >= 0x3400 && cp <= 0x4DBF)
        || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F)
        || (cp >= 0x2B920 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF)
        || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }

  /**
   * Text of the ids, as llama.cpp's detokenizer: a space before every word-initial piece, then
   * spaces before {@code ?!.,} and around a lone apostrophe cleaned up.
   *
   * @param removeSpecial drop a leading {@code [CLS]} and trailing {@code [SEP]}, and render no
   *     control token
   */
  public String decode(int[] ids, boolean removeSpecial) {
    int from = 0;
    int to = ids.length;
    if (removeSpecial && addBos && to > from && ids[from] == bos) {
      from++;
    }
    if (removeSpecial && addEos && to > from && ids[to - 1] == eos) {
      to--;
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    for (int i = from; i < to; i++) {
      int id = ids[i];
      if (id < 0 || id >= tokens.size()) {
        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary");
      }
      int type = types[id];
      String text = tokens.get(id);
      String piece;
      if (type == BpeTokenizer.TYPE_CONTROL || type == BpeTokenizer.TYPE_UNKNOWN) {
        piece = removeSpecial ? "" : text;
      } else if (type == BpeTokenizer.TYPE_USER_DEFINED) {
        piece = text;
      } else if (type == BpeTokenizer.TYPE_NORMAL) {
        piece = text.replace(PHANTOM_SPACE, " ");
      } else {
        piece = "";
      }
      buf.writeBytes(piece.getBytes(StandardCharsets.UTF_8));
    }
    byte[] t = buf.toByteArray();
    int n = cleanSpaces(t, t.length);
    return new String(t, 0, n, StandardCharsets.UTF_8);
  }

  /** llama.cpp's clean_spaces passes over the detokenized bytes, in place; returns the length. */
  private static int cleanSpaces(byte[] text, int total) {
    // 1: " ?", " !", " .", " ,"
    int total1 = total;
    total = total > 0 ? 1 : 0;
    for (int i = 1; i < total1; i++) {
      byte x = text[i];
      if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
        total--;
      }
      text[total++] = x;
    }
    // 2: a single apostrophe between spaces
    int total2 = total;
    total = total > 0 ? 1 : 0;
    for (int i = 1; i < total2; i++) {
      byte x = text[i];
      if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
        total--;
        text[++i] = 0;
      }
      text[total++] = x;
    }
    // 3: contractions " 's", " 'm", " 're", " 've"
    int total3 = total;
    total = total > 0 ? 1 : 0;
    for (int i = 1; i < total3; i++) {
      byte x = text[i];
      if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
        byte x1 = text[i + 1];
        if (x1 == 's' || x1 == 'm') {
          total--;
        } else if (x1 != 't' && x1 != 'd' && i + 2 < total3) {
          byte x2 = text[i + 2];
          if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
            total--;
          }
        }
      }
      text[total++] = x;
    }
    return total;
  }

  /** A growable int array. */
  private static final class IntList {
    private int[] a = new int[16];
    private int n;

    void add(int v) {
      if (n == a.length) {
        a = java.util.Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    int size() {
      return n;
    }

    void truncate(int size) {
      n = size;
    }

    int[] toArray() {
      return java.util.Arrays.copyOf(a, n);
    }
  }
}
