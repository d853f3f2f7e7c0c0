package org.glmmaas.gateway.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.glmmaas.proto.auth.v1.Limits;
import org.junit.jupiter.api.Test;

class InMemoryRateLimiterTest {

  final AtomicLong now = new AtomicLong(1_000_000);
  final InMemoryRateLimiter lim = new InMemoryRateLimiter(now::get);

  RateLimiter.Request req(String id, Limits key, Limits tenant, long tokens) {
    return new RateLimiter.Request("k", key, "t", tenant, tokens, id, Duration.ofSeconds(30));
  }

  @Test
  void requestsPerMinuteRefillContinuously() {
    Limits l = Limits.newBuilder().setRequestsPerMinute(60).build();
    for (int i = 0; i < 60; i++) {
      assertThat(lim.admit(req("r" + i, l, Limits.getDefaultInstance(), 1)).block().admitted())
          .isTrue();
    }
    RateLimiter.Admission denied = lim.admit(req("x", l, Limits.getDefaultInstance(), 1)).block();
    assertThat(denied.admitted()).isFalse();
    assertThat(denied.denied().bigModelCode()).isEqualTo("1303");
    assertThat(denied.denied().retryAfter()).isEqualTo(Duration.ofSeconds(1));
    now.addAndGet(1000); // one request's worth refills in a second
    assertThat(lim.admit(req("y", l, Limits.getDefaultInstance(), 1)).block().admitted()).isTrue();
  }

  @Test
  void tenantLimitAppliesAcrossKeysAndADenialTakesNothing() {
    Limits tenant = Limits.newBuilder().setMaxConcurrency(1).build();
    Limits key = Limits.newBuilder().setRequestsPerMinute(10).build();
    assertThat(lim.admit(req("a", key, tenant, 1)).block().admitted()).isTrue();
    RateLimiter.Admission b = lim.admit(req("b", key, tenant, 1)).block();
    assertThat(b.admitted()).isFalse();
    assertThat(b.denied().bigModelCode()).isEqualTo("1302");
    // the refused call did not consume the key's RPM
    assertThat(
            lim.admit(req("a2", key, Limits.getDefaultInstance(), 1))
                .block()
                .headers()
                .remainingRequests())
        .isEqualTo(8);
  }

  @Test
  void leasesExpireAndReleaseSettlesTokens() {
    Limits l = Limits.newBuilder().setMaxConcurrency(1).setTokensPerMinute(1000).build();
    RateLimiter.Request a = req("a", l, Limits.getDefaultInstance(), 800);
    assertThat(lim.admit(a).block().admitted()).isTrue();
    assertThat(lim.admit(req("b", l, Limits.getDefaultInstance(), 100)).block().admitted())
        .isFalse();
    now.addAndGet(31_000); // the lease of a crashed caller expires
    assertThat(lim.admit(req("c", l, Limits.getDefaultInstance(), 100)).block().admitted())
        .isTrue();
    lim.release(a, 50).block(); // used 50 of 800 estimated: 750 come back
    RateLimiter.Admission d =
        lim.admit(
                req(
                    "d",
                    Limits.newBuilder().setTokensPerMinute(1000).build(),
                    Limits.getDefaultInstance(),
                    10))
            .block();
    assertThat(d.headers().remainingTokens()).isGreaterThan(900);
  }

  @Test
  void resetDurationsUseOpenAisFormat() {
    assertThat(RateLimiter.formatReset(Duration.ofMillis(20))).isEqualTo("20ms");
    assertThat(RateLimiter.formatReset(Duration.ofMillis(1500))).isEqualTo("1.5s");
    assertThat(RateLimiter.formatReset(Duration.ofSeconds(360))).isEqualTo("6m0s");
  }
}
