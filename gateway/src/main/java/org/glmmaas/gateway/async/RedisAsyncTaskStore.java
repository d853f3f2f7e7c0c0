package org.glmmaas.gateway.async;

import java.time.Duration;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Mono;

/**
 * Tasks in Redis under {@code glm:async:{tenant}:{id}}, each written with an expiry of {@code ttl}
 * (every write restarts it), so Redis itself removes old results and {@link #sweep()} has nothing
 * to do.
 */
public final class RedisAsyncTaskStore implements AsyncTaskStore {

  private final ReactiveStringRedisTemplate redis;
  private final Duration ttl;

  public RedisAsyncTaskStore(ReactiveStringRedisTemplate redis, Duration ttl) {
    this.redis = redis;
    this.ttl = ttl;
  }

  static String key(String tenantId, String id) {
    return "glm:async:{" + tenantId + "}:" + id;
  }

  @Override
  public Mono<Void> put(AsyncTask task) {
    return redis.opsForValue().set(key(task.tenantId(), task.id()), task.toJson(), ttl).then();
  }

  @Override
  public Mono<AsyncTask> get(String tenantId, String id) {
    return redis
        .opsForValue()
        .get(key(tenantId, id))
        .map(AsyncTask::fromJson)
        .filter(t -> tenantId.equals(t.tenantId()));
  }

  @Override
  public Mono<Integer> sweep() {
    return Mono.just(0);
  }
}
