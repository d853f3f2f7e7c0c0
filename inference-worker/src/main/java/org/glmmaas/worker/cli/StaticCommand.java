package org.glmmaas.worker.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Adapts a command written as a static {@code run(String[], out, err)} method (which parses its own
 * options and prints its own usage on {@code --help}) to {@link Command}.
 */
final class StaticCommand implements Command {

  /** The shape of such a static method. */
  @FunctionalInterface
  interface Runner {
    int run(String[] args, PrintStream out, PrintStream err);
  }

  private final String summary;
  private final Runner runner;

  StaticCommand(String summary, Runner runner) {
    this.summary = summary;
    this.runner = runner;
  }

  @Override
  public String summary() {
    return summary;
  }

  @Override
  public String usage() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      runner.run(new String[] {"--help"}, ps, ps);
    }
    String text = buf.toString(StandardCharsets.UTF_8);
    return text.endsWith("\n") ? text : text + "\n";
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) {
    return runner.run(args.toArray(String[]::new), out, err);
  }
}
