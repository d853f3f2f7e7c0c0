package org.glmmaas.worker.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} and {@code --flag} options (also {@code --name=value}), checked against the
 * names a command accepts; every problem is a {@link UsageException} with a precise message.
 */
public final class CliArgs {

  private final Map<String, String> values = new HashMap<>();
  private final Set<String> flags;

  private CliArgs(Set<String> flags) {
    this.flags = flags;
  }

  /** Parses {@code args}; {@code valued} options take a value, {@code flags} take none. */
  public static CliArgs parse(List<String> args, Set<String> valued, Set<String> flags) {
    CliArgs a = new CliArgs(flags);
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new UsageException("unexpected argument '" + arg + "'");
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (flags.contains(name)) {
        if (value != null) {
          throw new UsageException("--" + name + " takes no value");
        }
        a.values.put(name, "true");
      } else if (valued.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.size()) {
            throw new UsageException("--" + name + " needs a value");
          }
          value = args.get(++i);
        }
        a.values.put(name, value);
      } else {
        throw new UsageException("unknown option --" + name);
      }
    }
    return a;
  }

  public boolean flag(String name) {
    if (!flags.contains(name)) {
      throw new IllegalArgumentException("not a flag: " + name);
    }
    return values.containsKey(name);
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public String string(String name, String def) {
    return values.getOrDefault(name, def);
  }

  public String required(String name) {
    String v = values.get(name);
    if (v == null) {
      throw new UsageException("--" + name + " is required");
    }
    return v;
  }

  public int integer(String name, int def, int min, int max) {
    String v = values.get(name);
    if (v == null) {
      return def;
    }
    return parseInt(name, v, min, max);
  }

  public long longValue(String name, long def) {
    String v = values.get(name);
    if (v == null) {
      return def;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be an integer, not '" + v + "'");
    }
  }

  /** A comma-separated list of integers, e.g. {@code 1,4,16}. */
  public int[] intList(String name, int[] def, int min, int max) {
    String v = values.get(name);
    if (v == null) {
      return def;
    }
    List<Integer> out = new ArrayList<>();
    for (String part : v.split(",")) {
      if (part.isBlank()) {
        throw new UsageException("--" + name + " has an empty item in '" + v + "'");
      }
      out.add(parseInt(name, part, min, max));
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** An existing regular file. */
  public Path existingFile(String name) {
    Path p = Path.of(required(name));
    if (!Files.isRegularFile(p)) {
      throw new UsageException("--" + name + " " + p + ": no such file");
    }
    return p;
  }

  private static int parseInt(String name, String v, int min, int max) {
    int x;
    try {
      x = Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be an integer, not '" + v + "'");
    }
    if (x < min || x > max) {
      throw new UsageException(
          "--" + name + " must be between " + min + " and " + max + ", not " + x);
    }
    return x;
  }
}
