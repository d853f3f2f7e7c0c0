package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.glmmaas.gateway.support.TestGateway;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * The gateway reserves exactly what it sends: a call without max_tokens reaches the worker with the
 * default max_tokens its reservation covers (capped at what the context leaves after the prompt,
 * counted by the worker's tokenizer when the prompt is long), and the prompt is reserved at an
 * upper bound of its tokens, also for Chinese text.
 */
class MaxTokensBudgetTest {

  private final TestGateway gw = TestGateway.get();

  private ReserveRequest reservationOf(GenerateRequest g) {
    return gw.billing.reserveRequests.get(g.getRequestId());
  }

  @Test
  void aCallWithoutMaxTokensSendsTheDefaultItReserved() throws Exception {
    HttpResponse<String> r =
        gw.post("/v1/chat/completions", TestGateway.KEY, TestGateway.chat("hello there", null));
    assertThat(r.statusCode()).isEqualTo(200);
    GenerateRequest sent = gw.worker.lastRequest;
    assertThat(sent.getSampling().hasMaxTokens()).isTrue();
    assertThat(sent.getSampling().getMaxTokens()).isEqualTo(1024);
    assertThat(reservationOf(sent).getMaxTokens()).isEqualTo(1024);
  }

  @Test
  void theClientsMaxTokensIsSentAndReserved() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/v1/chat/completions", TestGateway.KEY, TestGateway.chat("hi", "\"max_tokens\":77"));
    assertThat(r.statusCode()).isEqualTo(200);
    GenerateRequest sent = gw.worker.lastRequest;
    assertThat(sent.getSampling().getMaxTokens()).isEqualTo(77);
    assertThat(reservationOf(sent).getMaxTokens()).isEqualTo(77);
  }

  @Test
  void chineseTextIsReservedAtNoLessThanItsBytes() throws Exception {
    String zh = "模型即服务".repeat(200); // 1,000 characters, 3,000 UTF-8 bytes
    HttpResponse<String> r =
        gw.post("/v1/chat/completions", TestGateway.KEY, TestGateway.chat(zh, null));
    assertThat(r.statusCode()).isEqualTo(200);
    // a byte-level BPE token covers at least one byte: 3,000 bytes are at most 3,000 tokens
    assertThat(reservationOf(gw.worker.lastRequest).getPromptTokens()).isGreaterThanOrEqualTo(3000);
  }

  @Test
  void aLongPromptIsCountedByTheWorkerAndMaxTokensCappedAtTheContext() throws Exception {
    String longText = "x ".repeat(4000); // 8,000 bytes: the bound leaves no room for 1,024 more
    gw.worker.chatPromptTokens = 7800;
    try {
      int before = gw.worker.tokenizeCalls.get();
      HttpResponse<String> r =
          gw.post("/v1/chat/completions", TestGateway.KEY, TestGateway.chat(longText, null));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(gw.worker.tokenizeCalls.get()).isEqualTo(before + 1);
      GenerateRequest sent = gw.worker.lastRequest;
      assertThat(sent.getSampling().getMaxTokens()).isEqualTo(8192 - 7800);
      ReserveRequest held = reservationOf(sent);
      assertThat(held.getPromptTokens()).isEqualTo(7800);
      assertThat(held.getMaxTokens()).isEqualTo(8192 - 7800);

      gw.worker.chatPromptTokens = 8192;
      HttpResponse<String> tooLong =
          gw.post("/v1/chat/completions", TestGateway.KEY, TestGateway.chat(longText, null));
      assertThat(tooLong.statusCode()).isEqualTo(400);
      assertThat(JsonMapper.builder().build().readTree(tooLong.body()).at("/error/code").asString())
          .isEqualTo("context_length_exceeded");
    } finally {
      gw.worker.chatPromptTokens = 0;
    }
  }
}
