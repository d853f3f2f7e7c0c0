package org.glmmaas.worker.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;
import org.glmmaas.worker.gguf.GgufMetadata;

/**
 * The SentencePiece vocabulary of ChatGLM2/ChatGLM3 as llama.cpp's converter writes it ({@code
 * tokenizer.ggml.model = "llama"}) and as llama.cpp's SPM tokenizer applies it (docs/moe.md,
 * "SentencePiece"):
 *
 * <ol>
 *   <li>special tokens (CONTROL and UNKNOWN when parsing specials, USER_DEFINED always) are cut out
 *       of the text first, longest first, leftmost first, anywhere in the text;
 *   <li>with {@code add_space_prefix} (default true) a space is prepended to every raw fragment
 *       that starts the text or follows a special token; every space becomes {@code ▁};
 *   <li>the fragment's characters are merged pairwise, highest score of the merged piece first
 *       (leftmost on a tie), for as long as the concatenation of two neighbours is a token;
 *   <li>a final symbol that is no token is emitted as its UTF-8 bytes ({@code <0xXX>}).
 * </ol>
 *
 * <p>Decoding renders {@code ▁} as a space and byte tokens as raw bytes; {@link #decode} drops the
 * leading space of the first token as llama.cpp's detokenizer does, {@link #tokenBytes} keeps it.
 * Thread-safe: immutable after construction.
 */
public final class SentencePieceTokenizer implements Tokenizer {

  private static final String SPACE = "\u2581";

  /** Texts llama.cpp treats as end of generation whatever the metadata says. */
  private static final Set<String> EOG_TEXTS =
      Set.of("<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<eos>", "</s>");

  private final List<String> tokens;
  private final int[] types;
  private final float[] scores;
  private final Map<String, Integer> ids;
  private final byte[][] pieces;
  private final int[] byteTokens = new int[256];
  private final boolean addSpacePrefix;
  private final boolean addBos;
  private final int bos;
  private final SpecialTokens specialsParsed;
  private final SpecialTokens specialsUserDefined;
  private final int[] endOfGeneration;
  private final boolean[] isEog;

  private SentencePieceTokenizer(GgufMetadata metadata) {
    this.tokens =
        metadata
            .strings("tokenizer.ggml.tokens")
            .orElseThrow(
                () -> new IllegalArgumentException("tokenizer: tokenizer.ggml.tokens missing"));
    int n = tokens.size();
    if (n == 0) {
      throw new IllegalArgumentException("tokenizer: the vocabulary is empty");
    }
    int[] t = metadata.ints("tokenizer.ggml.token_type").orElse(null);
    if (t == null) {
      t = new int[n];
      Arrays.fill(t, BpeTokenizer.TYPE_NORMAL);
    } else if (t.length != n) {
      throw new IllegalArgumentException(
          "tokenizer: "
              + t.length
              + " token types for "
              + n
              + " tokens (tokenizer.ggml.token_type)");
    }
    this.types = t;
    this.scores = scores(metadata, n);
    this.ids = new HashMap<>(n * 2);
    for (int id = 0; id < n; id++) {
      ids.put(tokens.get(id), id); // the last of duplicate texts wins, as llama.cpp's map
    }
    this.pieces = new byte[n][];
    for (int id = 0; id < n; id++) {
      pieces[id] = piece(tokens.get(id), types[id]);
    }
    for (int b = 0; b < 256; b++) {
      Integer id = ids.get(String.format("<0x%02X>", b));
      if (id == null && b < 0x80) {
        id = ids.get(String.valueOf((char) b)); // llama.cpp's fallback: the byte as a string
      }
      byteTokens[b] = id == null ? -1 : id;
    }
    this.addSpacePrefix = metadata.bool("tokenizer.ggml.add_space_prefix").orElse(true);
    this.addBos = metadata.bool("tokenizer.ggml.add_bos_token").orElse(false);
    this.bos = optionalId(metadata, "tokenizer.ggml.bos_token_id", n);
    this.specialsParsed = SpecialTokens.of(tokens, types, true);
    this.specialsUserDefined = SpecialTokens.of(tokens, types, false);

    TreeSet<Integer> eog = new TreeSet<>();
    for (String key :
        new String[] {
          "tokenizer.ggml.eos_token_id",
          "tokenizer.ggml.eot_token_id",
          "tokenizer.ggml.eom_token_id"
        }) {
      int id = optionalId(metadata, key, n);
      if (id >= 0) {
        eog.add(id);
      }
    }
    for (int id = 0; id < n; id++) {
      if (EOG_TEXTS.contains(tokens.get(id))) {
        eog.add(id);
      }
    }
    this.endOfGeneration = eog.stream().mapToInt(Integer::intValue).toArray();
    this.isEog = new boolean[n];
    for (int id : endOfGeneration) {
      isEog[id] = true;
    }
  }

