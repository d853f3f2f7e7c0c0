package org.glmmaas.gateway.async;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.glmmaas.gateway.error.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAsyncTaskStoreTest {

  static final Duration DAY = Duration.ofHours(24);

  @TempDir Path dir;

  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  static AsyncTask task(String id, String tenant) {
    return new AsyncTask(
        id, "req-" + id, tenant, "glm-4-flash", "PROCESSING", System.currentTimeMillis(), null);
  }

  @Test
  void tasksSurviveARestartAndStayWithTheirTenant() throws Exception {
    AsyncTask t = task("abc123", "tenant-a");
    new FileAsyncTaskStore(dir, DAY, Clock.systemUTC()).put(t).block();
    var done = Json.object();
    done.putArray("choices").addObject().put("index", 0);
    new FileAsyncTaskStore(dir, DAY, Clock.systemUTC()).put(t.finish("SUCCESS", done)).block();

    FileAsyncTaskStore afterRestart = new FileAsyncTaskStore(dir, DAY, Clock.systemUTC());
    AsyncTask read = afterRestart.get("tenant-a", "abc123").block();
    assertThat(read.status()).isEqualTo("SUCCESS");
    assertThat(read.result().at("/choices/0/index").asInt()).isZero();
    assertThat(afterRestart.get("tenant-b", "abc123").block()).isNull();
    try (var files = Files.walk(dir)) {
      assertThat(files.filter(f -> f.toString().contains(".tmp-"))).isEmpty();
    }
  }

  @Test
  void resultsExpireAfterTheirTtlAndTheSweepDeletesThem() throws Exception {
    MovableClock clock = new MovableClock();
    FileAsyncTaskStore store = new FileAsyncTaskStore(dir, DAY, clock);
    store.put(task("old1", "tenant-a")).block();
    store.put(task("old2", "tenant-b")).block();
    clock.now = clock.now.plus(Duration.ofHours(20));
    store.put(task("young", "tenant-a")).block();
    // a result rewritten (finished) later lives a day from that write
    store.put(task("old2", "tenant-b").finish("SUCCESS", Json.object())).block();

    clock.now = clock.now.plus(Duration.ofHours(5)); // old1 is 25 h old, young and old2 5 h
    assertThat(store.get("tenant-a", "old1").block()).as("expired: reads as absent").isNull();
    assertThat(store.get("tenant-a", "young").block()).isNotNull();
    assertThat(store.get("tenant-b", "old2").block().status()).isEqualTo("SUCCESS");

    clock.now = clock.now.plus(Duration.ofHours(20)); // young and old2 are 25 h old
    store.put(task("fresh", "tenant-c")).block();
    assertThat(store.sweep().block()).isEqualTo(2);
    try (var files = Files.walk(dir.resolve("async"))) {
      assertThat(files.filter(Files::isRegularFile).map(f -> f.getFileName().toString()))
          .containsExactly("fresh.json");
    }
    try (var dirs = Files.list(dir.resolve("async"))) {
      assertThat(dirs.count()).as("emptied tenant folders are removed").isEqualTo(1);
    }
    assertThat(store.sweep().block()).isZero();
    assertThat(store.get("tenant-c", "fresh").block()).isNotNull();
  }
}
