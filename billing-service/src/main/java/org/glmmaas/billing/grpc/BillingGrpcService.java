package org.glmmaas.billing.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.LocalDate;
import java.util.function.Supplier;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.account.AccountBalance;
import org.glmmaas.billing.account.AccountService;
import org.glmmaas.billing.account.ReservationOutcome;
import org.glmmaas.billing.ledger.UsageQueries;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/** BillingService over gRPC: what gateways call for a tenant (balance, usage, reserve, release). */
@Component
public class BillingGrpcService extends BillingServiceGrpc.BillingServiceImplBase {

  private static final Logger log = LoggerFactory.getLogger(BillingGrpcService.class);

  private final AccountService accounts;
  private final UsageQueries usage;
  private final BillingProperties props;

  public BillingGrpcService(AccountService accounts, UsageQueries usage, BillingProperties props) {
    this.accounts = accounts;
    this.usage = usage;
    this.props = props;
  }

  @Override
  public void getBalance(GetBalanceRequest req, StreamObserver<Balance> out) {
    answer(
        out,
        () -> {
          AccountBalance b = accounts.balance(req.getTenantId());
          return Balance.newBuilder()
              .setTenantId(b.tenantId())
              .setBalanceMicros(b.balanceMicros())
              .setReservedMicros(b.reservedMicros())
              .setCurrency(b.currency())
              .build();
        });
  }

  @Override
  public void getUsage(GetUsageRequest req, StreamObserver<UsageReport> out) {
    answer(
        out,
        () -> {
          if (req.getTenantId().isBlank()) {
            throw new IllegalArgumentException("tenant_id is required");
          }
          UsageReport.Builder report = UsageReport.newBuilder().setCurrency(props.currency());
          usage
              .usage(
                  req.getTenantId(),
                  date(req.getFromDate(), "from_date"),
                  date(req.getToDate(), "to_date"))
              .forEach(
                  r ->
                      report.addRows(
                          UsageRow.newBuilder()
                              .setDate(r.date().toString())
                              .setModel(r.model())
                              .setKeyId(r.keyId())
                              .setRequests(r.requests())
                              .setPromptTokens(r.promptTokens())
                              .setCachedTokens(r.cachedTokens())
                              .setCompletionTokens(r.completionTokens())
                              .setCostMicros(r.costMicros())));
          return report.build();
        });
  }

  @Override
  public void reserve(ReserveRequest req, StreamObserver<ReserveResponse> out) {
    answer(
        out,
        () -> {
          ReservationOutcome o =
              accounts.reserve(
                  req.getRequestId(),
                  req.getTenantId(),
                  req.getModel(),
                  req.getPromptTokens(),
                  req.getMaxTokens(),
                  req.getBatch());
          return ReserveResponse.newBuilder()
              .setGranted(o.granted())
              .setAmountMicros(o.amountMicros())
              .setAvailableMicros(o.availableMicros())
              .build();
        });
  }

  @Override
  public void release(ReleaseRequest req, StreamObserver<ReleaseResponse> out) {
    answer(
        out,
        () ->
            ReleaseResponse.newBuilder()
                .setReleased(accounts.release(req.getRequestId(), req.getTenantId()))
                .build());
  }

  private static LocalDate date(String value, String field) {
    try {
      return LocalDate.parse(value);
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(field + " must be YYYY-MM-DD");
    }
  }

  private static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
    T value;
    try {
      value = call.get();
    } catch (IllegalArgumentException | ArithmeticException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (RuntimeException e) {
      log.error("BillingService call failed", e);
      out.onError(
          Status.UNAVAILABLE
              .withDescription("billing temporarily unavailable")
              .asRuntimeException());
      return;
    }
    out.onNext(value);
    out.onCompleted();
  }
}
