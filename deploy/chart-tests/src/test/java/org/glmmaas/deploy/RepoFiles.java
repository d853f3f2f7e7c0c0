package org.glmmaas.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates files of the checkout (Surefire passes the root as {@code glm.repo.dir}). */
final class RepoFiles {

  private RepoFiles() {}

  static Path root() {
    String dir = System.getProperty("glm.repo.dir");
    Path root = dir != null ? Path.of(dir) : Path.of("../..");
    root = root.toAbsolutePath().normalize();
    if (!Files.isRegularFile(root.resolve("glm"))) {
      throw new IllegalStateException("not the repository root (no glm script): " + root);
    }
    return root;
  }

  static Path chart() {
    return root().resolve("helm/glm-maas");
  }

  static Path deploy(String relative) {
    return root().resolve("deploy").resolve(relative);
  }
}
