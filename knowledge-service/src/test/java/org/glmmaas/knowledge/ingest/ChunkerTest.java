package org.glmmaas.knowledge.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkerTest {

  @Test
  void aShortParagraphIsOneChunkWithExactlyItsText() {
    List<Chunker.Chunk> chunks =
        new Chunker(256, 32)
            .chunk("# Title\n\nThe  first paragraph\nwraps here.\n\n\nSecond one.\n");
    assertThat(chunks)
        .extracting(Chunker.Chunk::text)
        .containsExactly("# Title", "The first paragraph wraps here.", "Second one.");
  }

  @Test
  void chineseParagraphsSplitAtSentenceEndsWithinTheTargetAndOverlap() {
    StringBuilder p = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      p.append("这是第").append(i).append("个句子，用来测试中文分块是否正确");
      p.append(i % 3 == 0 ? "。" : i % 3 == 1 ? "！" : "；");
    }
    List<Chunker.Chunk> chunks = new Chunker(64, 30).chunk(p.toString());
    assertThat(chunks).hasSizeGreaterThan(5);
    for (Chunker.Chunk c : chunks) {
      assertThat(c.tokens()).isLessThanOrEqualTo(64);
      // every chunk ends at a Chinese sentence end, never mid-sentence
      assertThat(c.text()).matches("(?s).*[。！；]$");
    }
    // overlap: the next chunk starts with the previous chunk's last sentence
    String first = chunks.get(0).text();
    String lastSentence = Chunker.sentences(first).getLast();
    assertThat(chunks.get(1).text()).startsWith(lastSentence);
    // nothing lost: every sentence appears in some chunk
    for (String s : Chunker.sentences(p.toString())) {
      assertThat(chunks).anyMatch(c -> c.text().contains(s));
    }
  }

  @Test
  void aSentenceOverTheTargetIsCutBetweenWords() {
    String longSentence = "word ".repeat(300).strip();
    List<Chunker.Chunk> chunks = new Chunker(50, 0).chunk(longSentence);
    assertThat(chunks).hasSizeGreaterThan(5);
    assertThat(chunks).allMatch(c -> c.tokens() <= 50);
    assertThat(chunks).allMatch(c -> !c.text().contains("wor d"));
  }

  @Test
  void tokenEstimateCountsCjkPerCharacterAndNeverUnderCountsWords() {
    assertThat(TokenEstimate.of("中文测试")).isEqualTo(4);
    assertThat(TokenEstimate.of("hello world")).isEqualTo(4);
    assertThat(TokenEstimate.of("a, b.")).isEqualTo(4);
  }
}
