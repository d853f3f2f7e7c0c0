package org.glmmaas.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

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

  /**
   * The files of the checkout: what git tracks (plus untracked files it does not ignore), or,
   * outside a git checkout, every file but build output.
   */
  static List<Path> tracked() {
    Path root = root();
    try {
      Process git =
          new ProcessBuilder("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
              .directory(root.toFile())
              .redirectErrorStream(false)
              .start();
      byte[] out = git.getInputStream().readAllBytes();
      if (git.waitFor() == 0) {
        List<Path> files = new ArrayList<>();
        for (String name : new String(out, StandardCharsets.UTF_8).split("\0")) {
          Path p = root.resolve(name);
          if (!name.isEmpty() && Files.isRegularFile(p)) {
            files.add(p);
          }
        }
        return files;
      }
    } catch (IOException e) {
      // no git: walk the tree
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Set<String> skip = Set.of(".git", "target", "node_modules", ".glm-data");
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> root.relativize(p).toString().isEmpty() || noneOf(root.relativize(p), skip))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean noneOf(Path relative, Set<String> names) {
    for (Path part : relative) {
      if (names.contains(part.toString())) {
        return false;
      }
    }
    return true;
  }

  static Path chart() {
    return root().resolve("helm/glm-maas");
  }

  static Path deploy(String relative) {
    return root().resolve("deploy").resolve(relative);
  }
}
