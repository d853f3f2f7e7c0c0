package org.glmmaas.worker.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.worker.scheduler.SchedulerHarness.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.glmmaas.worker.scheduler.SchedulerHarness.Collected;
import org.junit.jupiter.api.Test;

/** n choices of one request: forks of choice 0's prompt blocks, one usage event, no leaks. */
class ChoiceGroupTest {

  private static List<Collected> submitGroup(SchedulerHarness h, int[] prompt, int n, int seed) {
    ChoiceGroup g = new ChoiceGroup(n);
    List<Collected> out = new ArrayList<>();
    List<Request> requests = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Collected c = new Collected();
      Request r = h.request(prompt, FakeTextModel.seeded(seed + i, 12), "t", 0, null, c);
      r.joinGroup(g, i);
      requests.add(r);
      out.add(c);
    }
    requests.forEach(h.scheduler::add);
    return out;
  }

  @Test
  void choicesShareThePromptsFullBlocksAndPublishOneUsageEvent() {
    SchedulerHarness h = new SchedulerHarness(new SchedulerConfig(8, 256, 512, 100), 16, 64, false);
    int[] p = prompt(7, 40); // 2 full blocks + 8 tokens
    List<Collected> choices = submitGroup(h, p, 3, 1);
    h.step(); // choice 0's prefill; the others wait for it
    assertThat(h.steps.getFirst().batch().numTokens()).isEqualTo(40);
    h.step(); // the forks compute only their partial block: 8 each, plus choice 0's decode
    assertThat(h.steps.get(1).batch().numTokens()).isEqualTo(1 + 8 + 8);
    int shared = choices.get(0).request.blockTable().blockId(0);
    assertThat(choices.get(1).request.blockTable().blockId(0)).isEqualTo(shared);
    assertThat(h.kv.pool().block(shared).refCount()).isEqualTo(3);
    h.runUntilIdle(1000);

    assertThat(choices).allSatisfy(c -> assertThat(c.tokens()).hasSize(12));
    assertThat(h.usage)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getPromptTokens()).isEqualTo(40);
              assertThat(e.getCompletionTokens()).isEqualTo(36);
            });
    assertThat(h.kv.pool().numFreeBlocks()).isEqualTo(64);
  }

  @Test
  void groupsSurvivePreemptionAndCancellationWithoutLeakingBlocks() {
    SchedulerHarness h = new SchedulerHarness(new SchedulerConfig(8, 128, 128, 1000), 16, 10, true);
    SplittableRandom rnd = new SplittableRandom(17);
    List<List<Collected>> groups = new ArrayList<>();
    for (int round = 0; round < 200; round++) {
      if (round % 2 == 0) {
        groups.add(
            submitGroup(h, prompt(rnd.nextLong(), 5 + rnd.nextInt(50)), 1 + rnd.nextInt(4), round));
      }
      for (List<Collected> g : groups) {
        if (rnd.nextInt(30) == 0 && g.getFirst().finish() == null) {
          g.forEach(c -> c.request.cancel(FinishReason.CANCELLED));
        }
      }
      h.step();
    }
    h.runUntilIdle(10_000);

    assertThat(groups)
        .allSatisfy(g -> assertThat(g).allSatisfy(c -> assertThat(c.finish()).isNotNull()));
    long billedGroups =
        groups.stream()
            .filter(g -> g.stream().anyMatch(c -> c.finish().consumedEngineWork()))
            .count();
    assertThat(h.usage).hasSize((int) billedGroups);
    assertThat(h.scheduler.numPreemptionsTotal()).isPositive();
    assertThat(h.kv.pool().numFreeBlocks()).isEqualTo(10);
    for (int i = 0; i < 10; i++) {
      assertThat(h.kv.pool().block(i).refCount()).isZero();
    }
  }
}
