package org.glmmaas.worker.engine.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.BitSet;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.glmmaas.worker.engine.CpuList;
import org.glmmaas.worker.engine.EngineException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CPU affinity of the engine's threads through libc's {@code sched_setaffinity}. The native pool
 * threads are started by {@code glm_context_create} and inherit the creating thread's mask, so
 * {@link #callPinned} runs the creation on a short-lived thread of its own whose mask is set first:
 * no JVM thread (the caller, a shared pool thread) is ever pinned. Linux only; elsewhere the
 * setting is logged once and ignored.
 */
public final class CpuAffinity {

  private static final Logger log = LoggerFactory.getLogger(CpuAffinity.class);
  private static final AtomicBoolean WARNED = new AtomicBoolean();

  /** cpu_set_t bytes passed to the kernel: room for 8192 CPUs (Linux's largest NR_CPUS). */
  private static final int MASK_BYTES = (CpuList.MAX_CPU + 1) / 8;

  private static final boolean LINUX =
      System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");

  private static volatile Libc libc;

  private CpuAffinity() {}

  private record Libc(MethodHandle get, MethodHandle set, StructLayout callState, VarHandle errno) {
    static Libc load() {
      Linker linker = Linker.nativeLinker();
      StructLayout state = Linker.Option.captureStateLayout();
      VarHandle errno =
          state.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
      Linker.Option capture = Linker.Option.captureCallState("errno");
      FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
      var lookup = linker.defaultLookup();
      return new Libc(
          linker.downcallHandle(lookup.findOrThrow("sched_getaffinity"), fd, capture),
          linker.downcallHandle(lookup.findOrThrow("sched_setaffinity"), fd, capture),
          state,
          errno);
    }
  }

  private static Libc libc() {
    Libc l = libc;
    if (l == null) {
      synchronized (CpuAffinity.class) {
        if (libc == null) {
          libc = Libc.load();
        }
        l = libc;
      }
    }
    return l;
  }

  /** Whether affinity can be applied here (Linux). */
  public static boolean isSupported() {
    return LINUX;
  }

  /** The calling thread's CPU mask (sched_getaffinity(0)). Linux only. */
  public static CpuList current() {
    Libc l = libc();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment mask = a.allocate(MASK_BYTES, 8);
      MemorySegment state = a.allocate(l.callState());
      int rc = (int) l.get().invokeExact(state, 0, (long) MASK_BYTES, mask);
      if (rc != 0) {
        throw new EngineException(
            "sched_getaffinity failed, errno " + (int) l.errno().get(state, 0L));
      }
      return new CpuList(BitSet.valueOf(mask.asByteBuffer()));
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("sched_getaffinity failed: " + t, t);
    }
  }

  private static void setCurrent(CpuList cpus) {
    Libc l = libc();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment mask = a.allocate(MASK_BYTES, 8);
      byte[] bits = cpus.cpus().toByteArray();
      MemorySegment.copy(bits, 0, mask, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bits.length);
      MemorySegment state = a.allocate(l.callState());
      int rc = (int) l.set().invokeExact(state, 0, (long) MASK_BYTES, mask);
      if (rc != 0) {
        throw new EngineException(
            "sched_setaffinity(" + cpus + ") failed, errno " + (int) l.errno().get(state, 0L));
      }
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("sched_setaffinity failed: " + t, t);
    }
  }

  /**
   * Runs {@code action} on a new platform thread pinned to {@code cpus} and returns its result;
   * threads it starts inherit the mask. With no CPUs given, or off Linux (logged once), it runs on
   * the calling thread unpinned.
   *
   * @throws EngineException when {@code cpus} names CPUs this process may not run on
   */
  public static <T> T callPinned(CpuList cpus, Supplier<T> action) {
    if (cpus == null) {
      return action.get();
    }
    if (!LINUX) {
      if (WARNED.compareAndSet(false, true)) {
        log.warn("glm.worker.cpu-affinity={} ignored: CPU affinity is applied on Linux only", cpus);
      }
      return action.get();
    }
    CpuList allowed = current();
    BitSet missing = cpus.missingFrom(allowed);
    if (!missing.isEmpty()) {
      throw new EngineException(
          "glm.worker.cpu-affinity "
              + cpus
              + " names CPU(s) "
              + CpuList.format(missing)
              + " this process may not run on (allowed: "
              + allowed
              + ")");
    }
    AtomicReference<T> result = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t =
        Thread.ofPlatform()
            .name("glm-engine-pool")
            .unstarted(
                () -> {
                  try {
                    setCurrent(cpus);
                    result.set(action.get());
                  } catch (Throwable e) {
                    failure.set(e);
                  }
                });
    t.start();
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable e = failure.get();
    if (e instanceof RuntimeException re) {
      throw re;
    }
    if (e instanceof Error err) {
      throw err;
    }
    if (e != null) {
      throw new EngineException(e.toString(), e);
    }
    return result.get();
  }
}
