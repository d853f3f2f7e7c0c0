package org.glmmaas.worker.lifecycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How much memory a model may still take. Injected into {@link NativeModelLoader} so tests can fake
 * it; production reads Linux: {@code MemAvailable} of /proc/meminfo and, in a container with a
 * limit, the cgroup v2 headroom {@code memory.max - memory.current} — whichever is less.
 */
@FunctionalInterface
public interface AvailableMemory {

  /**
   * @param bytes memory available now
   * @param source where the figure comes from, for messages ("MemAvailable", "cgroup memory.max")
   */
  record Reading(long bytes, String source) {}

  /** The figure, or empty when this system does not say (the check is then skipped). */
  Optional<Reading> read();

  /** The running system's memory (Linux /proc and /sys/fs/cgroup). */
  static AvailableMemory system() {
    return under(Path.of("/"));
  }

  /**
   * Reads {@code proc/meminfo} and {@code sys/fs/cgroup/memory.{max,current}} under {@code root}.
   */
  static AvailableMemory under(Path root) {
    return () -> {
      Optional<Reading> mem = memAvailable(root.resolve("proc/meminfo"));
      Optional<Reading> cg = cgroupHeadroom(root.resolve("sys/fs/cgroup"));
      if (mem.isPresent() && cg.isPresent()) {
        return Optional.of(cg.get().bytes() < mem.get().bytes() ? cg.get() : mem.get());
      }
      return mem.isPresent() ? mem : cg;
    };
  }

  private static Optional<Reading> memAvailable(Path meminfo) {
    try {
      for (String line : Files.readAllLines(meminfo)) {
        if (line.startsWith("MemAvailable:")) {
          String[] f = line.substring("MemAvailable:".length()).trim().split("\\s+");
          long kib = Long.parseLong(f[0]);
          return Optional.of(new Reading(kib * 1024, "MemAvailable"));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or an unreadable /proc: say nothing
    }
    return Optional.empty();
  }

  private static Optional<Reading> cgroupHeadroom(Path cgroup) {
    try {
      Path max = cgroup.resolve("memory.max");
      if (!Files.isReadable(max)) {
        return Optional.empty();
      }
      String limit = Files.readString(max).trim();
      if (limit.equals("max") || limit.isEmpty()) {
        return Optional.empty();
      }
      long lim = Long.parseLong(limit);
      Path cur = cgroup.resolve("memory.current");
      long used = Files.isReadable(cur) ? Long.parseLong(Files.readString(cur).trim()) : 0;
      return Optional.of(
          new Reading(Math.max(0, lim - used), "cgroup memory.max - memory.current"));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
