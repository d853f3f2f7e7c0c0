package org.glmmaas.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plan's arithmetic and message, and where the available figure comes from. No native code. */
class MemoryPlanTest {

  @TempDir Path root;

  @Test
  void aModelThatDoesNotFitIsRefusedWithItsNumbersAndWhatToChange() {
    // glm-4-9b-chat Q8_0: 9.99 GB of tensors, a 1 GB KV budget, 0.4 GB scratch
    MemoryPlan plan =
        new MemoryPlan("glm-4-9b-chat-Q8_0.gguf", 9_990_000_000L, 1_000_000_000L, 400_000_000L);
    assertThat(plan.peakBytes()).isEqualTo(11_988_000_000L + 1_400_000_000L);
    assertThat(plan.steadyBytes()).isEqualTo(10_989_000_000L + 1_400_000_000L);

    String refusal = plan.refusal(new AvailableMemory.Reading(7_800_000_000L, "MemAvailable"));

    assertThat(refusal)
        .isEqualTo(
            "model glm-4-9b-chat-Q8_0.gguf needs 9.99 GB of weights x 1.1 ="
                + " 10.99 GB once loaded (the CPU engine keeps a repacked copy; x 1.2 = 11.99 GB at the peak"
                + " while loading) + 1.00 GB KV (glm.worker.kv-cache.memory) + 0.40 GB scratch = 12.39 GB"
                + " (13.39 GB at the peak), but 7.80 GB is available (MemAvailable); lower"
                + " glm.worker.kv-cache.memory or use a smaller quantisation");
    assertThat(plan.loadWarning(new AvailableMemory.Reading(7_800_000_000L, "MemAvailable")))
        .isNull();
  }

  @Test
  void aModelWhoseSteadyStateFitsLoadsAndOnlyAPeakBeyondTheAvailableWarns() {
    MemoryPlan plan =
        new MemoryPlan("glm-4-9b-chat-Q8_0.gguf", 9_990_000_000L, 1_073_741_824L, 200_000_000L);
    // steady 12.26 GB, peak 13.26 GB: 12.5 GB available fits once loaded, not at the peak
    AvailableMemory.Reading here = new AvailableMemory.Reading(12_500_000_000L, "MemAvailable");
    assertThat(plan.refusal(here)).isNull();
    assertThat(plan.loadWarning(here))
        .contains("the load's peak (13.26 GB")
        .contains("exceeds the 12.50 GB available (MemAvailable)")
        .contains("it fits once loaded (12.26 GB)");
    AvailableMemory.Reading plenty = new AvailableMemory.Reading(plan.peakBytes(), "MemAvailable");
    assertThat(plan.refusal(plenty)).isNull();
    assertThat(plan.loadWarning(plenty)).isNull();
  }

