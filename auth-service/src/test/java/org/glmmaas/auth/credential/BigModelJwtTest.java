package org.glmmaas.auth.credential;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.glmmaas.auth.crypto.SecretCodec;
import org.glmmaas.auth.support.SdkJwt;
import org.glmmaas.proto.auth.v1.AuthFailureReason;
import org.junit.jupiter.api.Test;

class BigModelJwtTest {

  static final String ID = "0123456789abcdef0123456789abcdef";
  static final String SECRET = "s3cretS3cretS3cretS3cret01234567";
  static final String API_KEY = ID + "." + SECRET;
  static final Mac MAC =
      SecretCodec.newMac(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
  static final long NOW = 1_764_300_000_000L;

  static BigModelJwt verified(String token) throws CredentialException {
    BigModelJwt jwt = ((Credential.Jwt) Credential.parse(token)).token();
    jwt.verify(MAC, Instant.ofEpochMilli(NOW));
    return jwt;
  }

  static AuthFailureReason reason(String token) {
    try {
      verified(token);
      throw new AssertionError("accepted: " + token);
    } catch (CredentialException e) {
      assertThat(e.getMessage()).doesNotContain(SECRET);
      return e.reason();
    }
  }

  static String claims(String exp, String ts) {
    return "{\"api_key\":\"" + ID + "\",\"exp\":" + exp + ",\"timestamp\":" + ts + "}";
  }

  @Test
  void acceptsWhatEachOfficialSdkBuilds() throws Exception {
    assertThat(verified(SdkJwt.python(API_KEY, NOW, 180)).expiresAtMs()).isEqualTo(NOW + 180_000);
    assertThat(verified(SdkJwt.node(API_KEY, NOW, 3600)).expiresAtMs()).isEqualTo(NOW + 3_600_000);
    BigModelJwt micros = verified(SdkJwt.nodeMicros(API_KEY, NOW, 3600));
    assertThat(micros.expiresAtMs()).isEqualTo(NOW + 3_600_000);
    assertThat(micros.timestampMs()).isEqualTo(NOW);
    assertThat(verified("Bearer " + SdkJwt.python(API_KEY, NOW, 1)).apiKey()).isEqualTo(ID);
  }

  @Test
  void normalisesSecondsMillisAndMicrosByMagnitudeAndNeverReadsThemAsForever() throws Exception {
    String h = "{\"alg\":\"HS256\",\"sign_type\":\"SIGN\"}";
    long secs = NOW / 1000 + 60;
    assertThat(
            verified(
                    SdkJwt.sign(
                        h, claims(String.valueOf(secs), String.valueOf(NOW / 1000)), SECRET))
                .expiresAtMs())
        .isEqualTo(secs * 1000);
    // microseconds an hour in the past: expired, not "far future"
    assertThat(
            reason(
                SdkJwt.sign(
                    h,
                    claims(String.valueOf((NOW - 3_600_000) * 1000), String.valueOf(NOW * 1000)),
                    SECRET)))
        .isEqualTo(AuthFailureReason.EXPIRED);
    assertThat(reason(SdkJwt.sign(h, claims("1e18", String.valueOf(NOW)), SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(reason(SdkJwt.sign(h, claims("0", String.valueOf(NOW)), SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(reason(SdkJwt.sign(h, claims("-5", String.valueOf(NOW)), SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(reason(SdkJwt.sign(h, claims("\"soon\"", String.valueOf(NOW)), SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(
            reason(
                SdkJwt.sign(h, "{\"api_key\":\"" + ID + "\",\"timestamp\":" + NOW + "}", SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    // a client clock far ahead
    assertThat(
            reason(
                SdkJwt.sign(
                    h,
                    claims(String.valueOf(NOW + 7_200_000), String.valueOf(NOW + 3_600_000)),
                    SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
  }

  @Test
  void refusesAlgNoneOtherAlgsAndConfusion() {
    String c = claims(String.valueOf(NOW + 60_000), String.valueOf(NOW));
    assertThat(reason(SdkJwt.unsigned("{\"alg\":\"none\"}", c)))
        .isIn(AuthFailureReason.MALFORMED, AuthFailureReason.BAD_SIGNATURE);
    assertThat(reason(SdkJwt.unsigned("{\"alg\":\"none\"}", c) + "AAAA"))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
    assertThat(reason(SdkJwt.sign("{\"alg\":\"HS512\"}", c, SECRET.getBytes(), "HmacSHA512")))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
    assertThat(reason(SdkJwt.sign("{\"alg\":\"RS256\"}", c, SECRET.getBytes(), "HmacSHA256")))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
    assertThat(reason(SdkJwt.sign("{\"typ\":\"JWT\"}", c, SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(reason(SdkJwt.sign("{\"alg\":[\"HS256\"]}", c, SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
  }

  @Test
  void refusesTamperingAndParserTricks() {
    String c = claims(String.valueOf(NOW + 60_000), String.valueOf(NOW));
    String good = SdkJwt.sign("{\"alg\":\"HS256\",\"sign_type\":\"SIGN\"}", c, SECRET);
    String[] p = good.split("\\.");
    String otherClaims =
        SdkJwt.b64(claims(String.valueOf(NOW + 999_000_000), String.valueOf(NOW)).getBytes());
    assertThat(reason(p[0] + "." + otherClaims + "." + p[2]))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
    assertThat(reason(p[0] + "." + p[1] + "." + p[2].substring(0, p[2].length() - 2) + "AA"))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
    assertThat(reason(p[0] + "." + p[1] + "." + p[2] + "=="))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(reason(p[0] + "." + p[1] + ".")).isEqualTo(AuthFailureReason.MALFORMED);
    // duplicate members: one parser reads the first, another the last
    assertThat(reason(SdkJwt.sign("{\"alg\":\"HS256\",\"alg\":\"none\"}", c, SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(
            reason(
                SdkJwt.sign(
                    "{\"alg\":\"HS256\"}",
                    "{\"api_key\":\""
                        + ID
                        + "\",\"api_key\":\"other\",\"exp\":"
                        + (NOW + 60_000)
                        + "}",
                    SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(reason(SdkJwt.sign("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", c, SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(reason(SdkJwt.sign("{\"alg\":\"HS256\"}", "[1,2]", SECRET)))
        .isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(reason("e30.e30.AAAA")).isEqualTo(AuthFailureReason.MALFORMED);
  }
}
