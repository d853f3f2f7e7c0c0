package org.glmmaas.gateway.billing;

import com.google.common.util.concurrent.ListenableFuture;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.routing.LoopChannels;
import org.glmmaas.proto.billing.v1.Balance;
import org.glmmaas.proto.billing.v1.BillingServiceGrpc;
import org.glmmaas.proto.billing.v1.GetBalanceRequest;
import org.glmmaas.proto.billing.v1.GetUsageRequest;
import org.glmmaas.proto.billing.v1.ReleaseRequest;
import org.glmmaas.proto.billing.v1.ReleaseResponse;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.glmmaas.proto.billing.v1.ReserveResponse;
import org.glmmaas.proto.billing.v1.UsageReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/** billing-service's gRPC BillingService, as Monos whose errors are GlmExceptions. */
public final class BillingClient {

  private static final Logger log = LoggerFactory.getLogger(BillingClient.class);

  private final LoopChannels channels;
  private final BillingServiceGrpc.BillingServiceFutureStub[] stubs;
  private final Duration timeout;

  /**
   * @param channels one per HTTP event loop where the gateway has them: a reservation made on a
   *     loop is answered on it, so the worker call that follows leaves from the same loop
   */
  public BillingClient(LoopChannels channels, Duration timeout) {
    this.channels = channels;
    this.stubs = new BillingServiceGrpc.BillingServiceFutureStub[channels.size()];
    for (int i = 0; i < stubs.length; i++) {
      stubs[i] = BillingServiceGrpc.newFutureStub(channels.get(i));
    }
    this.timeout = timeout;
  }

  private BillingServiceGrpc.BillingServiceFutureStub s() {
    return stubs[channels.index()].withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public Mono<Balance> balance(String tenantId) {
    return call(() -> s().getBalance(GetBalanceRequest.newBuilder().setTenantId(tenantId).build()));
  }

  public Mono<UsageReport> usage(String tenantId, String from, String to) {
    return call(
        () ->
            s().getUsage(
                    GetUsageRequest.newBuilder()
                        .setTenantId(tenantId)
                        .setFromDate(from)
                        .setToDate(to)
                        .build()));
  }

  public Mono<ReserveResponse> reserve(ReserveRequest r) {
    return call(() -> s().reserve(r));
  }

  public Mono<ReleaseResponse> release(String requestId, String tenantId) {
    return call(() ->
            s().release(
                    ReleaseRequest.newBuilder()
                        .setRequestId(requestId)
                        .setTenantId(tenantId)
                        .build()))
        .onErrorResume(
            e -> {
              log.warn("releasing a reservation failed: {}", e.toString());
              return Mono.empty();
            });
  }

  private static <T> Mono<T> call(java.util.function.Supplier<ListenableFuture<T>> f) {
    return Mono.fromFuture(
            () -> {
              ListenableFuture<T> lf = f.get();
              CompletableFuture<T> cf =
                  new CompletableFuture<>() {
                    @Override
                    public boolean cancel(boolean b) {
                      lf.cancel(b);
                      return super.cancel(b);
                    }
                  };
              lf.addListener(
                  () -> {
                    try {
                      cf.complete(lf.get());
                    } catch (ExecutionException e) {
                      cf.completeExceptionally(e.getCause());
                    } catch (Exception e) {
                      cf.completeExceptionally(e);
                    }
                  },
                  Runnable::run);
              return cf;
            })
        .onErrorMap(
            t -> !(t instanceof GlmException),
            t -> {
              log.warn("billing-service call failed: {}", t.toString());
              return new GlmException(
                  new GlmError.Unavailable(
                      "the billing service is unavailable, retry shortly", Duration.ofSeconds(1)));
            });
  }
}
