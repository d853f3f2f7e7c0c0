package org.glmmaas.platform.lifecycle;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * {@code glm.parent-pid}: a service started by a supervisor (the {@code ./glm up} launcher) exits
 * when that process is gone, even when it was killed with SIGKILL and could not stop its children.
 * The exit is an ordinary {@code System.exit}, so Spring stops gracefully; should that hang, the
 * JVM halts {@link #HALT_AFTER} later. Unset (the default): nothing is watched.
 */
public final class ParentProcessWatch implements EnvironmentPostProcessor {

  public static final String PROPERTY = "glm.parent-pid";
  static final Duration HALT_AFTER = Duration.ofSeconds(10);
  static final Duration POLL = Duration.ofMillis(250);
  private static final AtomicBoolean STARTED = new AtomicBoolean();

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    String value = environment.getProperty(PROPERTY);
    if (value == null || value.isBlank()) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(PROPERTY + " must be a process id, was '" + value + "'");
    }
    if (pid <= 0) {
      throw new IllegalArgumentException(PROPERTY + " must be a process id, was " + pid);
    }
    if (STARTED.compareAndSet(false, true)) {
      watch(pid);
    }
  }

  /** Exits this JVM (status 0, graceful) when process {@code pid} ends; exits at once if gone. */
  public static void watch(long pid) {
    Optional<ProcessHandle> parent = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (parent.isEmpty()) {
      exit(pid);
      return;
    }
    // Polled (ProcessHandle.onExit backs off to 5 s between checks for a process that is not our
    // child); isAlive compares the start time too, so a reused pid is not mistaken for the parent.
    ProcessHandle handle = parent.get();
    Thread watcher =
        new Thread(
            () -> {
              try {
                while (handle.isAlive()) {
                  Thread.sleep(POLL);
                }
              } catch (InterruptedException e) {
                return;
              }
              exit(pid);
            },
            "glm-parent-watch");
    watcher.setDaemon(true);
    watcher.start();
  }

  private static void exit(long pid) {
    System.err.println(
        "glm: the process that started this service (pid "
            + pid
            + ") is gone; stopping ("
            + PROPERTY
            + ")");
    Thread halt =
        new Thread(
            () -> {
              try {
                Thread.sleep(HALT_AFTER);
              } catch (InterruptedException e) {
                return;
              }
              Runtime.getRuntime().halt(1);
            },
            "glm-parent-gone-halt");
    halt.setDaemon(true);
    halt.start();
    Thread exit = new Thread(() -> System.exit(0), "glm-parent-gone-exit");
    exit.start();
  }
}
