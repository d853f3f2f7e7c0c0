package org.glmmaas.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The four service jars the {@code glm} script built ({@code
 * <module>/target/<module>-<version>.jar}).
 */
record ServiceJars(Path auth, Path billing, Path worker, Path gateway, Path knowledge) {

  static final List<String> MODULES =
      List.of(
          "auth-service", "billing-service", "inference-worker", "gateway", "knowledge-service");

  static ServiceJars locate(Path home) throws IOException {
    List<Path> found = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String module : MODULES) {
      Path jar = find(home.resolve(module).resolve("target"), module);
      if (jar == null) {
        missing.add(module);
      }
      found.add(jar);
    }
    if (!missing.isEmpty()) {
      throw new IOException(
          "service jars not built: "
              + missing
              + " under "
              + home
              + " (./glm up builds them; or ./mvnw -pl "
              + String.join(",", missing)
              + " -am package -DskipTests)");
    }
    return new ServiceJars(found.get(0), found.get(1), found.get(2), found.get(3), found.get(4));
  }

  private static Path find(Path target, String module) throws IOException {
    if (!Files.isDirectory(target)) {
      return null;
    }
    try (Stream<Path> files = Files.list(target)) {
      return files
          .filter(
              p -> {
                String n = p.getFileName().toString();
                return n.startsWith(module + "-")
                    && n.endsWith(".jar")
                    && !n.endsWith("-plain.jar")
                    && !n.endsWith("-sources.jar")
                    && !n.endsWith("-tests.jar");
              })
          .findFirst()
          .orElse(null);
    }
  }
}
