package org.glmmaas.gateway.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The embedded default: {@code <data-dir>/files/<tenant hash>/<id>.data} holds the content and
 * {@code <id>.json} next to it the metadata. The content is moved into place first and the metadata
 * (written to a temporary file, then moved atomically) last, so a file exists exactly when its
 * metadata does: a crash mid-upload leaves no half file visible. Delete removes the metadata first
 * for the same reason. Uploads in flight wait in {@code files/.incoming}.
 */
public final class FolderFileStore implements FileStore {

  private final Path root;

  public FolderFileStore(Path dataDir) {
    this.root = dataDir.resolve("files");
  }

  private Path dir(String tenantId) {
    return root.resolve(hash(tenantId));
  }

  private Path meta(String tenantId, String id) {
    return dir(tenantId).resolve(FileIds.check(id) + ".json");
  }

  private Path data(String tenantId, String id) {
    return dir(tenantId).resolve(FileIds.check(id) + ".data");
  }

  @Override
  public Path incoming() throws IOException {
    return Files.createDirectories(root.resolve(".incoming"));
  }

  @Override
  public StoredFile create(
      String tenantId, String filename, String purpose, Path content, long bytes)
      throws IOException {
    StoredFile f =
        new StoredFile(
            FileIds.next(), tenantId, filename, purpose, bytes, System.currentTimeMillis() / 1000);
    Files.createDirectories(dir(tenantId));
    move(content, data(tenantId, f.id()));
    Path tmp = dir(tenantId).resolve(f.id() + ".json.tmp");
    Files.writeString(tmp, f.toJson(), StandardCharsets.UTF_8);
    move(tmp, meta(tenantId, f.id()));
    return f;
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Override
  public Optional<StoredFile> get(String tenantId, String id) throws IOException {
    if (!FileIds.valid(id)) {
      return Optional.empty();
    }
    try {
      StoredFile f =
          StoredFile.fromJson(Files.readString(meta(tenantId, id), StandardCharsets.UTF_8));
      return tenantId.equals(f.tenantId()) ? Optional.of(f) : Optional.empty();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public List<StoredFile> list(String tenantId) throws IOException {
    List<StoredFile> out = new ArrayList<>();
    Path d = dir(tenantId);
    if (!Files.isDirectory(d)) {
      return out;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(d, "file-*.json")) {
      for (Path p : s) {
        try {
          StoredFile f = StoredFile.fromJson(Files.readString(p, StandardCharsets.UTF_8));
          if (tenantId.equals(f.tenantId())) {
            out.add(f);
          }
        } catch (NoSuchFileException e) {
          // deleted meanwhile
        }
      }
    }
    return out;
  }

  @Override
  public Optional<InputStream> open(String tenantId, String id) throws IOException {
    if (get(tenantId, id).isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Files.newInputStream(data(tenantId, id)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public boolean delete(String tenantId, String id) throws IOException {
    if (get(tenantId, id).isEmpty()) {
      return false;
    }
    boolean gone = Files.deleteIfExists(meta(tenantId, id));
    Files.deleteIfExists(data(tenantId, id));
    return gone;
  }

  /**
   * Removes what a gateway stopped mid-upload or mid-delete left behind: uploads in flight,
   * metadata temporary files, and contents without metadata. Call once at start, before any upload
   * (it cannot tell an upload of this process in flight from a leftover).
   *
   * @return how many leftovers were removed
   */
  public int recover() throws IOException {
    if (!Files.isDirectory(root)) {
      return 0;
    }
    int removed = 0;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
      for (Path d : dirs) {
        if (!Files.isDirectory(d)) {
          continue;
        }
        boolean incoming = d.getFileName().toString().equals(".incoming");
        try (DirectoryStream<Path> s = Files.newDirectoryStream(d)) {
          for (Path f : s) {
            String n = f.getFileName().toString();
            boolean orphan =
                n.endsWith(".data")
                    && !Files.exists(
                        f.resolveSibling(n.substring(0, n.length() - ".data".length()) + ".json"));
            if (incoming || n.endsWith(".json.tmp") || orphan) {
              if (Files.isRegularFile(f) && Files.deleteIfExists(f)) {
                removed++;
              }
            }
          }
        }
      }
    }
    return removed;
  }

  static String hash(String tenantId) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(tenantId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