  /**
   * Builds the tokenizer of a GGUF file's metadata.
   *
   * @throws IllegalArgumentException when the vocabulary is not a SentencePiece ("llama") one or is
   *     malformed
   */
  public static SentencePieceTokenizer fromMetadata(GgufMetadata metadata) {
    String model = metadata.string("tokenizer.ggml.model").orElse("");
    if (!model.equals("llama")) {
      throw new IllegalArgumentException(
          "tokenizer: tokenizer.ggml.model is '" + model + "'; expected 'llama' (SentencePiece)");
    }
    return new SentencePieceTokenizer(metadata);
  }

  private static float[] scores(GgufMetadata metadata, int n) {
    Object v = metadata.values().get("tokenizer.ggml.scores");
    float[] out = new float[n];
    if (v == null) {
      return out;
    }
    if (!(v instanceof List<?> l) || l.size() != n) {
      throw new IllegalArgumentException(
          "tokenizer: tokenizer.ggml.scores must be " + n + " numbers, one per token");
    }
    for (int i = 0; i < n; i++) {
      if (!(l.get(i) instanceof Number x)) {
        throw new IllegalArgumentException("tokenizer: tokenizer.ggml.scores holds a non-number");
      }
      out[i] = x.floatValue();
    }
    return out;
  }

  private static int optionalId(GgufMetadata metadata, String key, int n) {
    Optional<Long> v = metadata.integer(key);
    if (v.isEmpty()) {
      return -1;
    }
    long id = v.get();
    if (id < 0 || id >= n) {
      throw new IllegalArgumentException(
          "tokenizer: " + key + " = " + id + " is outside the vocabulary of " + n);
    }
    return (int) id;
  }

  private static byte[] piece(String text, int type) {
    return switch (type) {
      case BpeTokenizer.TYPE_CONTROL, BpeTokenizer.TYPE_UNKNOWN, BpeTokenizer.TYPE_USER_DEFINED ->
          text.getBytes(StandardCharsets.UTF_8);
      case BpeTokenizer.TYPE_NORMAL -> text.replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
      case BpeTokenizer.TYPE_BYTE -> byteOf(text);
      default -> new byte[0];
    };
  }

