package org.glmmaas.launcher;

import java.io.PrintStream;

/** Progress lines of the launcher: one line per step, never a silent minute. */
final class Console {

  private final PrintStream out;
  private final long start = System.nanoTime();

  Console(PrintStream out) {
    this.out = out;
  }

  synchronized void step(String what, String detail) {
    out.printf("[glm up %5.1fs] %-16s %s%n", (System.nanoTime() - start) / 1e9, what, detail);
    out.flush();
  }

  synchronized void raw(String text) {
    out.println(text);
    out.flush();
  }
}
