package org.glmmaas.worker.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.gguf.GgufReader;
import org.glmmaas.worker.text.GlmTextModel;

/** Shared argument parsing for the text commands ({@code engine tokenize}, {@code engine chat}). */
final class TextCommandArgs {

  /** A usage error: printed with the usage line, exit code 2. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  private final Map<String, String> values = new HashMap<>();
  private final Map<String, Boolean> flags = new HashMap<>();

  private TextCommandArgs() {}

  /**
   * @param withValue options that take a value ("--model")
   * @param booleans options without a value ("--json")
   */
  static TextCommandArgs parse(String[] args, Set<String> withValue, Set<String> booleans)
      throws UsageException {
    TextCommandArgs parsed = new TextCommandArgs();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String name = a;
      String inline = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        name = a.substring(0, eq);
        inline = a.substring(eq + 1);
      }
      if (withValue.contains(name)) {
        if (inline == null) {
          if (i + 1 >= args.length) {
            throw new UsageException(name + " needs a value");
          }
          inline = args[++i];
        }
        parsed.values.put(name, inline);
      } else if (booleans.contains(name) && inline == null) {
        parsed.flags.put(name, true);
      } else {
        throw new UsageException("unknown argument: " + a);
      }
    }
    return parsed;
  }

  String required(String name) throws UsageException {
    String v = values.get(name);
    if (v == null) {
      throw new UsageException(name + " is required");
    }
    return v;
  }

  boolean flag(String name) {
    return flags.getOrDefault(name, false);
  }

  /** Reads a GGUF's metadata (no weights, no native engine) and builds its text model. */
  static GlmTextModel loadModel(String file) throws UsageException, IOException {
    return GlmTextModel.of(loadMetadata(file));
  }

  /** Reads a GGUF's metadata only. */
  static GgufMetadata loadMetadata(String file) throws UsageException, IOException {
    Path path = Path.of(file);
    if (!Files.isRegularFile(path)) {
      throw new UsageException("model file not found: " + file);
    }
    return GgufReader.read(path).metadata();
  }

  static String idsJson(int[] ids) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < ids.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(ids[i]);
    }
    return sb.append(']').toString();
  }
}
