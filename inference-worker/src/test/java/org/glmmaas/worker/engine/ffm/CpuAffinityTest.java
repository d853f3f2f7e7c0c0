package org.glmmaas.worker.engine.ffm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.glmmaas.worker.engine.CpuList;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.WeightType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * glm.worker.cpu-affinity on Linux: the engine's native pool threads run only on the cores named,
 * and no thread of the JVM that existed before (the caller included) is pinned.
 */
class CpuAffinityTest {

  @TempDir static Path dir;
  static Path model;
  static CpuList allowed;

  @BeforeAll
  static void setUp() throws IOException {
    NativeTestSupport.assumeLibrary();
    assumeTrue(CpuAffinity.isSupported(), "CPU affinity is applied on Linux only");
    allowed = CpuAffinity.current();
    assumeTrue(allowed.size() >= 2, () -> "needs 2 CPUs, this process may use " + allowed);
    model =
        NativeTestSupport.make(dir, ModelArch.GLM4, NativeTestSupport.MICRO, WeightType.Q8_0, 3);
  }

  /** tid -> Cpus_allowed_list of every thread of this process. */
  static Map<String, String> threadMasks() throws IOException {
    Map<String, String> out = new HashMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : tasks.toList()) {
        try {
          for (String line : Files.readAllLines(t.resolve("status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
              out.put(t.getFileName().toString(), line.substring(line.indexOf(':') + 1).trim());
            }
          }
        } catch (IOException gone) {
          // the thread ended meanwhile
        }
      }
    }
    return out;
  }

  static Map<String, String> newPoolThreads(Map<String, String> before, Map<String, String> after) {
    Map<String, String> pool = new HashMap<>();
    after.forEach(
        (tid, mask) -> {
          if (!before.containsKey(tid) && comm(tid).startsWith("glm-engine-pool")) {
            pool.put(tid, mask);
          }
        });
    return pool;
  }

  static String comm(String tid) {
    try {
      return Files.readString(Path.of("/proc/self/task", tid, "comm")).trim();
    } catch (IOException gone) {
      return "";
    }
  }

  @Test
  void poolThreadsRunOnlyOnTheNamedCoreAndTheRestOfTheJvmIsNotPinned() throws IOException {
    int cpu = allowed.cpus().nextSetBit(0);
    CpuList one = CpuList.parse(Integer.toString(cpu));
    Map<String, String> before = threadMasks();
    try (NativeGlmModel m = NativeGlmModel.open(model);
        NativeGlmEngine e = m.newEngine(NativeTestSupport.small(8).withThreads(3), one)) {
      // 3 threads: the caller of glm_forward plus 2 pool threads started by glm_context_create.
      // The pinned Java thread that created the context has been joined, but its kernel task can
      // stay listed for a moment on a loaded machine: wait for it to leave.
      Map<String, String> after = threadMasks();
      Map<String, String> pool = newPoolThreads(before, after);
      for (long deadline = System.nanoTime() + 5_000_000_000L;
          pool.size() > 2 && System.nanoTime() < deadline; ) {
        Thread.onSpinWait();
        after = threadMasks();
        pool = newPoolThreads(before, after);
      }
      assertThat(pool).as("native pool threads").hasSize(2);
      assertThat(pool.values()).allMatch(mask -> mask.equals(Integer.toString(cpu)));
      Map<String, String> now = after;
      before.forEach(
          (tid, mask) -> {
            if (now.containsKey(tid)) {
              assertThat(now.get(tid)).as("thread %s (%s)", tid, comm(tid)).isEqualTo(mask);
            }
          });
      assertThat(CpuAffinity.current()).isEqualTo(allowed);
      assertThat(e.info().numKvBlocks()).isEqualTo(8);
    }
  }

  @Test
  void coresThisProcessMayNotUseAreRefusedByName() {
    int beyond = allowed.cpus().length() + 3;
    try (NativeGlmModel m = NativeGlmModel.open(model)) {
      assertThatThrownBy(
              () -> m.newEngine(NativeTestSupport.small(8), CpuList.parse("0-" + beyond)))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("glm.worker.cpu-affinity 0-" + beyond + " names CPU(s)")
          .hasMessageContaining("this process may not run on (allowed: " + allowed + ")");
    }
  }
}
