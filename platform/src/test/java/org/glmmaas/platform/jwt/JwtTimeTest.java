package org.glmmaas.platform.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class JwtTimeTest {

  static final long NOW_MS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z

  static String jwt(String payloadJson) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return b64.encodeToString("{\"alg\":\"HS256\",\"sign_type\":\"SIGN\"}".getBytes())
        + "."
        + b64.encodeToString(payloadJson.getBytes(StandardCharsets.UTF_8))
        + ".c2ln";
  }

  @Test
  void readsSecondsMillisAndMicrosByMagnitude() {
    assertThat(JwtTime.toEpochMillis(NOW_MS / 1000)).isEqualTo(NOW_MS);
    assertThat(JwtTime.toEpochMillis(NOW_MS)).isEqualTo(NOW_MS);
    assertThat(JwtTime.toEpochMillis(NOW_MS * 1000.0)).isEqualTo(NOW_MS);
    assertThat(JwtTime.toEpochMillis(1.5)).isEqualTo(1500);
  }

  @Test
  void refusesWhatIsNoUnixTimeInsteadOfReadingItAsNeverExpires() {
    assertThatThrownBy(() -> JwtTime.toEpochMillis(0)).hasMessage("must be a positive unix time");
    assertThatThrownBy(() -> JwtTime.toEpochMillis(-5)).hasMessage("must be a positive unix time");
    assertThatThrownBy(() -> JwtTime.toEpochMillis(Double.NaN))
        .hasMessage("must be a positive unix time");
    assertThatThrownBy(() -> JwtTime.toEpochMillis(Double.POSITIVE_INFINITY))
        .hasMessage("must be a positive unix time");
    assertThatThrownBy(() -> JwtTime.toEpochMillis(1e18))
        .hasMessage("is not a unix time in s, ms or µs");
  }

  @Test
  void expiryOfTheTokensTheOfficialSdksSend() {
    // zhipuai Python and Node: milliseconds; the Node SDK that multiplies Date.now() by 1000: µs
    assertThat(JwtTime.expiresAtMillis(jwt("{\"api_key\":\"k\",\"exp\":" + NOW_MS + "}")))
        .hasValue(NOW_MS);
    assertThat(JwtTime.expiresAtMillis(jwt("{\"api_key\":\"k\",\"exp\":" + NOW_MS * 1000 + "}")))
        .hasValue(NOW_MS);
    assertThat(JwtTime.expiresAtMillis(jwt("{\"exp\":" + NOW_MS / 1000 + "}"))).hasValue(NOW_MS);
  }

  @Test
  void noExpiryWhenTheCredentialIsNoJwtOrHasNoValidExp() {
    assertThat(JwtTime.expiresAtMillis("abc.def")).isEqualTo(OptionalLong.empty());
    assertThat(JwtTime.expiresAtMillis("plainkey")).isEmpty();
    assertThat(JwtTime.expiresAtMillis(jwt("{\"api_key\":\"k\"}"))).isEmpty();
    assertThat(JwtTime.expiresAtMillis(jwt("{\"exp\":\"soon\"}"))).isEmpty();
    assertThat(JwtTime.expiresAtMillis(jwt("{\"exp\":0}"))).isEmpty();
    assertThat(JwtTime.expiresAtMillis(jwt("[1,2]"))).isEmpty();
    assertThat(JwtTime.expiresAtMillis(jwt("not json"))).isEmpty();
    assertThat(JwtTime.expiresAtMillis("a.!!!.c")).isEmpty();
  }
}
