package org.glmmaas.gateway.knowledge;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import org.glmmaas.gateway.error.GlmError;
import org.junit.jupiter.api.Test;

/** How knowledge-service's gRPC statuses reach the API caller. */
class KnowledgeClientTest {

  /**
   * The query's embedding could not be held on the balance: the caller gets what a chat call the
   * balance cannot cover gets (429, BigModel code 1113), with knowledge-service's reason.
   */
  @Test
  void aRefusedBalanceHoldIsAnInsufficientBalance429() {
    GlmError e =
        KnowledgeClient.map(
                Status.FAILED_PRECONDITION
                    .withDescription("the account balance cannot cover the embedding of 1 text")
                    .asRuntimeException())
            .error();
    assertThat(e).isInstanceOf(GlmError.InsufficientBalance.class);
    assertThat(e.httpStatus()).isEqualTo(429);
    assertThat(e.bigModelCode()).isEqualTo("1113");
    assertThat(e.message()).contains("balance");
  }

  @Test
  void otherStatusesKeepTheirMeaning() {
    assertThat(KnowledgeClient.map(Status.NOT_FOUND.asRuntimeException()).error().httpStatus())
        .isEqualTo(404);
    assertThat(
            KnowledgeClient.map(Status.INVALID_ARGUMENT.asRuntimeException()).error().httpStatus())
        .isEqualTo(400);
    assertThat(KnowledgeClient.map(Status.UNAVAILABLE.asRuntimeException()).error().httpStatus())
        .isEqualTo(503);
  }
}
