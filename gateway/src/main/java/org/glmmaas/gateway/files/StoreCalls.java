package org.glmmaas.gateway.files;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Blocking store work (files, batches) off the event loop, its I/O failures a retryable 503. */
public final class StoreCalls {

  private static final Logger log = LoggerFactory.getLogger(StoreCalls.class);

  private StoreCalls() {}

  /**
   * Runs {@code c} on the bounded-elastic scheduler; an {@link IOException} becomes "the {@code
   * store} is unavailable, retry shortly" (503, retry after 1 s), logged without its content.
   */
  public static <T> Mono<T> blocking(String store, Callable<T> c) {
    return Mono.fromCallable(c)
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorMap(
            IOException.class,
            e -> {
              log.warn("{} failed: {}", store, e.toString());
              return new GlmException(
                  new GlmError.Unavailable(
                      "the " + store + " is unavailable, retry shortly", Duration.ofSeconds(1)));
            });
  }
}
