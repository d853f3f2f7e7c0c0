package org.glmmaas.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The documentation a clone carries is whole: every relative link in README.md and docs/*.md leads
 * to a file of the repository (and to a heading of it, when the link names one), and every
 * repository file a source comment cites (a path such as docs/engine.md, a path relative to the
 * citing file's folder or a folder above it, or a bare file name that some file of the repository
 * has) exists.
 */
class DocLinksTest {

  static final Pattern MD_LINK = Pattern.compile("\\[[^\\]]*]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");

  /** An HTML image or link inside Markdown: {@code <img src="...">}, {@code <a href="...">}. */
  static final Pattern HTML_REF = Pattern.compile("<(?:img|a)\\s[^>]*?(?:src|href)=\"([^\"]+)\"");

  /**
   * A path-like token: segments of word characters, dots and dashes joined by '/', ending in an
   * extension of a file kind the repository holds (a bare file name too).
   */
  static final Pattern CITED_PATH =
      Pattern.compile(
          "(?<![\\w./:<>{}$*@-])((?:\\.\\./|\\./)?(?:[\\w.-]+/)*[\\w-][\\w.-]*"
              + "\\.(?:md|java|h|hpp|c|cc|cpp|cu|cuh|py|sh|ya?ml|xml|json|proto|sql|txt|lua|properties|tpl"
              + "|ts|tsx|js|mjs|css|html))"
              + "(?![\\w/-])");

  /**
   * Names that look like files but are not this repository's: the llama.cpp project and the files
   * of it that comments name as the source of a fact, files the platform writes at run time, and
   * the Node.js runtime.
   */
  static final Set<String> NOT_REPOSITORY_FILES =
      Set.of(
          "llama.cpp",
          "llama.h",
          "ggml-common.h",
          "ggml-quants.c",
          "src/unicode-data.cpp",
          "compare.py",
          "endpoints.json",
          "Node.js");

  static final Set<String> SOURCE_EXTENSIONS =
      Set.of(
          "java",
          "h",
          "hpp",
          "c",
          "cc",
          "cpp",
          "cu",
          "cuh",
          "proto",
          "js",
          "mjs",
          "ts",
          "tsx",
          "css",
          "html",
          "sql",
          "py",
          "sh",
          "yaml",
          "yml",
          "properties",
          "xml",
          "lua",
          "cmake",
          "txt",
          "tpl");

  @Test
  void everyRelativeLinkInTheReadmeAndDocsResolves() throws IOException {
    Path root = RepoFiles.root();
    assertThat(root.resolve("docs")).as("the docs/ folder").isDirectory();
    List<Path> docs = new ArrayList<>();
    docs.add(root.resolve("README.md"));
    try (Stream<Path> s = Files.list(root.resolve("docs"))) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    assertThat(docs).hasSizeGreaterThan(1);
    List<String> broken = new ArrayList<>();
    int links = 0;
    for (Path doc : docs) {
      String text = withoutCodeBlocks(Files.readString(doc));
      List<String> targets = new ArrayList<>();
      for (Pattern p : List.of(MD_LINK, HTML_REF)) {
        Matcher m = p.matcher(text);
        while (m.find()) {
          targets.add(m.group(1));
        }
      }
      for (String target : targets) {
        if (target.matches("^[a-z][a-z0-9+.-]*:.*")) {
          continue; // https:, mailto: ...
        }
        links++;
        String file = target;
        String anchor = null;
        int hash = target.indexOf('#');
        if (hash >= 0) {
          file = target.substring(0, hash);
          anchor = target.substring(hash + 1);
        }
        Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
        String where = root.relativize(doc) + ": " + target;
        if (!resolved.startsWith(root) || !Files.exists(resolved)) {
          broken.add(where + " (no such file)");
        } else if (anchor != null
            && resolved.toString().endsWith(".md")
            && !anchors(resolved).contains(anchor)) {
          broken.add(where + " (no heading #" + anchor + ")");
        }
      }
    }
    assertThat(links).as("relative links found").isGreaterThan(5);
    assertThat(broken).as("broken links in README.md and docs/").isEmpty();
  }

