package org.glmmaas.gateway.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where uploaded files and their metadata live. Every method takes the caller's tenant: a file is
 * only ever seen, read or deleted by the tenant that uploaded it. Methods block (callers run them
 * on a blocking scheduler).
 */
public interface FileStore {

  /**
   * Takes over {@code content} (a checked temporary file, moved or copied away and then gone) as a
   * new file of the tenant.
   */
  StoredFile create(String tenantId, String filename, String purpose, Path content, long bytes)
      throws IOException;

  /** The tenant's file with this id, or empty (also when another tenant owns the id). */
  Optional<StoredFile> get(String tenantId, String id) throws IOException;

  /** All the tenant's files, in no particular order. */
  List<StoredFile> list(String tenantId) throws IOException;

  /** The content of the tenant's file, or empty; the caller closes the stream. */
  Optional<InputStream> open(String tenantId, String id) throws IOException;

  /** Deletes the tenant's file; false when it had none with this id. */
  boolean delete(String tenantId, String id) throws IOException;

  /** A folder for uploads in flight (on the same file system as the store where it has one). */
  Path incoming() throws IOException;
}
