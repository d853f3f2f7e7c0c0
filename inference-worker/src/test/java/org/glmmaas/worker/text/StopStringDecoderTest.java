package org.glmmaas.worker.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StopStringDecoderTest {

  private static final BpeTokenizer TOK =
      SyntheticVocab.build(SyntheticVocab.SAMPLE, 2000, 1).tokenizer();

  private record Run(List<String> deltas, String text, boolean stopped, String matched) {
    String joined() {
      return String.join("", deltas);
    }
  }

  private static Run run(int[] ids, List<String> stops) {
    StopStringDecoder d = new StopStringDecoder(TOK, stops);
    List<String> deltas = new ArrayList<>();
    for (int id : ids) {
      deltas.add(d.push(id));
      if (d.stopped()) {
        break;
      }
    }
    deltas.add(d.flush());
    return new Run(deltas, d.text(), d.stopped(), d.matchedStop());
  }

  @Test
  void chineseSplitAcrossByteTokensIsNeverEmittedHalfDone() {
    byte[] utf8 = "你好".getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[utf8.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = utf8[i] & 0xFF; // byte tokens: id = byte value
    }
    Run r = run(ids, List.of());
    assertThat(r.deltas()).containsExactly("", "", "你", "", "", "好", "");
    assertThat(r.text()).isEqualTo("你好");
  }

  @Test
  void stopStringAcrossTokensIsHeldThenCut() {
    int[] ids = TOK.encode("Hello wor", false);
    int[] more = TOK.encode("ld END here", false);
    int[] all = concat(ids, more);
    Run r = run(all, List.of("END"));
    assertThat(r.stopped()).isTrue();
    assertThat(r.matched()).isEqualTo("END");
    assertThat(r.text()).isEqualTo("Hello world ");
    assertThat(r.joined()).isEqualTo(r.text());
    assertThat(r.deltas()).noneMatch(d -> d.contains("E"));
  }

  @Test
  void partialStopIsReleasedWhenItDoesNotComplete() {
    int[] ids = TOK.encode("an EN, then more", false);
    Run r = run(ids, List.of("END"));
    assertThat(r.stopped()).isFalse();
    assertThat(r.matched()).isNull();
    assertThat(r.text()).isEqualTo("an EN, then more");
    assertThat(r.joined()).isEqualTo(r.text());
  }

  @Test
  void heldBackTailIsFlushedAtTheEnd() {
    int[] ids = TOK.encode("the end is E", false);
    StopStringDecoder d = new StopStringDecoder(TOK, List.of("EOF"));
    StringBuilder sb = new StringBuilder();
    for (int id : ids) {
      sb.append(d.push(id));
    }
    assertThat(sb.toString()).isEqualTo("the end is ");
    assertThat(d.flush()).isEqualTo("E");
    assertThat(d.text()).isEqualTo("the end is E");
  }

  @Test
  void rejectsEmptyStopStrings() {
    assertThatThrownBy(() -> new StopStringDecoder(TOK, List.of("")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("stop[0] is empty");
  }

  /**
   * Random token sequences (byte tokens that split characters included) and random stop strings:
   * the deltas concatenate to the final text; the final text is the one-shot decode cut at the
   * first stop string to complete; no delta splits a code point.
   */
  @Test
  void deltasConcatenateToTheFinalTextAndNeverSplitACodePoint() {
    Random r = new Random(4242);
    for (int trial = 0; trial < 1500; trial++) {
      int[] ids = randomIds(r);
      String full = TOK.decode(ids);
      List<String> stops = randomStops(r, full);
      Run run = run(ids, stops);

      assertThat(run.joined()).as("trial %d", trial).isEqualTo(run.text());
      for (String delta : run.deltas()) {
        assertThat(BpeTokenizer.withoutUnpairedSurrogates(delta)).isEqualTo(delta);
      }
      String expected = oracle(ids, stops);
      assertThat(run.text()).as("trial %d stops %s", trial, stops).isEqualTo(expected);
      assertThat(run.stopped())
          .isEqualTo(expected.length() < full.length() || (run.matched() != null));
    }
  }

  /** The one-shot answer: decode token prefixes, stop at the first prefix containing a stop. */
  private static String oracle(int[] ids, List<String> stops) {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    for (int id : ids) {
      bytes.writeBytes(TOK.tokenBytes(id));
      String complete = decodeComplete(bytes.toByteArray());
      int best = -1;
      for (String s : stops) {
        int at = complete.indexOf(s);
        if (at >= 0 && (best < 0 || at < best)) {
          best = at;
        }
      }
      if (best >= 0) {
        return complete.substring(0, best);
      }
    }
    return TOK.decode(ids);
  }

  /** Decodes every complete character, leaving a trailing incomplete one out. */
  private static String decodeComplete(byte[] bytes) {
    CharsetDecoder dec =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    CharBuffer out = CharBuffer.allocate(bytes.length * 2 + 4);
    dec.decode(ByteBuffer.wrap(bytes), out, false);
    out.flip();
    return out.toString();
  }

  private static int[] randomIds(Random r) {
    int n = 1 + r.nextInt(30);
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      int kind = r.nextInt(4);
      if (kind == 0) {
        ids[i] = 0x80 + r.nextInt(0x80); // a byte token: often half a character
      } else if (kind == 1) {
        byte[] b = "你好世界。".getBytes(StandardCharsets.UTF_8);
        ids[i] = b[r.nextInt(b.length)] & 0xFF;
      } else {
        ids[i] = 32 + r.nextInt(TOK.vocabSize() - 32 - SyntheticVocab.SPECIALS.length);
      }
    }
    return ids;
  }

  private static List<String> randomStops(Random r, String full) {
    List<String> stops = new ArrayList<>();
    int n = r.nextInt(3);
    for (int i = 0; i < n; i++) {
      if (full.length() > 2 && r.nextBoolean()) {
        int a = r.nextInt(full.length() - 1);
        int b = Math.min(full.length(), a + 1 + r.nextInt(6));
        String s = full.substring(a, b);
        if (!s.contains("\uFFFD") && BpeTokenizer.withoutUnpairedSurrogates(s).equals(s)) {
          stops.add(s);
        }
      } else {
        stops.add(List.of("\n", "END", "。", "ab", "你好").get(r.nextInt(5)));
      }
    }
    return stops;
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
