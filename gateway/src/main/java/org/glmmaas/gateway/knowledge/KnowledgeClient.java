package org.glmmaas.gateway.knowledge;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.platform.identity.ServiceIdentityClientInterceptor;
import org.glmmaas.proto.knowledge.v1.KnowledgeServiceGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * knowledge-service's gRPC KnowledgeService, every call signed with the gateway's service identity;
 * calls run off the event loop and fail as GlmExceptions (NOT_FOUND → 404, INVALID_ARGUMENT → 400,
 * RESOURCE_EXHAUSTED → 413, FAILED_PRECONDITION (balance) → 429, anything else → 503).
 */
public final class KnowledgeClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KnowledgeClient.class);

  private final ManagedChannel channel;
  private final Duration timeout;

  public KnowledgeClient(String address, Duration timeout) {
    this.channel =
        ManagedChannelBuilder.forTarget(address)
            .usePlaintext()
            .maxInboundMessageSize(32 << 20)
            .intercept(ServiceIdentityClientInterceptor.PROCESS_WIDE)
            .build();
    this.timeout = timeout;
  }

  public <T> Mono<T> call(Function<KnowledgeServiceGrpc.KnowledgeServiceBlockingStub, T> f) {
    return Mono.fromCallable(
            () ->
                f.apply(
                    KnowledgeServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)))
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorMap(StatusRuntimeException.class, KnowledgeClient::map);
  }

  static GlmException map(StatusRuntimeException e) {
    Status s = e.getStatus();
    String msg = s.getDescription() == null ? s.getCode().name() : s.getDescription();
    return switch (s.getCode()) {
      case NOT_FOUND -> new GlmException(new GlmError.NotFound(msg));
      case INVALID_ARGUMENT -> GlmException.invalid(msg, null);
      case RESOURCE_EXHAUSTED -> new GlmException(new GlmError.PayloadTooLarge(msg));
      // the embedding of the query could not be held on the balance: as chat, 429 code 1113
      case FAILED_PRECONDITION -> new GlmException(new GlmError.InsufficientBalance(msg));
      default -> {
        log.warn("knowledge-service call failed: {}", s.getCode());
        yield new GlmException(
            new GlmError.Unavailable(
                "the knowledge service is unavailable, retry shortly", Duration.ofSeconds(1)));
      }
    };
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
