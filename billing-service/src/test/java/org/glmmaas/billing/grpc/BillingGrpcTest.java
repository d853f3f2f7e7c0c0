package org.glmmaas.billing.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.LocalDate;
import org.glmmaas.billing.support.BillingIntegrationTest;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.proto.billing.v1.BillingServiceGrpc;
import org.glmmaas.proto.billing.v1.GetBalanceRequest;
import org.glmmaas.proto.billing.v1.GetUsageRequest;
import org.glmmaas.proto.billing.v1.ReleaseRequest;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.glmmaas.proto.billing.v1.ReserveResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** BillingService over a real gRPC channel, as a gateway calls it. */
class BillingGrpcTest extends BillingIntegrationTest {

  @Autowired GrpcServer server;

  private ManagedChannel channel;
  private BillingServiceGrpc.BillingServiceBlockingStub stub;

  @BeforeEach
  void connect() {
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
    stub = BillingServiceGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void close() {
    channel.shutdownNow();
  }

  @Test
  void reserveBalanceReleaseAndUsage() {
    String tenant = newTenant();
    accounts.topUp(tenant, 1_000_000, "CNY");
    // default price: 1 CNY/Mtok input, 2 CNY/Mtok output -> 1000 + 2 * 2000 = 5000 micros
    ReserveResponse r =
        stub.reserve(
            ReserveRequest.newBuilder()
                .setRequestId("g1-" + tenant)
                .setTenantId(tenant)
                .setModel("unknown-model")
                .setPromptTokens(1000)
                .setMaxTokens(2000)
                .build());
    assertThat(r.getGranted()).isTrue();
    assertThat(r.getAmountMicros()).isEqualTo(5_000);
    assertThat(r.getAvailableMicros()).isEqualTo(995_000);

    var balance = stub.getBalance(GetBalanceRequest.newBuilder().setTenantId(tenant).build());
    assertThat(balance.getBalanceMicros()).isEqualTo(1_000_000);
    assertThat(balance.getReservedMicros()).isEqualTo(5_000);
    assertThat(balance.getCurrency()).isEqualTo("CNY");

    ReserveResponse tooBig =
        stub.reserve(
            ReserveRequest.newBuilder()
                .setRequestId("g2-" + tenant)
                .setTenantId(tenant)
                .setModel("unknown-model")
                .setPromptTokens(1)
                .setMaxTokens(1_000_000)
                .build());
    assertThat(tooBig.getGranted()).isFalse();

    assertThat(
            stub.release(
                    ReleaseRequest.newBuilder()
                        .setRequestId("g1-" + tenant)
                        .setTenantId(tenant)
                        .build())
                .getReleased())
        .isTrue();
    assertThat(
            stub.getBalance(GetBalanceRequest.newBuilder().setTenantId(tenant).build())
                .getReservedMicros())
        .isZero();

    var usage =
        stub.getUsage(
            GetUsageRequest.newBuilder()
                .setTenantId(tenant)
                .setFromDate(LocalDate.now().minusDays(1).toString())
                .setToDate(LocalDate.now().toString())
                .build());
    assertThat(usage.getRowsList()).isEmpty();
    assertThat(usage.getCurrency()).isEqualTo("CNY");
  }

  @Test
  void invalidRequestsAreInvalidArgument() {
    assertThatThrownBy(() -> stub.getBalance(GetBalanceRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThatThrownBy(
            () ->
                stub.getUsage(
                    GetUsageRequest.newBuilder()
                        .setTenantId("t")
                        .setFromDate("yesterday")
                        .setToDate("2026-01-01")
                        .build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e ->
                assertThat(e.getStatus().getDescription())
                    .isEqualTo("from_date must be YYYY-MM-DD"));
    assertThatThrownBy(
            () ->
                stub.reserve(
                    ReserveRequest.newBuilder()
                        .setRequestId("r")
                        .setTenantId("t")
                        .setModel("m")
                        .setPromptTokens(-1)
                        .setMaxTokens(1)
                        .build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }
}
