package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;

/**
 * A client that goes away while its call waits for the billing reservation leaves nothing behind:
 * its concurrency lease and its reservation are released at once (before, both stayed held until
 * their TTLs: the key's next call got 429 for ten minutes).
 */
class LeaseReleaseTest {

  @Test
  void aClientThatLeavesDuringReserveReleasesItsLeaseAndHold() throws Exception {
    TestGateway gw = TestGateway.get();
    gw.billing.reserveDelayMs = 2_000;
    try {
      HttpRequest r =
          HttpRequest.newBuilder(URI.create(gw.url("/v1/chat/completions")))
              .timeout(Duration.ofMillis(700))
              .header("Content-Type", "application/json")
              .header("Authorization", "Bearer " + TestGateway.CONC_KEY)
              .POST(HttpRequest.BodyPublishers.ofString(TestGateway.chat("hi", null)))
              .build();
      assertThat(catchThrowable(() -> gw.http.send(r, HttpResponse.BodyHandlers.ofString())))
          .isInstanceOf(HttpTimeoutException.class);
    } finally {
      gw.billing.reserveDelayMs = 0;
    }
    // the delayed reservation was made (and answered) meanwhile; it must come back
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String id = null;
    while (System.nanoTime() < end) {
      id =
          gw.billing.reserveRequests.values().stream()
              .filter(x -> x.getTenantId().equals("tconc"))
              .map(x -> x.getRequestId())
              .filter(x -> Boolean.TRUE.equals(gw.billing.released.get(x)))
              .findFirst()
              .orElse(null);
      if (id != null) {
        break;
      }
      Thread.sleep(50);
    }
    assertThat(id).as("the abandoned call's reservation released").isNotNull();
    // the key allows one call at a time: its lease is back, so the next call is served
    HttpResponse<String> next =
        gw.post("/v1/chat/completions", TestGateway.CONC_KEY, TestGateway.chat("hi", null));
    assertThat(next.statusCode()).isEqualTo(200);
  }
}