  @Test
  void everyRepositoryFileASourceCommentCitesExists() {
    Path root = RepoFiles.root();
    List<Path> files = RepoFiles.tracked();
    Set<String> names = new HashSet<>();
    files.forEach(f -> names.add(f.getFileName().toString()));
    Set<String> broken = new TreeSet<>();
    int cited = 0;
    for (Path file : files) {
      String name = file.getFileName().toString();
      String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "";
      if (!SOURCE_EXTENSIONS.contains(ext) && !name.equals("glm") && !name.equals("run")) {
        continue;
      }
      String text;
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        continue; // not UTF-8 text
      }
      for (String comment : comments(text, ext)) {
        Matcher m = CITED_PATH.matcher(comment);
        while (m.find()) {
          String path = m.group(1);
          if (ignored(path)) {
            continue;
          }
          cited++;
          if (!resolves(root, file.getParent(), path)
              && !(!path.contains("/") && names.contains(path))) {
            broken.add(root.relativize(file) + ": " + path);
          }
        }
      }
    }
    assertThat(cited).as("file citations found in comments").isGreaterThan(20);
    assertThat(broken).as("files cited in source comments that do not exist").isEmpty();
  }

  @Test
  void commentsOfTheConsoleLanguagesAreReadForCitations() {
    assertThat(cited(comments("const a = 1; // see docs/console.md\n", "tsx")))
        .containsExactly("docs/console.md");
    assertThat(cited(comments("<!-- built by vite.config.ts -->\n<div/>", "html")))
        .containsExactly("vite.config.ts");
    assertThat(cited(comments("-- the usage flow: docs/architecture.md\nSELECT 1;", "sql")))
        .containsExactly("docs/architecture.md");
    assertThat(cited(comments("const url = 'http://x/a.md';", "ts"))).isEmpty();
  }

  private static List<String> cited(List<String> comments) {
    List<String> out = new ArrayList<>();
    for (String c : comments) {
      Matcher m = CITED_PATH.matcher(c);
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  /** Paths that are not claims about this repository's files. */
  static boolean ignored(String path) {
    return NOT_REPOSITORY_FILES.contains(path)
        || path.startsWith("../shared/")
        || path.startsWith("../../shared/")
        || path.contains("target/")
        || path.startsWith("/");
  }

  /**
   * Resolves like a reader would: against the citing file's folder or any folder above it up to the
   * root (module-relative paths cited from inside a module). A bare file name also resolves when
   * any file of the repository has that name (checked by the caller).
   */
  static boolean resolves(Path root, Path from, String path) {
    for (Path dir = from; dir != null && dir.startsWith(root); dir = dir.getParent()) {
      if (Files.exists(dir.resolve(path).normalize())) {
        return true;
      }
    }
    return false;
  }

  /** The comment text of a source file, by its language's comment syntax. */
  static List<String> comments(String text, String ext) {
    List<String> out = new ArrayList<>();
    switch (ext) {
      case "java",
          "h",
          "hpp",
          "c",
          "cc",
          "cpp",
          "cu",
          "cuh",
          "proto",
          "js",
          "mjs",
          "ts",
          "tsx",
          "css" -> {
        Matcher m =
            Pattern.compile("/\\*.*?\\*/|(?<![:\"'\\\\])//[^\\n]*", Pattern.DOTALL).matcher(text);
        while (m.find()) {
          out.add(m.group());
        }
      }
      case "xml", "html" -> {
        Matcher m = Pattern.compile("<!--.*?-->", Pattern.DOTALL).matcher(text);
        while (m.find()) {
          out.add(m.group());
        }
      }
      case "py" -> {
        Matcher m = Pattern.compile("\"\"\".*?\"\"\"|(?m)#[^\\n]*$", Pattern.DOTALL).matcher(text);
        while (m.find()) {
          out.add(m.group());
        }
      }
      default -> {
        // shell, YAML, properties, CMake, Lua (--), templates: line comments
        Matcher m = Pattern.compile("(?m)(?:^|\\s)(?:#|--)[^\\n]*$").matcher(text);
        while (m.find()) {
          out.add(m.group());
        }
      }
    }
    return out;
  }

  static String withoutCodeBlocks(String markdown) {
    return markdown.replaceAll("(?s)```.*?```", "").replaceAll("`[^`\\n]*`", "");
  }

  /** GitHub's heading anchors of a Markdown file. */
  static Set<String> anchors(Path md) {
    Set<String> out = new HashSet<>();
    Set<String> seen = new HashSet<>();
    try {
      for (String line : Files.readString(md).replaceAll("(?s)```.*?```", "").split("\n")) {
        Matcher h = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$").matcher(line);
        if (!h.find()) {
          continue;
        }
        String slug =
            Normalizer.normalize(h.group(1).replace("`", ""), Normalizer.Form.NFC)
                .toLowerCase(Locale.ROOT)
                .replaceAll("[^\\p{L}\\p{N} _-]", "")
                .replace(' ', '-');
        String unique = slug;
        for (int i = 1; !seen.add(unique); i++) {
          unique = slug + "-" + i;
        }
        out.add(unique);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
