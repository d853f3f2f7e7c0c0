package org.glmmaas.worker.models;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code glm pull <name | owner/repo:file.gguf | https-url> [--models-dir DIR] [--hf-endpoint URL]
 * [--json]}: downloads a GGUF into the model folder, resumably, with a progress bar, verified.
 */
public final class PullCommand {

  private PullCommand() {}

  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.getenv());
  }

  static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    try {
      return pull(args, out, err, env);
    } catch (IllegalArgumentException e) {
      err.println("glm pull: " + e.getMessage());
      return 2;
    }
  }

  private static int pull(
      String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    String spec = null;
    String modelsDir = null;
    String endpoint = env.getOrDefault("HF_ENDPOINT", "https://huggingface.co");
    boolean json = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--json" -> json = true;
        case "--models-dir" -> modelsDir = value(args, ++i, "--models-dir");
        case "--hf-endpoint" -> endpoint = value(args, ++i, "--hf-endpoint");
        case "-h", "--help" -> {
          out.println(usage());
          return 0;
        }
        default -> {
          if (args[i].startsWith("--")) {
            err.println("glm pull: unknown option " + args[i]);
            return 2;
          }
          if (spec != null) {
            err.println("glm pull: one model at a time");
            return 2;
          }
          spec = args[i];
        }
      }
    }
    if (spec == null) {
      err.println("glm pull: which model?\n" + usage());
      return 2;
    }
    Path dir = Path.of(modelsDir != null ? modelsDir : defaultModelsDir(env));
    try {
      ModelDownloader.Source source = ModelDownloader.resolve(spec, endpoint);
      Duration stall =
          Duration.ofSeconds(Long.parseLong(env.getOrDefault("GLM_PULL_STALL_TIMEOUT_S", "60")));
      ModelDownloader downloader =
          new ModelDownloader(
              Duration.ofSeconds(15),
              Duration.ofMinutes(2),
              stall,
              env.get("HF_TOKEN"),
              java.net.URI.create(endpoint));
      // The bar goes to stderr so --json output stays clean on stdout.
      ConsoleProgress progress = new ConsoleProgress(err, System.console() != null && !json);
      // A split model: every part, each resumable and verified on its own; the first is the model.
      List<ModelDownloader.Source> parts = ModelDownloader.parts(source);
      Path path = null;
      for (int i = 0; i < parts.size(); i++) {
        if (parts.size() > 1) {
          progress.message(
              "part " + (i + 1) + " of " + parts.size() + ": " + parts.get(i).fileName());
        }
        Path got = downloader.download(parts.get(i), dir, progress);
        if (i == 0) {
          path = got;
        }
      }
      ModelInventory.LocalModel m = ModelInventory.describe(path);
      if (json) {
        out.printf(
            "{\"path\":\"%s\",\"bytes\":%d,\"architecture\":\"%s\"}%n",
            Json.escape(path.toString()), m.fileBytes(), Json.escape(m.architecture()));
      } else {
        out.println(
            "model ready: "
                + path
                + " ("
                + m.architecture()
                + ", "
                + ModelDownloader.Progress.human(m.fileBytes())
                + ")");
      }
      return 0;
    } catch (IOException e) {
      err.println("glm pull: " + e.getMessage());
      return 1;
    }
  }

  static String defaultModelsDir(Map<String, String> env) {
    String dir = env.get("GLM_MODELS_DIR");
    if (dir != null && !dir.isBlank()) {
      return dir;
    }
    return Path.of(env.getOrDefault("GLM_HOME", "."), ".glm-data", "models").toString();
  }

  private static String value(String[] args, int i, String opt) {
    if (i >= args.length) {
      throw new IllegalArgumentException(opt + " needs a value");
    }
    return args[i];
  }

  static String usage() {
    StringBuilder sb =
        new StringBuilder(
            "usage: glm pull <name | owner/repo:file.gguf | https-url>"
                + " [--models-dir DIR] [--hf-endpoint URL] [--json]\nknown names:\n");
    ModelCatalog.entries().values().stream()
        .sorted((a, b) -> a.name().compareTo(b.name()))
        .forEach(
            e ->
                sb.append(
                    String.format(
                        "  %-22s %s/%s  %s%n", e.name(), e.repo(), e.file(), e.memoryNote())));
    return sb.toString();
  }
}
