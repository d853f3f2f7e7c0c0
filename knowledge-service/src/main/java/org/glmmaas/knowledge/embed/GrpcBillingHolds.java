package org.glmmaas.knowledge.embed;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.glmmaas.platform.identity.ServiceIdentityClientInterceptor;
import org.glmmaas.proto.billing.v1.BillingServiceGrpc;
import org.glmmaas.proto.billing.v1.ReleaseRequest;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link BillingHolds} over billing-service's gRPC API, every call signed with the identity. */
public final class GrpcBillingHolds implements BillingHolds, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(GrpcBillingHolds.class);

  private final ManagedChannel channel;
  private final Duration timeout;

  public GrpcBillingHolds(String address, Duration timeout) {
    this.channel =
        ManagedChannelBuilder.forTarget(address)
            .usePlaintext()
            .intercept(ServiceIdentityClientInterceptor.PROCESS_WIDE)
            .build();
    this.timeout = timeout;
  }

  private BillingServiceGrpc.BillingServiceBlockingStub stub() {
    return BillingServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean reserve(String requestId, String tenantId, String model, int promptTokens) {
    try {
      return stub()
          .reserve(
              ReserveRequest.newBuilder()
                  .setRequestId(requestId)
                  .setTenantId(tenantId)
                  .setModel(model)
                  .setPromptTokens(promptTokens)
                  .setMaxTokens(0)
                  .build())
          .getGranted();
    } catch (StatusRuntimeException e) {
      throw new Embedder.UnavailableException(
          "billing did not answer the hold (" + e.getStatus().getCode() + ")");
    }
  }

  @Override
  public boolean hasBalance(String tenantId) {
    try {
      var b =
          stub()
              .getBalance(
                  org.glmmaas.proto.billing.v1.GetBalanceRequest.newBuilder()
                      .setTenantId(tenantId)
                      .build());
      return b.getBalanceMicros() - b.getReservedMicros() > 0;
    } catch (StatusRuntimeException e) {
      log.warn("balance check failed ({}); the upload goes on", e.getStatus().getCode());
      return true;
    }
  }

  @Override
  public void release(String requestId, String tenantId) {
    try {
      stub()
          .release(
              ReleaseRequest.newBuilder().setRequestId(requestId).setTenantId(tenantId).build());
    } catch (StatusRuntimeException e) {
      // the hold expires by itself (billing's reservation TTL)
      log.warn("releasing hold {} failed: {}", requestId, e.getStatus().getCode());
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
