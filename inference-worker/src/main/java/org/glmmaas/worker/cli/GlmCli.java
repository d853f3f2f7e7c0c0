package org.glmmaas.worker.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code glm} command line of the inference worker jar (the root {@code glm} script runs {@code
 * GlmCli engine ...} and {@code GlmCli bench ...}). Commands are registered by their two-word name
 * in {@link #COMMANDS}; adding one is one line.
 *
 * <p>Output: readable text by default, JSON with {@code --json}; errors go to stderr as one line
 * and the exit code is 2 for a usage error, 1 for any other failure.
 */
public final class GlmCli {

  /** name -> command; a name is "group sub", e.g. "engine generate", or one word, e.g. "pull". */
  static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put("engine generate", new EngineGenerateCommand());
    COMMANDS.put("engine bench", new EngineBenchCommand());
    COMMANDS.put("engine embed", new EngineEmbedCommand());
    COMMANDS.put("engine make-model", new MakeModelCommand());
    COMMANDS.put(
        "engine tokenize",
        new StaticCommand("encode text with a model's tokenizer", TokenizeCommand::run));
    COMMANDS.put(
        "engine chat",
        new StaticCommand(
            "render a chat with the model's template and generate a reply", ChatCommand::run));
    COMMANDS.put(
        "bench serve",
        new StaticCommand("load-test an inference worker over gRPC", BenchServeCommand::run));
    COMMANDS.put(
        "pull",
        new StaticCommand(
            "download a GLM GGUF model (resumable, verified)",
            org.glmmaas.worker.models.PullCommand::run));
    COMMANDS.put(
        "models",
        new StaticCommand(
            "list the downloaded models", org.glmmaas.worker.models.ModelsCommand::run));
  }

  private GlmCli() {}

  public static void main(String[] args) {
    CliLogging.toStderr();
    int code = run(List.of(args), System.out, System.err);
    System.out.flush();
    System.exit(code);
  }

  /** Runs a command line; returns the exit code (never throws). */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    if (!args.isEmpty()
        && !args.getFirst().contains(" ")
        && COMMANDS.containsKey(args.getFirst())) {
      return runCommand(args.getFirst(), args.subList(1, args.size()), out, err);
    }
    if (args.size() < 2 || args.get(1).equals("help") || args.get(1).equals("--help")) {
      String group = args.isEmpty() ? "" : args.getFirst();
      err.print(help(group));
      return args.size() >= 2 ? 0 : 2;
    }
    String name = args.get(0) + " " + args.get(1);
    Command cmd = COMMANDS.get(name);
    if (cmd == null) {
      err.println("glm: unknown command '" + name + "'");
      err.print(help(args.get(0)));
      return 2;
    }
    return runCommand(name, args.subList(2, args.size()), out, err);
  }

  private static int runCommand(String name, List<String> rest, PrintStream out, PrintStream err) {
    Command cmd = COMMANDS.get(name);
    if (rest.contains("--help") || rest.contains("-h")) {
      out.print(cmd.usage());
      return 0;
    }
    try {
      return cmd.run(rest, out, err);
    } catch (UsageException e) {
      err.println("glm " + name + ": " + e.getMessage());
      err.print(cmd.usage());
      return 2;
    } catch (Exception | OutOfMemoryError | StackOverflowError e) {
      err.println("glm " + name + ": " + describe(e));
      if (System.getenv("GLM_DEBUG") != null) {
        e.printStackTrace(err);
      }
      return 1;
    }
  }

  private static String describe(Throwable e) {
    String msg = e.getMessage();
    if (e instanceof java.nio.file.NoSuchFileException) {
      return msg + ": no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return msg + ": permission denied";
    }
    if (msg == null || msg.isBlank()) {
      return e.getClass().getSimpleName();
    }
    return msg;
  }

  static String help(String group) {
    StringBuilder sb =
        new StringBuilder(
            "Usage: glm <command> [options]   (--help after a"
                + " command for its options)\n\nCommands:\n");
    COMMANDS.forEach(
        (n, c) -> {
          if (group.isEmpty()
              || n.startsWith(group + " ")
              || !COMMANDS.keySet().stream().anyMatch(k -> k.startsWith(group + " "))) {
            sb.append(String.format("  %-20s %s%n", n, c.summary()));
          }
        });
    return sb.toString();
  }

  /** For tests. */
  static List<String> names() {
    return Arrays.asList(COMMANDS.keySet().toArray(String[]::new));
  }
}
