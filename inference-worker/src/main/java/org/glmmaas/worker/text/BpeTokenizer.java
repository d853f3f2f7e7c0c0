package org.glmmaas.worker.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.glmmaas.worker.gguf.GgufMetadata;

/**
 * GLM's byte-level BPE tokenizer ("gpt2" model, GLM-4 pre-tokenizer) as llama.cpp applies it:
 *
 * <ol>
 *   <li>special tokens (CONTROL and UNKNOWN when parsing specials, USER_DEFINED always) are cut out
 *       of the text first, longest first, leftmost occurrence first;
 *   <li>each piece in between is split by {@link Llama3PreTokenizer};
 *   <li>each word's UTF-8 bytes are merged by rank (lowest rank first, then leftmost), even when
 *       the whole word is a token (no {@code ignore_merges});
 *   <li>a final symbol that is not a token falls back to its single-byte tokens, as llama.cpp does.
 * </ol>
 *
 * <p>Input strings with unpaired UTF-16 surrogates cannot be UTF-8: each unpaired surrogate is
 * encoded as U+FFFD, so {@code decode(encode(s))} equals {@code s} with those replaced. Decoding is
 * lossless byte concatenation (llama.cpp's optional {@code clean_spaces} cosmetic pass is not
 * applied, so streamed and final text agree); invalid UTF-8 in the result becomes U+FFFD.
 *
 * <p>Thread-safe: all state is immutable after construction.
 */
public final class BpeTokenizer implements Tokenizer {

  static final int TYPE_NORMAL = 1;
  static final int TYPE_UNKNOWN = 2;
  static final int TYPE_CONTROL = 3;
  static final int TYPE_USER_DEFINED = 4;
  static final int TYPE_UNUSED = 5;
  static final int TYPE_BYTE = 6;

  private static final String END_OF_TEXT = "<|endoftext|>";

  private final int vocabSize;
  private final int[] types;
  private final byte[][] pieces;

  /** Initial symbol of each byte value (a token id, or a virtual id past the vocabulary). */
  private final int[] byteSymbols = new int[256];

  private final PairRankMap merges;

  /**
   * For virtual symbols (merge results that are not tokens): the tokens llama.cpp falls back to.
   */
  private final int[][] virtualFallback;

  private final SpecialTokens specialsParsed;
  private final SpecialTokens specialsUserDefined;
  private final int[] endOfGeneration;
  private final boolean[] isEog;

  /**
   * @param tokens token texts (byte-level encoded for normal tokens)
   * @param types token types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte)
   * @param merges merges as "left right", rank = index
   * @param eos eos id or -1
   * @param eot eot id or -1
   * @param eom eom id or -1
   */
  public BpeTokenizer(
      List<String> tokens, int[] types, List<String> merges, int eos, int eot, int eom) {
    if (tokens.isEmpty()) {
      throw new IllegalArgumentException("tokenizer: the vocabulary is empty");
    }
    if (types.length != tokens.size()) {
      throw new IllegalArgumentException(
          "tokenizer: " + tokens.size() + " tokens but " + types.length + " token types");
    }
    this.vocabSize = tokens.size();
    this.types = types.clone();
    Map<String, Integer> tokenToId = new HashMap<>(vocabSize * 2);
    for (int id = 0; id < vocabSize; id++) {
      tokenToId.put(tokens.get(id), id); // the last of duplicate texts wins, as in llama.cpp
    }
    // llama.cpp forces CONTROL on "<|endoftext|>" (it is end-of-generation)
    Integer endOfText = tokenToId.get(END_OF_TEXT);
    if (endOfText != null && this.types[endOfText] != TYPE_CONTROL) {
      this.types[endOfText] = TYPE_CONTROL;
    }

    this.pieces = new byte[vocabSize][];
    for (int id = 0; id < vocabSize; id++) {
      pieces[id] = piece(tokens.get(id), this.types[id]);
    }

    // symbols: token ids, plus virtual ids for merge parts/results that are not tokens
    Map<String, Integer> virtualIds = new HashMap<>();
    List<String> virtualTexts = new ArrayList<>();
    java.util.function.Function<String, Integer> symbolOf =
        text -> {
          Integer id = tokenToId.get(text);
          if (id != null) {
            return id;
          }
          return virtualIds.computeIfAbsent(
              text,
              t -> {
                virtualTexts.add(t);
                return vocabSize + virtualTexts.size() - 1;
              });
        };
    for (int b = 0; b < 256; b++) {
      byteSymbols[b] = symbolOf.apply(ByteLevel.encodeByte(b));
    }
    this.merges = new PairRankMap(Math.max(16, merges.size()));
    for (int rank = 0; rank < merges.size(); rank++) {
      String merge = merges.get(rank);
      int space = merge.indexOf(' ', 1);
      String left = space < 0 ? "" : merge.substring(0, space);
      String right = space < 0 ? "" : merge.substring(space + 1);
      if (left.isEmpty() || right.isEmpty()) {
        continue; // llama.cpp records ("", "") which can never match
      }
      int l = symbolOf.apply(left);
      int r = symbolOf.apply(right);
      int m = symbolOf.apply(left + right);
      this.merges.putIfAbsent(l, r, rank, m);
    }
    this.virtualFallback = new int[virtualTexts.size()][];
    for (int i = 0; i < virtualTexts.size(); i++) {
      byte[] utf8 = virtualTexts.get(i).getBytes(StandardCharsets.UTF_8);
      int[] out = new int[utf8.length];
      int n = 0;
      for (byte b : utf8) {
        // llama.cpp looks each single byte of the byte-level text up as a token
        Integer id = (b & 0x80) == 0 ? tokenToId.get(String.valueOf((char) b)) : null;
        if (id != null) {
          out[n++] = id;
        }
      }
      virtualFallback[i] = Arrays.copyOf(out, n);
    }

    this.specialsParsed = SpecialTokens.of(tokens, this.types, true);
    this.specialsUserDefined = SpecialTokens.of(tokens, this.types, false);

    TreeSet<Integer> eog = new TreeSet<>();
    for (int id = 0; id < vocabSize; id++) {
      if (tokens.get(id).equals(END_OF_TEXT)) {
        eog.add(id);
      }
    }
    for (int id : new int[] {eos, eot, eom}) {
      if (id >= 0 && id < vocabSize) {
        eog.add(id);
      }
    }
    this.endOfGeneration = eog.stream().mapToInt(Integer::intValue).toArray();
    this.isEog = new boolean[vocabSize];
    for (int id : endOfGeneration) {
      isEog[id] = true;
    }
  }

