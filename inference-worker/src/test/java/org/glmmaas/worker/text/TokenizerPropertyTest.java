package org.glmmaas.worker.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Round trips over arbitrary Unicode, with a synthetic vocabulary and the reference one. */
class TokenizerPropertyTest {

  private static final BpeTokenizer SYNTHETIC =
      SyntheticVocab.build(SyntheticVocab.SAMPLE, 2000, 1).tokenizer();

  /** Random text mixing scripts, emoji, marks, odd whitespace, digits, apostrophes, specials. */
  static String randomText(Random r, int maxLen, boolean loneSurrogates) {
    StringBuilder sb = new StringBuilder();
    int len = r.nextInt(maxLen + 1);
    String[] pieces = {
      " ",
      "  ",
      "\n",
      "\r\n",
      "\t",
      "\u00A0",
      "\u0085",
      "\u3000",
      "\u2028",
      "'s",
      "'LL",
      "'Re",
      "'",
      "<|user|>",
      "[gMASK]",
      "<sop>",
      "<|endoftext|>",
      "<|user",
      "0x1F",
      "1234567",
      "你好",
      "。",
      "，",
      "😀",
      "👍🏽",
      "é",
      "e\u0301",
      "ß",
      "İ",
      "ﬁ",
      "Ⅻ",
      "½",
      "٣",
      "\u200D",
      "\uFEFF",
      "\u0000",
      "\u007F"
    };
    while (sb.length() < len) {
      switch (r.nextInt(6)) {
        case 0 -> sb.append(pieces[r.nextInt(pieces.length)]);
        case 1 -> sb.append((char) (0x20 + r.nextInt(0x5F)));
        case 2 -> sb.append((char) (0x4E00 + r.nextInt(0x5000)));
        case 3 -> sb.appendCodePoint(0x10000 + r.nextInt(0x100000 - 0x10000 + 0xFFFF));
        case 4 -> {
          char c = (char) r.nextInt(0x10000);
          if (!Character.isSurrogate(c) || loneSurrogates) {
            sb.append(c);
          }
        }
        default -> sb.append("word").append(r.nextInt(100));
      }
    }
    return sb.toString();
  }

  @Test
  void decodeOfEncodeIsTheTextForArbitraryUnicode() {
    Random r = new Random(20261128);
    for (int i = 0; i < 3000; i++) {
      String s = randomText(r, 60, false);
      assertThat(SYNTHETIC.decode(SYNTHETIC.encode(s, true))).as("case %d", i).isEqualTo(s);
      assertThat(SYNTHETIC.decode(SYNTHETIC.encode(s, false))).as("case %d", i).isEqualTo(s);
    }
  }

  @Test
  void unpairedSurrogatesBecomeReplacementCharacters() {
    Random r = new Random(7);
    for (int i = 0; i < 1000; i++) {
      String s = randomText(r, 40, true);
      String expected = BpeTokenizer.withoutUnpairedSurrogates(s);
      assertThat(SYNTHETIC.decode(SYNTHETIC.encode(s, true))).isEqualTo(expected);
    }
    assertThat(SYNTHETIC.decode(SYNTHETIC.encode("a\uD800b\uDC00c\uD83D", true)))
        .isEqualTo("a\uFFFDb\uFFFDc\uFFFD");
    assertThat(SYNTHETIC.decode(SYNTHETIC.encode("\uD83D\uDE00", true))).isEqualTo("😀");
  }

  @Test
  void specialTokensAreParsedOnlyWhenAsked() {
    int user = SYNTHETIC.encode("<|user|>", true)[0];
    assertThat(SYNTHETIC.encode("<|user|>", true)).containsExactly(user);
    assertThat(SYNTHETIC.encode("<|user|>", false)).hasSizeGreaterThan(1).doesNotContain(user);
    assertThat(SYNTHETIC.isEndOfGeneration(user)).isTrue();
    assertThat(SYNTHETIC.isEndOfGeneration(SYNTHETIC.encode("<|endoftext|>", true)[0])).isTrue();
    assertThat(SYNTHETIC.isEndOfGeneration(SYNTHETIC.encode("<sop>", true)[0])).isFalse();
  }

  @Test
  void invalidUtf8InTokensDecodesToReplacementCharacters() {
    // byte tokens 0xE4 0xBD (two thirds of 你) then 'a'
    int e4 = 0xE4;
    int bd = 0xBD;
    int a = SYNTHETIC.encode("a", false)[0];
    assertThat(SYNTHETIC.decode(new int[] {e4, bd, a})).isEqualTo("\uFFFDa");
    assertThat(SYNTHETIC.decode(new int[] {e4, bd, 0xA0})).isEqualTo("你");
  }

  @Test
  void outOfRangeIdsAreRejectedWithTheRange() {
    assertThatThrownBy(() -> SYNTHETIC.decode(new int[] {SYNTHETIC.vocabSize()}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("out of range");
    assertThatThrownBy(() -> SYNTHETIC.tokenBytes(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void roundTripOnTheReferenceVocabulary() {
    ReferenceFiles.assumeAvailable();
    BpeTokenizer ref = (BpeTokenizer) ReferenceFiles.textModel("tiny-glm4-f32.gguf").tokenizer();
    Random r = new Random(99);
    for (int i = 0; i < 2000; i++) {
      String s = randomText(r, 80, false);
      assertThat(ref.decode(ref.encode(s, true))).isEqualTo(s);
    }
  }

  @Test
  void referenceEndOfGenerationSetIsEndOfTextAndUser() {
    ReferenceFiles.assumeAvailable();
    BpeTokenizer ref = (BpeTokenizer) ReferenceFiles.textModel("tiny-glm4-f32.gguf").tokenizer();
    assertThat(ref.endOfGenerationIds()).containsExactly(1500, 1507);
    assertThat(ref.vocabSize()).isEqualTo(1536);
    assertThat(new String(ref.tokenBytes(1502), java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("[gMASK]");
    assertThat(ref.tokenBytes(1520)).isEmpty(); // unused padding renders as nothing
  }
}
