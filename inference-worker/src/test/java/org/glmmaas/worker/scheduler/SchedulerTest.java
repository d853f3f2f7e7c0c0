package org.glmmaas.worker.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.worker.scheduler.FakeTextModel.greedy;
import static org.glmmaas.worker.scheduler.SchedulerHarness.prompt;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.glmmaas.worker.engine.ForwardBatch;
import org.glmmaas.worker.sample.SamplingConfig;
import org.glmmaas.worker.scheduler.SchedulerHarness.Collected;
import org.junit.jupiter.api.Test;

class SchedulerTest {

  private static SchedulerHarness harness(int maxSeqs, int maxTokens, int numBlocks) {
    return new SchedulerHarness(
        new SchedulerConfig(maxSeqs, maxTokens, Math.min(8192, numBlocks * 16), 10_000),
        16,
        numBlocks,
        true);
  }

  /** What one prompt produces when it runs alone on a roomy worker. */
  private static List<Integer> alone(int[] prompt, SamplingConfig sampling) {
    SchedulerHarness h = harness(4, 512, 512);
    Collected c = h.submit(prompt, sampling);
    h.runUntilIdle(10_000);
    return c.tokens();
  }

  @Test
  void tokenBudgetAndSequenceCapAreNeverExceeded() {
    SchedulerHarness h = harness(5, 64, 256);
    SplittableRandom rnd = new SplittableRandom(7);
    for (int i = 0; i < 40; i++) {
      h.submit(prompt(i, 1 + rnd.nextInt(150)), greedy(1 + rnd.nextInt(30)));
    }
    h.runUntilIdle(10_000);
    assertThat(h.engine.batches).isNotEmpty();
    for (ForwardBatch b : h.engine.batches) {
      assertThat(b.numTokens()).isLessThanOrEqualTo(64);
      assertThat(b.numSeqs()).isLessThanOrEqualTo(5);
    }
    assertThat(h.engine.batches).anyMatch(b -> b.numTokens() == 64);
    assertThat(h.engine.batches).anyMatch(b -> b.numSeqs() == 5);
  }