  /**
   * Builds the tokenizer of a GGUF file's metadata ({@code tokenizer.ggml.*}).
   *
   * @throws IllegalArgumentException when the metadata is not a GLM byte-level BPE vocabulary
   */
  public static BpeTokenizer fromMetadata(GgufMetadata metadata) {
    String model = metadata.string("tokenizer.ggml.model").orElse("");
    if (!model.equals("gpt2")) {
      throw new IllegalArgumentException(
          "tokenizer: tokenizer.ggml.model is '"
              + model
              + "'; only 'gpt2' (byte-level BPE) is supported");
    }
    String pre = metadata.string("tokenizer.ggml.pre").orElse("");
    if (!pre.equals("glm4") && !pre.equals("chatglm-bpe")) {
      throw new IllegalArgumentException(
          "tokenizer: tokenizer.ggml.pre is '"
              + pre
              + "'; only 'glm4' and 'chatglm-bpe' are supported");
    }
    List<String> tokens =
        metadata
            .strings("tokenizer.ggml.tokens")
            .orElseThrow(
                () -> new IllegalArgumentException("tokenizer: tokenizer.ggml.tokens missing"));
    int[] types = metadata.ints("tokenizer.ggml.token_type").orElseGet(() -> filled(tokens.size()));
    List<String> merges = metadata.strings("tokenizer.ggml.merges").orElse(List.of());
    return new BpeTokenizer(
        tokens,
        types,
        merges,
        id(metadata, "tokenizer.ggml.eos_token_id"),
        id(metadata, "tokenizer.ggml.eot_token_id"),
        id(metadata, "tokenizer.ggml.eom_token_id"));
  }

  private static int[] filled(int n) {
    int[] t = new int[n];
    Arrays.fill(t, TYPE_NORMAL);
    return t;
  }

  private static int id(GgufMetadata metadata, String key) {
    Optional<Long> v = metadata.integer(key);
    return v.map(Long::intValue).orElse(-1);
  }

  private static byte[] piece(String text, int type) {
    switch (type) {
      case TYPE_CONTROL, TYPE_UNKNOWN, TYPE_USER_DEFINED -> {
        return text.getBytes(StandardCharsets.UTF_8);
      }
      case TYPE_NORMAL -> {
        return decodeByteLevel(text);
      }
      case TYPE_BYTE -> {
        int b =
            text.codePointCount(0, text.length()) == 1 ? ByteLevel.decode(text.codePointAt(0)) : -1;
        return b < 0 ? new byte[0] : new byte[] {(byte) b};
      }
      default -> {
        return new byte[0]; // unused and unknown types render as nothing
      }
    }
  }

