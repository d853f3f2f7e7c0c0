package org.glmmaas.worker.cli;

import java.io.PrintStream;
import java.util.List;

/** One {@code glm} subcommand, e.g. {@code engine generate}. Registered in {@link GlmCli}. */
public interface Command {

  /** One line for the help listing. */
  String summary();

  /** The usage text shown on {@code --help} and after a usage error. */
  String usage();

  /**
   * Runs with the arguments after the command's name.
   *
   * @return the process exit code
   * @throws UsageException for bad options (printed with the usage, exit 2)
   * @throws Exception anything else is printed as one line (exit 1), with no stack trace unless
   *     {@code GLM_DEBUG} is set
   */
  int run(List<String> args, PrintStream out, PrintStream err) throws Exception;
}
