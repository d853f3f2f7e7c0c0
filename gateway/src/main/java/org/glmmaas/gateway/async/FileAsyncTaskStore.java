package org.glmmaas.gateway.async;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One small JSON file per task under {@code <data-dir>/async/<tenant hash>/<id>.json}, written to a
 * temporary file and moved into place atomically, so a crash never leaves a torn task. A task
 * expires {@code ttl} after its file was last written: it then reads as absent, and the sweep
 * deletes it (with leftover temporary files of the same age and emptied tenant folders).
 */
public final class FileAsyncTaskStore implements AsyncTaskStore {

  private static final Logger log = LoggerFactory.getLogger(FileAsyncTaskStore.class);

  private final Path root;
  private final Duration ttl;
  private final Clock clock;

  public FileAsyncTaskStore(Path dataDir, Duration ttl, Clock clock) {
    this.root = dataDir.resolve("async");
    this.ttl = ttl;
    this.clock = clock;
  }

  private Path file(String tenantId, String id) {
    return root.resolve(hash(tenantId)).resolve(id + ".json");
  }

  @Override
  public Mono<Void> put(AsyncTask task) {
    return Mono.<Void>fromRunnable(
            () -> {
              try {
                Path f = file(task.tenantId(), task.id());
                Files.createDirectories(f.getParent());
                Path tmp =
                    f.resolveSibling(task.id() + ".tmp-" + Thread.currentThread().threadId());
                Files.writeString(tmp, task.toJson(), StandardCharsets.UTF_8);
                Files.setLastModifiedTime(tmp, FileTime.from(clock.instant()));
                try {
                  Files.move(
                      tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                  Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
                }
              } catch (IOException e) {
                throw new UncheckedIOException("cannot store async task", e);
              }
            })
        .subscribeOn(Schedulers.boundedElastic());
  }

  @Override
  public Mono<AsyncTask> get(String tenantId, String id) {
    return Mono.fromCallable(
            () -> {
              Path f = file(tenantId, id);
              try {
                if (expired(f)) {
                  Files.deleteIfExists(f);
                  return null;
                }
                AsyncTask t = AsyncTask.fromJson(Files.readString(f, StandardCharsets.UTF_8));
                return tenantId.equals(t.tenantId()) ? t : null;
              } catch (NoSuchFileException e) {
                return null;
              }
            })
        .subscribeOn(Schedulers.boundedElastic());
  }

  private boolean expired(Path f) throws IOException {
    return Files.getLastModifiedTime(f).toInstant().plus(ttl).isBefore(clock.instant());
  }

  @Override
  public Mono<Integer> sweep() {
    return Mono.fromCallable(this::sweepNow).subscribeOn(Schedulers.boundedElastic());
  }

  private int sweepNow() throws IOException {
    if (!Files.isDirectory(root)) {
      return 0;
    }
    int removed = 0;
    try (DirectoryStream<Path> tenants = Files.newDirectoryStream(root)) {
      for (Path dir : tenants) {
        if (!Files.isDirectory(dir)) {
          continue;
        }
        boolean empty = true;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(dir)) {
          for (Path f : tasks) {
            try {
              if (expired(f)) {
                Files.deleteIfExists(f);
                removed += f.getFileName().toString().endsWith(".json") ? 1 : 0;
              } else {
                empty = false;
              }
            } catch (NoSuchFileException e) {
              // removed meanwhile by a read of an expired task
            }
          }
        }
        if (empty) {
          try {
            Files.deleteIfExists(dir);
          } catch (IOException e) {
            // a task was written into it meanwhile
          }
        }
      }
    }
    if (removed > 0) {
      log.info("removed {} expired async task results", removed);
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