  /** llama.cpp's llama_decode_text: byte-level code points back to bytes. */
  private static byte[] decodeByteLevel(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      int b = ByteLevel.decode(cp);
      if (b >= 0) {
        out.write(b);
      } else {
        StringBuilder unk = new StringBuilder("[UNK_BYTE_0x");
        for (byte x : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) {
          unk.append(String.format("%02x", x & 0xFF));
        }
        unk.append(text).append(']');
        out.writeBytes(unk.toString().getBytes(StandardCharsets.UTF_8));
      }
    }
    return out.toByteArray();
  }

  // ---------------------------------------------------------------------------------------------
  // encode

  @Override
  public int[] encode(String text, boolean parseSpecial) {
    String s = withoutUnpairedSurrogates(text);
    IntList out = new IntList(Math.max(16, s.length() / 2));
    Scratch scratch = new Scratch();
    SpecialTokens specials = parseSpecial ? specialsParsed : specialsUserDefined;
    specials.partition(s, (start, end) -> encodeFragment(s, start, end, scratch, out), out::add);
    return out.toArray();
  }

  @Override
  public int[] encode(String text, java.util.BitSet literal) {
    String s = withoutUnpairedSurrogates(text); // char for char: offsets stay
    IntList out = new IntList(Math.max(16, s.length() / 2));
    Scratch scratch = new Scratch();
    specialsParsed.partition(
        s, literal, (start, end) -> encodeFragment(s, start, end, scratch, out), out::add);
    return out.toArray();
  }

  private void encodeFragment(String s, int start, int end, Scratch scratch, IntList out) {
    int[] cps = scratch.codePoints(s, start, end);
    int n = scratch.numCodePoints;
    Llama3PreTokenizer.split(cps, 0, n, (ws, we) -> bpeWord(cps, ws, we, scratch, out));
  }

  /** Merges one word by rank and appends its tokens. */
  private void bpeWord(int[] cps, int from, int to, Scratch sc, IntList out) {
    int n = sc.utf8(cps, from, to);
    if (n == 1) {
      emitSymbol(byteSymbols[sc.bytes[0] & 0xFF], out);
      return;
    }
    int[] sym = sc.sym;
    int[] next = sc.next;
    int[] prev = sc.prev;
    boolean[] dead = sc.dead;
    for (int i = 0; i < n; i++) {
      sym[i] = byteSymbols[sc.bytes[i] & 0xFF];
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
      dead[i] = false;
    }
    LongHeap heap = sc.heap;
    heap.clear();
    for (int i = 0; i + 1 < n; i++) {
      pushPair(heap, sym, i, i + 1);
    }
    while (!heap.isEmpty()) {
      long top = heap.pop();
      int rank = (int) (top >>> 32);
      int left = (int) top;
      if (dead[left]) {
        continue;
      }
      int right = next[left];
      if (right < 0) {
        continue;
      }
      long merge = merges.get(sym[left], sym[right]);
      if (merge == PairRankMap.ABSENT || PairRankMap.rank(merge) != rank) {
        continue; // stale: one side changed since this pair was queued
      }
      sym[left] = PairRankMap.merged(merge);
      dead[right] = true;
      int after = next[right];
      next[left] = after;
      if (after >= 0) {
        prev[after] = left;
      }
      if (prev[left] >= 0) {
        pushPair(heap, sym, prev[left], left);
      }
      if (after >= 0) {
        pushPair(heap, sym, left, after);
      }
    }
    for (int i = 0; i >= 0; i = next[i]) {
      emitSymbol(sym[i], out);
    }
  }

  private void pushPair(LongHeap heap, int[] sym, int left, int right) {
    long merge = merges.get(sym[left], sym[right]);
    if (merge != PairRankMap.ABSENT) {
      heap.push(((long) PairRankMap.rank(merge) << 32) | left);
    }
  }

  private void emitSymbol(int symbol, IntList out) {
    if (symbol < vocabSize) {
      out.add(symbol);
    } else {
      for (int id : virtualFallback[symbol - vocabSize]) {
        out.add(id);
      }
    }
  }

  /** Replaces each unpaired surrogate by U+FFFD (it has no UTF-8 form). */
  static String withoutUnpairedSurrogates(String text) {
    int n = text.length();
    int i = 0;
    while (i < n) {
      char c = text.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < n
            && Character.isLowSurrogate(text.charAt(i + 1))) {
          i += 2;
          continue;
        }
        break;
      }
      i++;
    }
    if (i == n) {
      return text;
    }
    StringBuilder sb = new StringBuilder(n);
    for (int j = 0; j < n; j++) {
      char c = text.charAt(j);
      if (Character.isHighSurrogate(c)
          && j + 1 < n
          && Character.isLowSurrogate(text.charAt(j + 1))) {
        sb.append(c).append(text.charAt(++j));
      } else if (Character.isSurrogate(c)) {
        sb.append('\uFFFD');
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // decode

  @Override
  public String decode(int[] ids) {
    return new String(decodeBytes(ids), StandardCharsets.UTF_8);
  }

  /** The concatenated bytes of the ids (special tokens rendered). */
  public byte[] decodeBytes(int[] ids) {
    int total = 0;
    for (int id : ids) {
      total += bytesOf(id).length;
    }
    byte[] out = new byte[total];
    int pos = 0;
    for (int id : ids) {
      byte[] p = pieces[id];
      System.arraycopy(p, 0, out, pos, p.length);
      pos += p.length;
    }
    return out;
  }

  @Override
  public byte[] tokenBytes(int id) {
    return bytesOf(id).clone();
  }

  /** The piece of a token without copying (callers must not modify it). */
  byte[] bytesOf(int id) {
    if (id < 0 || id >= vocabSize) {
      throw new IllegalArgumentException(
          "token id "
              + id
              + " is out of range: the vocabulary has "
              + vocabSize
              + " tokens (0.."
              + (vocabSize - 1)
              + ")");
    }
    return pieces[id];
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  /** The token type from the file (after llama.cpp's adjustments). */
  public int tokenType(int id) {
    bytesOf(id);
    return types[id];
  }

  @Override
  public boolean isControl(int id) {
    int t = tokenType(id);
    return t == TYPE_CONTROL || t == TYPE_UNKNOWN || t == TYPE_UNUSED || isEndOfGeneration(id);
  }

  @Override
  public int[] endOfGenerationIds() {
    return endOfGeneration.clone();
  }

  @Override
  public boolean isEndOfGeneration(int id) {
    return id >= 0 && id < vocabSize && isEog[id];
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  /** Per-call working memory, grown as needed. */
  private static final class Scratch {
    int[] cps = new int[256];
    int numCodePoints;
    byte[] bytes = new byte[256];
    int[] sym = new int[256];
    int[] next = new int[256];
    int[] prev = new int[256];
    boolean[] dead = new boolean[256];
    final LongHeap heap = new LongHeap(256);

    int[] codePoints(String s, int start, int end) {
      if (cps.length < end - start) {
        cps = new int[end - start];
      }
      int n = 0;
      for (int i = start; i < end; ) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < end) {
          cps[n++] = Character.toCodePoint(c, s.charAt(i + 1));
          i += 2;
        } else {
          cps[n++] = c;
          i++;
        }
      }
      numCodePoints = n;
      return cps;
    }

    /** UTF-8 of cps[from, to) into {@link #bytes}; returns the length. */
    int utf8(int[] cp, int from, int to) {
      int max = (to - from) * 4;
      if (bytes.length < max) {
        int cap = Math.max(max, bytes.length * 2);
        bytes = new byte[cap];
        sym = new int[cap];
        next = new int[cap];
        prev = new int[cap];
        dead = new boolean[cap];
      }
      byte[] b = bytes;
      int n = 0;
      for (int i = from; i < to; i++) {
        int c = cp[i];
        if (c < 0x80) {
          b[n++] = (byte) c;
        } else if (c < 0x800) {
          b[n++] = (byte) (0xC0 | (c >> 6));
          b[n++] = (byte) (0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
          b[n++] = (byte) (0xE0 | (c >> 12));
          b[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
          b[n++] = (byte) (0x80 | (c & 0x3F));
        } else {
          b[n++] = (byte) (0xF0 | (c >> 18));
          b[n++] = (byte) (0x80 | ((c >> 12) & 0x3F));
          b[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
          b[n++] = (byte) (0x80 | (c & 0x3F));
        }
      }
      return n;
    }
  }

  /** Binary min-heap of longs. */
  static final class LongHeap {
    private long[] a;
    private int size;

    LongHeap(int capacity) {
      a = new long[capacity];
    }

    void clear() {
      size = 0;
    }

    boolean isEmpty() {
      return size == 0;
    }

    void push(long v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, size * 2);
      }
      int i = size++;
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        long p = a[parent];
        if (p <= v) {
          break;
        }
        a[i] = p;
        i = parent;
      }
      a[i] = v;
    }

    long pop() {
      long top = a[0];
      long last = a[--size];
      int i = 0;
      int half = size >>> 1;
      while (i < half) {
        int child = 2 * i + 1;
        long c = a[child];
        int r = child + 1;
        if (r < size && a[r] < c) {
          child = r;
          c = a[r];
        }
        if (last <= c) {
          break;
        }
        a[i] = c;
        i = child;
      }
      if (size > 0) {
        a[i] = last;
      }
      return top;
    }
  }

  /** Growable int array. */
  static final class IntList {
    private int[] a;
    private int size;

    IntList(int capacity) {
      a = new int[capacity];
    }

    void add(int v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, Math.max(16, size * 2));
      }
      a[size++] = v;
    }

    int[] toArray() {
      return Arrays.copyOf(a, size);
    }
  }
}