  @Test
  void aMixtureOfExpertsModelWhoseExpertsDoNotFitRunsThemFromDiskWithTheNumbers() {
    // GLM-4.5-Air-like: 60 GB of weights of which 55 GB are routed experts, 2 GB KV, 0.5 GB scratch
    MemoryPlan plan =
        new MemoryPlan(
            "GLM-4.5-Air-Q4_0.gguf",
            60_000_000_000L,
            2_000_000_000L,
            500_000_000L,
            55_000_000_000L);
    AvailableMemory.Reading ram = new AvailableMemory.Reading(32_000_000_000L, "MemAvailable");
    assertThat(plan.steadyBytes()).isEqualTo(68_500_000_000L);
    assertThat(plan.expertsFromDiskBytes()).isEqualTo(8_000_000_000L);
    assertThat(plan.refusal(ram)).isNull();
    assertThat(plan.loadWarning(ram)).isNull();
    assertThat(plan.needsExpertsFromDisk(ram)).isTrue();
    assertThat(plan.expertsFromDiskWarning(ram))
        .startsWith(
            "model GLM-4.5-Air-Q4_0.gguf: its routed experts (55.00 GB) do not fit in memory:"
                + " repacked it needs 68.50 GB (weights x 1.1 + KV + scratch) but 32.00 GB is"
                + " available (MemAvailable). Running with experts from disk")
        .contains("(8.00 GB resident + the page cache the kernel can spare); this is slow");
    // when it fits, experts stay in memory
    assertThat(plan.needsExpertsFromDisk(new AvailableMemory.Reading(70_000_000_000L, "x")))
        .isFalse();
    // when even the rest does not fit, refused, saying so
    assertThat(plan.refusal(new AvailableMemory.Reading(7_000_000_000L, "MemAvailable")))
        .contains("but 7.00 GB is available (MemAvailable); even with its routed experts")
        .contains("(55.00 GB) left on disk it needs 8.00 GB; lower glm.worker.kv-cache.memory");
    // a dense model never goes to disk
    MemoryPlan dense = new MemoryPlan("d.gguf", 60_000_000_000L, 2_000_000_000L, 500_000_000L);
    assertThat(dense.needsExpertsFromDisk(ram)).isFalse();
    assertThat(dense.refusal(ram)).doesNotContain("experts");
  }

  @Test
  void scratchGrowsWithTheBatchAndTheLogitRows() {
    long one = MemoryPlan.scratchBytes(4096, 4096, 256, 13696, 151_552, 512, 16, 8192, 8);
    long twice = MemoryPlan.scratchBytes(4096, 4096, 256, 13696, 151_552, 1024, 32, 8192, 8);
    assertThat(one).isBetween(100L << 20, 400L << 20);
    assertThat(twice).isGreaterThan(one + (100L << 20));
  }

  @Test
  void aMixtureOfExpertsModelsScratchCountsItsExpertBuffers() {
    // GLM-4.5-Air: n_embd 4096, 128 experts, 8 used, expert width 1408, one shared expert
    MemoryPlan.MoeShape air = new MemoryPlan.MoeShape(128, 8, 1408, 1408);
    long moe = MemoryPlan.moeScratchBytes(4096, air, 512);
    // per row at least: 8 slots x (gate|up + silu + down output) floats + the shared expert's
    long floor = 512L * (8 * (3 * 1408 + 4096) + 3 * 1408 + 4096) * Float.BYTES;
    assertThat(moe).isGreaterThanOrEqualTo(floor).isLessThan(2 * floor);
    assertThat(moe).as("about 150 MB at 512 rows").isBetween(120L << 20, 250L << 20);
    assertThat(MemoryPlan.moeScratchBytes(4096, air, 1024)).isEqualTo(2 * moe);
    assertThat(MemoryPlan.moeScratchBytes(4096, MemoryPlan.MoeShape.NONE, 512)).isZero();
  }

  @Test
  void availableMemoryIsMemAvailableOrTheCgroupHeadroomWhicheverIsLess() throws IOException {
    Files.createDirectories(root.resolve("proc"));
    Files.writeString(
        root.resolve("proc/meminfo"),
        "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n");
    AvailableMemory mem = AvailableMemory.under(root);
    assertThat(mem.read()).contains(new AvailableMemory.Reading(8_192_000_000L, "MemAvailable"));

    Path cg = Files.createDirectories(root.resolve("sys/fs/cgroup"));
    Files.writeString(cg.resolve("memory.max"), "max\n");
    assertThat(mem.read().orElseThrow().source()).isEqualTo("MemAvailable");

    Files.writeString(cg.resolve("memory.max"), "4294967296\n");
    Files.writeString(cg.resolve("memory.current"), "1073741824\n");
    assertThat(mem.read())
        .contains(
            new AvailableMemory.Reading(3_221_225_472L, "cgroup memory.max - memory.current"));
  }

  @Test
  void withoutProcNothingIsClaimed() {
    assertThat(AvailableMemory.under(root).read()).isEmpty();
  }
}
