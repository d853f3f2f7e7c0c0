package org.glmmaas.gateway.async;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One small JSON file per task under {@code <data-dir>/async/<tenant hash>/<id>.json}, written to
 * a temporary file and moved into place atomically, so a crash never leaves a torn task.
 */
public final class FileAsyncTaskStore implements AsyncTaskStore {

  private final Path root;

  public FileAsyncTaskStore(Path dataDir) {
    this.root = dataDir.resolve("async");
  }

  private Path file(String tenantId, String id) {
    return root.resolve(hash(tenantId)).resolve(id + ".json");
  }

  @Override
  public Mono<Void> put(AsyncTask task) {
    return Mono.<Void>fromRunnable(() -> {
      try {
        Path f = file(task.tenantId(), task.id());
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling(task.id() + ".tmp-" + Thread.currentThread().threadId());
        Files.writeString(tmp, task.toJson(), StandardCharsets.UTF_8);
        try {
          Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot store async task", e);
      }
    }).subscribeOn(Schedulers.boundedElastic());
  }

  @Override
  public Mono<AsyncTask> get(String tenantId, String id) {
    return Mono.fromCallable(() -> {
      try {
        AsyncTask t = AsyncTask.fromJson(Files.readString(file(tenantId, id),
            StandardCharsets.UTF_8));
        return tenantId.equals(t.tenantId()) ? t : null;
      } catch (NoSuchFileException e) {
        return null;
      }
    }).subscribeOn(Schedulers.boundedElastic());
  }

  private static String hash(String tenantId) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(
          tenantId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
