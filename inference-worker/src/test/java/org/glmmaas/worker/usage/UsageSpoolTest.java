package org.glmmaas.worker.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk spool keeps every accepted record, in order, across restarts and torn writes. */
class UsageSpoolTest {

  @TempDir Path dir;

  private static byte[] rec(int i) {
    return ("event-" + i).getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> payloads(List<UsageSpool.Entry> entries) {
    return entries.stream().map(e -> new String(e.payload(), StandardCharsets.UTF_8)).toList();
  }

  @Test
  void recordsComeBackInOrderAcrossSegmentsAndRestarts() {
    try (UsageSpool spool = new UsageSpool(dir, 1 << 20, 1024)) { // small segments: many files
      IntStream.range(0, 300).forEach(i -> spool.append(rec(i)));
      List<UsageSpool.Entry> first = spool.peek(100);
      assertThat(payloads(first)).first().isEqualTo("event-0");
      spool.ack(first.getLast().next(), first.size());
    }
    try (UsageSpool reopened = new UsageSpool(dir, 1 << 20, 1024)) {
      assertThat(reopened.pendingRecords()).isEqualTo(200);
      List<UsageSpool.Entry> rest = reopened.peek(1000);
      assertThat(payloads(rest))
          .containsExactlyElementsOf(
              IntStream.range(100, 300).mapToObj(i -> "event-" + i).toList());
      reopened.ack(rest.getLast().next(), rest.size());
      assertThat(reopened.isEmpty()).isTrue();
      assertThat(reopened.peek(10)).isEmpty();
    }
    try (UsageSpool again = new UsageSpool(dir, 1 << 20, 1024)) {
      assertThat(again.isEmpty()).isTrue();
      assertThat(again.bytes()).isZero(); // delivered segments are deleted
    }
  }

  @Test
  void aTornTailFromACrashIsCutOffAndEarlierRecordsSurvive() throws IOException {
    try (UsageSpool spool = new UsageSpool(dir, 1 << 20, 1 << 16)) {
      IntStream.range(0, 5).forEach(i -> spool.append(rec(i)));
    }
    Path segment;
    try (var files = Files.list(dir)) {
      segment =
          files
              .filter(p -> p.getFileName().toString().startsWith("segment-"))
              .findFirst()
              .orElseThrow();
    }
    // a crash in the middle of an append: a header promising 100 bytes and 3 bytes of body
    Files.write(segment, new byte[] {0, 0, 0, 100, 1, 2, 3, 4, 9, 9, 9}, StandardOpenOption.APPEND);
    try (UsageSpool spool = new UsageSpool(dir, 1 << 20, 1 << 16)) {
      assertThat(spool.pendingRecords()).isEqualTo(5);
      spool.append(rec(5));
      assertThat(payloads(spool.peek(100)))
          .containsExactly("event-0", "event-1", "event-2", "event-3", "event-4", "event-5");
    }
  }

  @Test
  void aRecordWithABadChecksumIsNotDeliveredAsData() throws IOException {
    try (UsageSpool spool = new UsageSpool(dir, 1 << 20, 1 << 16)) {
      spool.append(rec(0));
      spool.append(rec(1));
    }
    Path segment;
    try (var files = Files.list(dir)) {
      segment =
          files
              .filter(p -> p.getFileName().toString().startsWith("segment-"))
              .findFirst()
              .orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(segment);
    bytes[bytes.length - 1] ^= 0x55; // flip bits in the last record's payload
    Files.write(segment, bytes);
    try (UsageSpool spool = new UsageSpool(dir, 1 << 20, 1 << 16)) {
      assertThat(payloads(spool.peek(10))).containsExactly("event-0");
    }
  }

  @Test
  void aFullSpoolRefusesLoudlyAndKeepsWhatItHas() {
    try (UsageSpool spool = new UsageSpool(dir, 1024, 1024)) {
      byte[] big = new byte[200];
      int stored = 0;
      try {
        while (true) {
          spool.append(big);
          stored++;
        }
      } catch (SpoolFullException e) {
        assertThat(e).hasMessageContaining("usage spool full");
      }
      assertThat(stored).isEqualTo(4); // 4 * (8 + 200) <= 1024 < 5 * 208
      assertThat(spool.peek(10)).hasSize(4);
      assertThatThrownBy(() -> spool.append(big)).isInstanceOf(SpoolFullException.class);
    }
  }

  /**
   * A crash (no close) before the cursor was checkpointed re-delivers what was acknowledged since
   * the last checkpoint — at least once, never less — and appended records survive without sync.
   */
  @Test
  void acksAreDurableOnlyFromTheCheckpointOnAndAppendsSurviveACrash() {
    UsageSpool crashed = new UsageSpool(dir, 1 << 20, 1 << 16);
    UsageSpool.Position fifth = null;
    for (int i = 0; i < 10; i++) {
      UsageSpool.Position p = crashed.append(rec(i));
      if (i == 4) {
        fifth = p;
      }
    }
    crashed.ack(fifth, 5);
    assertThat(crashed.pendingRecords()).isEqualTo(5);
    assertThat(crashed.pendingBytes()).isEqualTo(5L * (UsageSpool.HEADER + rec(9).length));
    crashed.ack(new UsageSpool.Position(0, 0), 1); // a late ack behind the cursor changes nothing
    assertThat(crashed.pendingRecords()).isEqualTo(5);
    // the process dies here: no sync, no checkpoint, no close
    try (UsageSpool reopened = new UsageSpool(dir, 1 << 20, 1 << 16)) {
      assertThat(payloads(reopened.peek(100))).hasSize(10).first().isEqualTo("event-0");
      List<UsageSpool.Entry> all = reopened.peek(5);
      reopened.ack(all.getLast().next(), all.size());
      reopened.checkpoint();
    }
    try (UsageSpool again = new UsageSpool(dir, 1 << 20, 1 << 16)) {
      assertThat(payloads(again.peek(100)))
          .containsExactlyElementsOf(IntStream.range(5, 10).mapToObj(i -> "event-" + i).toList());
    }
  }
}