  @Test
  void everyRequestFinishesAndAdmissionIsFirstComeFirstServed() {
    SchedulerHarness h = harness(3, 48, 256);
    List<Collected> all = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      all.add(h.submit(prompt(i, 5 + i % 7 * 10), greedy(5 + i % 4 * 10)));
    }
    h.runUntilIdle(5_000);
    List<java.time.Instant> firstScheduled = new ArrayList<>();
    for (Collected c : all) {
      assertThat(c.finish()).isNotNull();
      assertThat(c.finish().reason()).isEqualTo(FinishReason.LENGTH);
      assertThat(c.tokens()).hasSize(c.request.sampling().maxTokens());
    }
    // FCFS: the set of running requests only ever admits the oldest waiting one
    int[] admittedOrder =
        h.steps.stream()
            .flatMap(s -> s.scheduled().stream())
            .mapToInt(s -> Integer.parseInt(s.request().requestId().substring(4)))
            .distinct()
            .toArray();
    for (int i = 1; i < admittedOrder.length; i++) {
      assertThat(admittedOrder[i]).isGreaterThan(admittedOrder[i - 1]);
    }
  }

  @Test
  void aLongPromptIsPrefilledInChunksWhileOthersKeepDecoding() {
    SchedulerHarness h = harness(8, 512, 512);
    Collected a = h.submit(prompt(1, 10), greedy(100));
    Collected b = h.submit(prompt(2, 12), greedy(100));
    h.step();
    h.step();
    Collected longOne = h.submit(prompt(3, 4000), greedy(5));
    int stepsWithLongPrefill = 0;
    while (longOne.tokens().isEmpty()) {
      int before = a.tokens().size();
      int beforeB = b.tokens().size();
      SchedulerOutput out = h.step();
      assertThat(out.numScheduledTokens()).isLessThanOrEqualTo(512);
      // the decoders got their token in this very step
      assertThat(a.tokens()).hasSize(before + 1);
      assertThat(b.tokens()).hasSize(beforeB + 1);
      stepsWithLongPrefill++;
    }
    assertThat(stepsWithLongPrefill).isEqualTo((int) Math.ceil(4000 / 510.0));
    h.runUntilIdle(1000);
    assertThat(longOne.tokens()).isEqualTo(alone(prompt(3, 4000), greedy(5)));
    assertThat(a.tokens()).isEqualTo(alone(prompt(1, 10), greedy(100)));
  }

  @Test
  void aSharedPrefixIsServedFromTheCacheAndGivesTheSameOutput() {
    int[] system = prompt(42, 100);
    int[] p1 = SchedulerHarness.concat(system, prompt(1, 7));
    int[] p2 = SchedulerHarness.concat(system, prompt(2, 9));
    SchedulerHarness h = harness(4, 512, 256);
    Collected first = h.submit(p1, greedy(10));
    h.runUntilIdle(100);
    Collected second = h.submit(p2, greedy(10));
    h.step();
    int[] firstTableAfter = second.request.blockTable().blockIds();
    h.runUntilIdle(100);

    assertThat(first.finish().numCachedTokens()).isZero();
    assertThat(second.finish().numCachedTokens()).isEqualTo(96); // 6 full blocks of 16
    assertThat(firstTableAfter).hasSizeGreaterThanOrEqualTo(6);
    assertThat(second.tokens()).isEqualTo(alone(p2, greedy(10)));
    assertThat(h.usage).extracting(e -> e.getCachedTokens()).containsExactly(0, 96);
    assertThat(h.kv.numHits()).isEqualTo(6);
  }

  @Test
  void concurrentSequencesSharePrefixBlocksWithReferenceCounts() {
    int[] system = prompt(42, 64);
    SchedulerHarness h = harness(4, 512, 256);
    Collected first = h.submit(SchedulerHarness.concat(system, prompt(1, 3)), greedy(50));
    h.step();
    Collected second = h.submit(SchedulerHarness.concat(system, prompt(2, 3)), greedy(50));
    h.step();
    int[] t1 = first.request.blockTable().blockIds();
    int[] t2 = second.request.blockTable().blockIds();
    for (int i = 0; i < 4; i++) {
      assertThat(t2[i]).isEqualTo(t1[i]);
      assertThat(h.kv.pool().block(t1[i]).refCount()).isEqualTo(2);
    }
    assertThat(t2[4]).isNotEqualTo(t1[4]);
    second.request.cancel(FinishReason.CANCELLED);
    h.step();
    assertThat(h.kv.pool().block(t1[0]).refCount()).isEqualTo(1);
    h.runUntilIdle(200);
    assertThat(h.kv.pool().block(t1[0]).refCount()).isZero();
    assertThat(h.kv.pool().numFreeBlocks()).isEqualTo(256);
  }

  @Test
  void tenantsNeverShareCachedBlocks() {
    int[] p = prompt(42, 100);
    SchedulerHarness h = harness(4, 512, 256);
    h.submit(p, greedy(3), "tenant-a", 0, null);
    h.runUntilIdle(100);
    Collected other = h.submit(p, greedy(3), "tenant-b", 0, null);
    h.runUntilIdle(100);
    Collected same = h.submit(p, greedy(3), "tenant-a", 0, null);
    h.runUntilIdle(100);
    assertThat(other.finish().numCachedTokens()).isZero();
    assertThat(same.finish().numCachedTokens()).isEqualTo(96);
    assertThat(other.tokens()).isEqualTo(same.tokens());
  }

  @Test
  void noBlockLeaksAfterTenThousandRandomRequestsWithRandomCancellations() {
    SchedulerHarness h = harness(16, 256, 40);
    h.engine.recordBatches = false;
    SplittableRandom rnd = new SplittableRandom(2026);
    int[][] systems = {prompt(100, 40), prompt(101, 70), prompt(102, 20)};
    List<Collected> live = new ArrayList<>();
    int submitted = 0;
    int cancelled = 0;
    while (submitted < 10_000 || h.scheduler.hasWork()) {
      for (int k = 0; k < 4 && submitted < 10_000; k++, submitted++) {
        int[] tail = prompt(rnd.nextLong(), 1 + rnd.nextInt(40));
        int[] p = rnd.nextBoolean() ? SchedulerHarness.concat(systems[rnd.nextInt(3)], tail) : tail;
        live.add(
            h.submit(p, greedy(1 + rnd.nextInt(30)), "t" + rnd.nextInt(3), rnd.nextInt(2), null));
      }
      for (Collected c : live) {
        if (c.finish() == null && rnd.nextInt(40) == 0) {
          c.request.cancel(FinishReason.CANCELLED);
          cancelled++;
        }
      }
      live.removeIf(c -> c.finish() != null);
      h.step();
    }
    assertThat(cancelled).isGreaterThan(500);
    assertThat(h.kv.pool().numFreeBlocks()).isEqualTo(40);
    for (int i = 0; i < 40; i++) {
      assertThat(h.kv.pool().block(i).refCount()).isZero();
    }
    h.kv.pool().checkInvariants();
    assertThat(h.kv.numHits()).isGreaterThan(0);
    assertThat(h.scheduler.numPreemptionsTotal()).isGreaterThan(0);
  }

  @Test
  void preemptedRequestsAreRecomputedAndGiveTheSameTokens() {
    // 12 blocks of 16 tokens = 192 tokens for 6 sequences that each want 20 + 60
    SchedulerHarness h = new SchedulerHarness(new SchedulerConfig(6, 256, 128, 100), 16, 12, true);
    List<Collected> all = new ArrayList<>();
    List<int[]> prompts = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      prompts.add(prompt(i, 20));
      all.add(h.submit(prompts.get(i), FakeTextModel.seeded(i, 60)));
    }
    h.runUntilIdle(10_000);
    int preemptions = 0;
    for (int i = 0; i < 6; i++) {
      Collected c = all.get(i);
      assertThat(c.finish().reason()).isEqualTo(FinishReason.LENGTH);
      assertThat(c.tokens()).isEqualTo(alone(prompts.get(i), FakeTextModel.seeded(i, 60)));
      preemptions += c.finish().timings().numPreemptions();
    }
    assertThat(preemptions).isPositive();
    assertThat(h.usage).extracting(e -> e.getNumPreemptions()).contains(0).anyMatch(n -> n > 0);
    assertThat(h.kv.pool().numFreeBlocks()).isEqualTo(12);
  }

  @Test
  void whenBlocksRunOutBatchLinesArePreemptedBeforeAnInteractiveCall() {
    // 12 blocks of 16 tokens; five batch lines (priority 10) run first, then an interactive call
    // (priority 0) joins, newest of all: the lines give their blocks up, the call never does
    SchedulerHarness h = new SchedulerHarness(new SchedulerConfig(6, 256, 128, 100), 16, 12, true);
    List<Collected> lines = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      lines.add(h.submit(prompt(i, 20), FakeTextModel.seeded(i, 60), "tenant-a", 10, null));
    }
    h.step();
    h.step();
    int[] p = prompt(9, 20);
    Collected interactive = h.submit(p, FakeTextModel.seeded(9, 60), "tenant-a", 0, null);
    h.runUntilIdle(10_000);
    assertThat(interactive.finish().reason()).isEqualTo(FinishReason.LENGTH);
    assertThat(interactive.tokens()).isEqualTo(alone(p, FakeTextModel.seeded(9, 60)));
    assertThat(interactive.finish().timings().numPreemptions()).isZero();
    assertThat(lines.stream().mapToInt(c -> c.finish().timings().numPreemptions()).sum())
        .isPositive();
  }

  @Test
  void aRequestIsReportedScheduledOnceAtItsFirstPrefillWithItsTimeQueued() {
    // one sequence at a time: the second request waits in the queue while the first runs
    SchedulerHarness h = harness(1, 512, 256);
    Collected first = h.submit(prompt(1, 20), greedy(5));
    Collected second = h.submit(prompt(2, 20), greedy(5));
    assertThat(first.scheduled).isEmpty(); // arrival is not acceptance
    h.step();
    assertThat(first.scheduled).containsExactly(Duration.ZERO);
    assertThat(second.scheduled).isEmpty();
    h.clock.advance(Duration.ofSeconds(5));
    while (second.scheduled.isEmpty()) {
      h.step();
    }
    assertThat(first.finish()).isNotNull();
    h.runUntilIdle(1000);
    assertThat(second.scheduled).containsExactly(Duration.ofSeconds(5));
    assertThat(first.scheduled).hasSize(1);
    assertThat(second.outputsBeforeScheduled).containsExactly(0);
  }

  @Test
  void aPreemptedRequestIsNotReportedScheduledAgain() {
    SchedulerHarness h = new SchedulerHarness(new SchedulerConfig(6, 256, 128, 100), 16, 12, true);
    List<Collected> all = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      all.add(h.submit(prompt(i, 20), FakeTextModel.seeded(i, 60)));
    }
    h.runUntilIdle(10_000);
    assertThat(all).anyMatch(c -> c.finish().timings().numPreemptions() > 0);
    for (Collected c : all) {
      assertThat(c.scheduled).hasSize(1);
      assertThat(c.outputsBeforeScheduled).containsExactly(0);
    }
  }

  @Test
  void theNewestRunningSequenceIsPreempted() {
    SchedulerHarness h = new SchedulerHarness(new SchedulerConfig(4, 256, 64, 100), 16, 4, false);
    Collected old = h.submit(prompt(1, 16), greedy(40));
    h.step();
    Collected newer = h.submit(prompt(2, 16), greedy(40));
    h.step();
    h.step();
    // both now need a third and fourth block...
    for (int i = 0; i < 20; i++) {
      h.step();
    }
    assertThat(old.request.numPreemptions()).isZero();
    assertThat(newer.request.numPreemptions()).isPositive();
    h.runUntilIdle(1000);
  }

  @Test
  void cancellationTakesEffectAtTheNextStepAndFreesBlocks() {
    SchedulerHarness h = harness(4, 512, 64);
    Collected c = h.submit(prompt(1, 50), greedy(100));
    h.step();
    h.step();
    assertThat(h.kv.pool().numFreeBlocks()).isLessThan(64);
    c.request.cancel(FinishReason.CANCELLED);
    SchedulerOutput out = h.step();
    assertThat(out.isEmpty()).isTrue();
    assertThat(c.finish().reason()).isEqualTo(FinishReason.CANCELLED);
    assertThat(c.finish().numCompletionTokens()).isEqualTo(2);
    assertThat(h.kv.pool().numFreeBlocks()).isEqualTo(64);
    assertThat(h.usage)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getFinishReason()).isEqualTo("cancelled");
              assertThat(e.getCompletionTokens()).isEqualTo(2);
              assertThat(e.getPromptTokens()).isEqualTo(50);
            });
  }

  @Test
  void aRequestCancelledBeforeAnyEngineWorkIsNotBilled() {
    SchedulerHarness h = harness(1, 512, 64);
    h.submit(prompt(1, 10), greedy(5));
    Collected queued = h.submit(prompt(2, 10), greedy(5));
    h.step();
    queued.request.cancel(FinishReason.CANCELLED);
    h.runUntilIdle(100);
    assertThat(queued.finish().reason()).isEqualTo(FinishReason.CANCELLED);
    assertThat(queued.finish().consumedEngineWork()).isFalse();
    assertThat(h.usage).hasSize(1);
  }

  @Test
  void deadlinesEndRequestsWhetherRunningOrQueued() {
    SchedulerHarness h = harness(1, 512, 64);
    Collected running =
        h.submit(prompt(1, 10), greedy(1000), "t", 0, h.clock.instant().plusSeconds(2));
    Collected queued = h.submit(prompt(2, 10), greedy(5), "t", 0, h.clock.instant().plusSeconds(1));
    h.step();
    h.step();
    h.clock.advance(Duration.ofMillis(1500));
    h.step();
    assertThat(queued.finish().reason()).isEqualTo(FinishReason.DEADLINE_EXCEEDED);
    assertThat(running.finish()).isNull();
    h.clock.advance(Duration.ofSeconds(1));
    h.step();
    assertThat(running.finish().reason()).isEqualTo(FinishReason.DEADLINE_EXCEEDED);
    assertThat(running.finish().numCompletionTokens()).isEqualTo(3);
    assertThat(h.kv.pool().numFreeBlocks()).isEqualTo(64);
    assertThat(h.usage).extracting(e -> e.getFinishReason()).containsExactly("deadline_exceeded");
  }

  @Test
  void lowerPriorityValuesRunFirstAndFcfsWithinAPriority() {
    SchedulerHarness h = harness(1, 512, 64);
    Collected busy = h.submit(prompt(0, 5), greedy(2));
    h.step();
    Collected late = h.submit(prompt(1, 5), greedy(2), "t", 5, null);
    Collected urgent1 = h.submit(prompt(2, 5), greedy(2), "t", -1, null);
    Collected urgent2 = h.submit(prompt(3, 5), greedy(2), "t", -1, null);
    Collected normal = h.submit(prompt(4, 5), greedy(2), "t", 0, null);
    h.runUntilIdle(100);
    List<String> order =
        h.steps.stream()
            .flatMap(s -> s.scheduled().stream())
            .map(s -> s.request().requestId())
            .distinct()
            .toList();
    assertThat(order)
        .containsExactly(
            busy.request.requestId(),
            urgent1.request.requestId(),
            urgent2.request.requestId(),
            normal.request.requestId(),
            late.request.requestId());
  }

  @Test
  void endOfGenerationAndStopStringsEndWithStop() {
    SchedulerHarness h = harness(4, 512, 64);
    h.engine.forcedToken = pos -> pos == 11 ? 0 : -1; // EOS as the 3rd generated token
    Collected eos = h.submit(prompt(1, 10), greedy(50));
    h.runUntilIdle(100);
    assertThat(eos.finish().reason()).isEqualTo(FinishReason.STOP);
    assertThat(eos.finish().numCompletionTokens()).isEqualTo(3);
    assertThat(eos.text()).hasSize(2).doesNotContain("<eos>");

    h.engine.forcedToken = pos -> pos >= 9 ? 1 + (pos - 9) % 26 : -1; // "abcdef..."
    SamplingConfig withStop =
        new SamplingConfig(0f, 1f, 0, 0f, 1f, 0f, 0f, false, 0, 50, List.of("de"), false, false, 0);
    Collected stop = h.submit(prompt(2, 10), withStop);
    h.runUntilIdle(100);
    assertThat(stop.finish().reason()).isEqualTo(FinishReason.STOP);
    assertThat(stop.finish().matchedStop()).isEqualTo("de");
    assertThat(stop.text()).isEqualTo("abc");
  }

  @Test
  void anEngineFailureEndsTheStepsRequestsWithErrorAndTheWorkerGoesOn() {
    SchedulerHarness h = harness(4, 512, 64);
    Collected a = h.submit(prompt(1, 10), greedy(5));
    h.engine.failNext.set(1);
    h.step();
    assertThat(a.finish().reason()).isEqualTo(FinishReason.ERROR);
    assertThat(a.finish().errorMessage()).contains("scripted failure");
    assertThat(h.kv.pool().numFreeBlocks()).isEqualTo(64);
    Collected b = h.submit(prompt(1, 10), greedy(5));
    h.runUntilIdle(100);
    assertThat(b.finish().reason()).isEqualTo(FinishReason.LENGTH);
    assertThat(h.usage).extracting(e -> e.getFinishReason()).containsExactly("error", "length");
  }

  @Test
  void usageIsPublishedExactlyOncePerBilledRequest() {
    SchedulerHarness h = harness(8, 128, 128);
    SplittableRandom rnd = new SplittableRandom(3);
    List<Collected> all = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      all.add(h.submit(prompt(i, 1 + rnd.nextInt(60)), greedy(1 + rnd.nextInt(20))));
      if (i % 10 == 0) {
        h.step();
      }
      if (i % 7 == 0) {
        all.get(rnd.nextInt(all.size())).request.cancel(FinishReason.CANCELLED);
      }
    }
    h.runUntilIdle(10_000);
    Map<String, Integer> count = new HashMap<>();
    h.usage.forEach(e -> count.merge(e.getRequestId(), 1, Integer::sum));
    assertThat(count.values()).allMatch(n -> n == 1);
    long billable = all.stream().filter(c -> c.finish().consumedEngineWork()).count();
    assertThat(h.usage).hasSize((int) billable);
    assertThat(h.usage).allSatisfy(e -> assertThat(e.getWorkerId()).isEqualTo("worker-test"));
  }

  @Test
  void timingsAreReported() {
    SchedulerHarness h = harness(1, 512, 64);
    Collected a = h.submit(prompt(1, 10), greedy(3));
    h.clock.advance(Duration.ofMillis(100));
    h.step(); // prefill + first token
    h.clock.advance(Duration.ofMillis(10));
    h.step();
    h.clock.advance(Duration.ofMillis(10));
    h.step();
    RequestTimings t = a.finish().timings();
    assertThat(t.queue()).isEqualTo(Duration.ofMillis(100));
    assertThat(t.timeToFirstToken()).isEqualTo(Duration.ofMillis(100));
    assertThat(t.decode()).isEqualTo(Duration.ofMillis(20));
    assertThat(t.total()).isEqualTo(Duration.ofMillis(120));
  }
}
