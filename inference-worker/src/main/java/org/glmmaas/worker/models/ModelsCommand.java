package org.glmmaas.worker.models;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.glmmaas.worker.lifecycle.MemoryPlan;

/** {@code glm models [--models-dir DIR] [--json]}: the local models and what they need. */
public final class ModelsCommand {

  private ModelsCommand() {}

  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.getenv());
  }

  static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    boolean json = false;
    String dir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--json" -> json = true;
        case "--models-dir" -> {
          if (++i >= args.length) {
            err.println("glm models: --models-dir needs a value");
            return 2;
          }
          dir = args[i];
        }
        default -> {
          err.println(
              "glm models: unknown option "
                  + args[i]
                  + "\nusage: glm models [--models-dir DIR] [--json]");
          return 2;
        }
      }
    }
    Path models = Path.of(dir != null ? dir : PullCommand.defaultModelsDir(env));
    List<ModelInventory.LocalModel> found;
    try {
      found = ModelInventory.scan(models);
    } catch (IOException e) {
      err.println("glm models: cannot read " + models + ": " + e.getMessage());
      return 1;
    }
    if (json) {
      out.println(
          found.stream()
              .map(ModelsCommand::json)
              .collect(
                  Collectors.joining(
                      ",",
                      "{\"models_dir\":\"" + Json.escape(models.toString()) + "\",\"models\":[",
                      "]}")));
      return 0;
    }
    if (found.isEmpty()) {
      out.println(
          "no models in "
              + models
              + " (glm pull <name> downloads one; glm pull --help lists names)");
      return 0;
    }
    out.printf(
        Locale.ROOT,
        "%-28s %-8s %9s %-16s %-7s %-22s %8s %10s %10s%n",
        "MODEL",
        "ARCH",
        "PARAMS",
        "EXPERTS/ACTIVE",
        "TYPE",
        "TENSOR TYPES",
        "CONTEXT",
        "FILE",
        "MEMORY");
    for (ModelInventory.LocalModel m : found) {
      if (m.error() != null) {
        out.printf(Locale.ROOT, "%-28s %s%n", m.name(), m.error());
        continue;
      }
      out.printf(
          Locale.ROOT,
          "%-28s %-8s %9s %-16s %-7s %-22s %8d %10s %10s%s%n",
          m.name(),
          m.architecture(),
          params(m.numParameters()),
          m.experts() == 0
              ? "-"
              : m.expertsUsed() + " of " + m.experts() + ", " + params(m.activeParameters()),
          m.fileType(),
          types(m.tensorTypes()),
          m.contextLength(),
          ModelDownloader.Progress.human(m.fileBytes()),
          ModelDownloader.Progress.human(m.memoryBytes()),
          m.unsupportedTypes().isEmpty()
              ? ""
              : "  (the engine cannot run " + String.join(", ", m.unsupportedTypes()) + ")");
    }
    // the factors are MemoryPlan's, which the worker checks at load, so the two cannot drift apart
    out.printf(
        Locale.ROOT,
        "MEMORY = weights x %.1f (the CPU engine repacks them; x %.1f at the peak while loading) + an"
            + " f16 KV cache for one full-context sequence; size the worker's"
            + " glm.worker.kv-cache.memory for more sequences.%n",
        MemoryPlan.STEADY_FACTOR,
        MemoryPlan.LOAD_PEAK_FACTOR);
    return 0;
  }

  private static String json(ModelInventory.LocalModel m) {
    String types =
        m.tensorTypes().entrySet().stream()
            .map(e -> "\"" + e.getKey() + "\":" + e.getValue())
            .collect(Collectors.joining(",", "{", "}"));
    return String.format(
        Locale.ROOT,
        "{\"name\":\"%s\",\"path\":\"%s\",\"architecture\":\"%s\",\"parameters\":%d,"
            + "\"file_type\":\"%s\",\"tensor_types\":%s,\"runs\":%b,\"context_length\":%d,\"file_bytes\":%d,"
            + "\"kv_bytes_full_context\":%d,\"memory_bytes\":%d,\"experts\":%d,\"experts_used\":%d,"
            + "\"active_parameters\":%d%s}",
        Json.escape(m.name()),
        Json.escape(m.path().toString()),
        Json.escape(m.architecture()),
        m.numParameters(),
        Json.escape(m.fileType()),
        types,
        m.error() == null && m.unsupportedTypes().isEmpty(),
        m.contextLength(),
        m.fileBytes(),
        m.kvBytesFullContext(),
        m.memoryBytes(),
        m.experts(),
        m.expertsUsed(),
        m.activeParameters(),
        m.error() == null ? "" : ",\"error\":\"" + Json.escape(m.error()) + "\"");
  }

  private static String params(long n) {
    if (n >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.2fB", n / 1e9);
    }
    if (n >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.1fM", n / 1e6);
    }
    return String.format(Locale.ROOT, "%.1fK", n / 1e3);
  }

  private static String types(Map<String, Integer> t) {
    return t.entrySet().stream()
        .map(e -> e.getKey() + "x" + e.getValue())
        .collect(Collectors.joining(" "));
  }
}
