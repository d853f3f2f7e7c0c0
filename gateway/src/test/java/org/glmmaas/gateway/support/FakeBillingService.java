package org.glmmaas.gateway.support;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.glmmaas.proto.billing.v1.Balance;
import org.glmmaas.proto.billing.v1.BillingServiceGrpc;
import org.glmmaas.proto.billing.v1.GetBalanceRequest;
import org.glmmaas.proto.billing.v1.GetUsageRequest;
import org.glmmaas.proto.billing.v1.ReleaseRequest;
import org.glmmaas.proto.billing.v1.ReleaseResponse;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.glmmaas.proto.billing.v1.ReserveResponse;
import org.glmmaas.proto.billing.v1.UsageReport;
import org.glmmaas.proto.billing.v1.UsageRow;

/** BillingService over in-memory balances; 1 token costs 1 micro-unit. */
public final class FakeBillingService implements AutoCloseable {

  public final Map<String, Long> balances = new ConcurrentHashMap<>();
  public final Map<String, Long> reservations = new ConcurrentHashMap<>();
  public final Map<String, Boolean> released = new ConcurrentHashMap<>();

  /** Reserve answers this much later (the reservation is already held meanwhile), ms. */
  public volatile long reserveDelayMs;

  /** Every Reserve request, by request id. */
  public final Map<String, ReserveRequest> reserveRequests = new ConcurrentHashMap<>();

  private final Server server;

  public FakeBillingService() throws IOException {
    // handlers never block: run them on the transport thread (the load benchmark uses this fake)
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .directExecutor()
            .addService(new Service())
            .build()
            .start();
  }

  public String address() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
  }

  private final class Service extends BillingServiceGrpc.BillingServiceImplBase {
    @Override
    public void getBalance(GetBalanceRequest r, StreamObserver<Balance> out) {
      out.onNext(
          Balance.newBuilder()
              .setTenantId(r.getTenantId())
              .setBalanceMicros(balances.getOrDefault(r.getTenantId(), 0L))
              .setCurrency("CNY")
              .build());
      out.onCompleted();
    }

    @Override
    public void getUsage(GetUsageRequest r, StreamObserver<UsageReport> out) {
      out.onNext(
          UsageReport.newBuilder()
              .setCurrency("CNY")
              .addRows(
                  UsageRow.newBuilder()
                      .setDate(r.getFromDate())
                      .setModel("glm-4-flash")
                      .setKeyId("k-" + r.getTenantId())
                      .setRequests(3)
                      .setPromptTokens(36)
                      .setCachedTokens(12)
                      .setCompletionTokens(12)
                      .setCostMicros(48))
              .build());
      out.onCompleted();
    }

    @Override
    public void reserve(ReserveRequest r, StreamObserver<ReserveResponse> out) {
      reserveRequests.put(r.getRequestId(), r);
      long amount = (long) r.getPromptTokens() + r.getMaxTokens();
      long bal = balances.getOrDefault(r.getTenantId(), Long.MAX_VALUE / 4);
      boolean ok = bal >= amount;
      if (ok) {
        reservations.put(r.getRequestId(), amount);
      }
      ReserveResponse resp =
          ReserveResponse.newBuilder()
              .setGranted(ok)
              .setAmountMicros(ok ? amount : 0)
              .setAvailableMicros(ok ? bal - amount : bal)
              .build();
      long delay = reserveDelayMs;
      if (delay > 0) {
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Thread.sleep(delay);
                    out.onNext(resp);
                    out.onCompleted();
                  } catch (Exception e) {
                    // cancelled
                  }
                });
        return;
      }
      out.onNext(resp);
      out.onCompleted();
    }

    @Override
    public void release(ReleaseRequest r, StreamObserver<ReleaseResponse> out) {
      boolean had = reservations.remove(r.getRequestId()) != null;
      released.put(r.getRequestId(), had);
      out.onNext(ReleaseResponse.newBuilder().setReleased(had).build());
      out.onCompleted();
    }
  }
}
