package org.glmmaas.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Command-line options of {@code ./glm up}.
 *
 * @param dataDir the data folder (state survives restarts here)
 * @param home the checkout (service jars under {@code <module>/target}, the {@code glm} script)
 * @param portBase gateway port; auth, billing, the worker and the embedding worker use the next
 *     four (HTTP) and base+1001.. (gRPC)
 * @param ephemeralPorts pick free ports for everything instead (tests, several instances)
 * @param model a GGUF to serve instead of the generated demo model
 * @param modelId the model id clients use
 * @param startTimeout how long one service may take to become healthy
 * @param gatewayHost the address the gateway's HTTP binds ({@code --host}); every other listener is
 *     on 127.0.0.1
 * @param json {@code --json}: progress on stderr, one JSON object on stdout once READY
 */
record LauncherOptions(
    Path dataDir,
    Path home,
    int portBase,
    boolean ephemeralPorts,
    Path model,
    String modelId,
    Duration startTimeout,
    String gatewayHost,
    boolean json) {

  static final String USAGE =
      """
            Usage: ./glm up [--data DIR] [--port PORT] [--host ADDR] [--ephemeral-ports] [--model FILE.gguf --model-id ID] [--timeout SECONDS]

              --data DIR          data folder (default .glm-data in the checkout): databases, Kafka log, keys, logs, models
              --port PORT         gateway port (default 8080); auth 8081, billing 8082, workers 8083-8084, knowledge 8085, gRPC 9081-9085
              --host ADDR         address the gateway listens on (default 127.0.0.1; 0.0.0.0 opens it to the network;
                                  every other service, Kafka and PostgreSQL stay on 127.0.0.1)
              --ephemeral-ports   use free ports for every service (the printed block and endpoints.json say which)
              --model FILE.gguf   serve this GGUF instead of the generated demo model
              --model-id ID       model id clients send (default glm-demo, or the file name without .gguf)
              --timeout SECONDS   how long one service may take to become healthy (default 300)
              --json              progress on stderr; once READY one JSON object on stdout (gateway_url, api_key, ...)
            """;

  static LauncherOptions parse(String[] args, Path home) {
    Path data = home.resolve(".glm-data");
    int port = 8080;
    boolean ephemeral = false;
    Path model = null;
    String modelId = null;
    long timeout = 300;
    String host = "127.0.0.1";
    boolean json = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--data" -> data = Path.of(value(args, ++i, a));
        case "--port" -> port = intValue(args, ++i, a, 1, 65535 - 1004);
        case "--host" -> host = hostValue(value(args, ++i, a));
        case "--ephemeral-ports" -> ephemeral = true;
        case "--model" -> model = Path.of(value(args, ++i, a));
        case "--model-id" -> modelId = value(args, ++i, a);
        case "--timeout" -> timeout = intValue(args, ++i, a, 10, 3600);
        case "--json" -> json = true;
        default -> throw new IllegalArgumentException("unknown option '" + a + "'\n" + USAGE);
      }
    }
    if (model != null && !Files.isRegularFile(model)) {
      throw new IllegalArgumentException("--model " + model + " is not a file");
    }
    if (modelId == null) {
      modelId =
          model == null
              ? "glm-demo"
              : model.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
    }
    if (!modelId.matches("[A-Za-z0-9._:-]{1,128}")) {
      throw new IllegalArgumentException(
          "--model-id must be 1-128 of [A-Za-z0-9._:-], got '" + modelId + "'");
    }
    return new LauncherOptions(
        data.toAbsolutePath().normalize(),
        home,
        port,
        ephemeral,
        model == null ? null : model.toAbsolutePath(),
        modelId,
        Duration.ofSeconds(timeout),
        host,
        json);
  }

  /** An IP literal (no name: the bind must not depend on DNS). */
  private static String hostValue(String v) {
    String h = v.startsWith("[") && v.endsWith("]") ? v.substring(1, v.length() - 1) : v;
    if (!h.matches("[0-9.]+|[0-9A-Fa-f:]+") || (h.indexOf(':') < 0 && h.split("\\.").length != 4)) {
      throw new IllegalArgumentException(
          "--host must be an IP address such as 127.0.0.1 or 0.0.0.0, got '" + v + "'");
    }
    return h;
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length || args[i].startsWith("--")) {
      throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
    }
    return args[i];
  }

  private static int intValue(String[] args, int i, String option, int min, int max) {
    String v = value(args, i, option);
    try {
      int n = Integer.parseInt(v);
      if (n < min || n > max) {
        throw new IllegalArgumentException(
            option + " must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a number, got '" + v + "'");
    }
  }
}