  private static byte[] byteOf(String text) {
    if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
      try {
        return new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)};
      } catch (NumberFormatException e) {
        return new byte[0];
      }
    }
    return new byte[0];
  }

  // ---------------------------------------------------------------------------------------------
  // encode

  @Override
  public int[] encode(String text, boolean parseSpecial) {
    return encode(text, parseSpecial ? specialsParsed : specialsUserDefined, null);
  }

  @Override
  public int[] encode(String text, java.util.BitSet literal) {
    return encode(text, specialsParsed, literal);
  }

  /** With a BOS first when the file asks for one ({@code add_bos_token}). */
  public int[] encodeWithSpecial(String text, boolean parseSpecial) {
    int[] ids = encode(text, parseSpecial);
    if (!addBos || bos < 0) {
      return ids;
    }
    int[] out = new int[ids.length + 1];
    out[0] = bos;
    System.arraycopy(ids, 0, out, 1, ids.length);
    return out;
  }

  private int[] encode(String text, SpecialTokens specials, java.util.BitSet literal) {
    String s = BpeTokenizer.withoutUnpairedSurrogates(text);
    IntList out = new IntList();
    boolean[] prevSpecial = {true}; // a space prefix before the first fragment
    specials.partition(
        s,
        literal,
        (start, end) -> {
          String fragment = s.substring(start, end);
          if (addSpacePrefix && prevSpecial[0]) {
            fragment = " " + fragment;
          }
          encodeFragment(fragment.replace(" ", SPACE), out);
          prevSpecial[0] = false;
        },
        id -> {
          out.add(id);
          prevSpecial[0] = true;
        });
    return out.toArray();
  }

  /** One merge candidate: the pair (left, right) whose concatenation is a token. */
  private record Bigram(int left, int right, float score, int size) {}

  private void encodeFragment(String text, IntList out) {
    // symbols: one per code point, as (start, length in chars) into text
    int n = text.codePointCount(0, text.length());
    if (n == 0) {
      return;
    }
    int[] start = new int[n];
    int[] len = new int[n];
    int[] prev = new int[n];
    int[] next = new int[n];
    for (int i = 0, off = 0; i < n; i++) {
      int c = Character.charCount(text.codePointAt(off));
      start[i] = off;
      len[i] = c;
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
      off += c;
    }
    PriorityQueue<Bigram> queue =
        new PriorityQueue<>(
            (a, b) ->
                a.score != b.score
                    ? Float.compare(b.score, a.score)
                    : Integer.compare(a.left, b.left));
    for (int i = 1; i < n; i++) {
      tryAddBigram(text, start, len, i - 1, i, queue);
    }
    while (!queue.isEmpty()) {
      Bigram b = queue.poll();
      int l = b.left;
      int r = b.right;
      if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.size) {
        continue; // one side changed since this pair was queued
      }
      len[l] += len[r];
      len[r] = 0;
      next[l] = next[r];
      if (next[r] >= 0) {
        prev[next[r]] = l;
      }
      if (prev[l] >= 0) {
        tryAddBigram(text, start, len, prev[l], l, queue);
      }
      if (next[l] >= 0) {
        tryAddBigram(text, start, len, l, next[l], queue);
      }
    }
    for (int i = 0; i >= 0; i = next[i]) {
      String piece = text.substring(start[i], start[i] + len[i]);
      Integer id = ids.get(piece);
      if (id != null) {
        out.add(id);
      } else {
        // only a single character can be no token: its UTF-8 bytes
        for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
          int t = byteTokens[b & 0xFF];
          if (t < 0) {
            throw new IllegalArgumentException(
                "tokenizer: the vocabulary has no byte token <0x"
                    + String.format("%02X", b & 0xFF)
                    + "> for a character it lacks");
          }
          out.add(t);
        }
      }
    }
  }

  private void tryAddBigram(
      String text, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
    int size = len[left] + len[right];
    Integer id = ids.get(text.substring(start[left], start[left] + size));
    if (id != null) {
      queue.add(new Bigram(left, right, scores[id], size));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // decode

  /** Text of the ids (special tokens rendered), without the first token's leading space. */
  @Override
  public String decode(int[] ids) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    boolean first = true;
    for (int id : ids) {
      byte[] p = bytesOf(id);
      int from = 0;
      if (first && addSpacePrefix && p.length > 0 && p[0] == ' ') {
        from = 1;
      }
      first = false;
      buf.write(p, from, p.length - from);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] tokenBytes(int id) {
    return bytesOf(id).clone();
  }

  /** The piece of a token without copying (callers must not modify it). */
  byte[] bytesOf(int id) {
    if (id < 0 || id >= pieces.length) {
      throw new IllegalArgumentException(
          "token id "
              + id
              + " is out of range: the vocabulary has "
              + pieces.length
              + " tokens (0.."
              + (pieces.length - 1)
              + ")");
    }
    return pieces[id];
  }

  @Override
  public int vocabSize() {
    return pieces.length;
  }

  public int tokenType(int id) {
    bytesOf(id);
    return types[id];
  }

  @Override
  public boolean isControl(int id) {
    int t = tokenType(id);
    return t == BpeTokenizer.TYPE_CONTROL
        || t == BpeTokenizer.TYPE_UNKNOWN
        || t == BpeTokenizer.TYPE_UNUSED
        || isEndOfGeneration(id);
  }

  @Override
  public int[] endOfGenerationIds() {
    return endOfGeneration.clone();
  }

  @Override
  public boolean isEndOfGeneration(int id) {
    return id >= 0 && id < isEog.length && isEog[id];
  }

  /** Growable int array. */
  private static final class IntList {
    private int[] a = new int[32];
    private int size;

    void add(int v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, size * 2);
      }
      a[size++] = v;
    }

    int[] toArray() {
      return Arrays.copyOf(a, size);
    }
  }
}
