package org.glmmaas.auth.credential;

import static org.glmmaas.proto.auth.v1.AuthFailureReason.MALFORMED;
import static org.glmmaas.proto.auth.v1.AuthFailureReason.MISSING;

import java.util.regex.Pattern;

/**
 * What a client presented, as BigModel accepts it: {@code <id>.<secret>} or a JWT built from it,
 * each with or without a {@code Bearer } prefix.
 */
public sealed interface Credential {

  /** Longest credential we look at; a real one is under 1 KB. */
  int MAX_LENGTH = 8192;

  Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  String keyId();

  /** {@code <id>.<secret>}. */
  record RawKey(String keyId, String secret) implements Credential {
    @Override
    public String toString() {
      return "RawKey[keyId=" + keyId + "]";
    }
  }

  /** A BigModel JWT whose claims were read but whose signature is not yet checked. */
  record Jwt(BigModelJwt token) implements Credential {
    @Override
    public String keyId() {
      return token.apiKey();
    }
  }

  /** Parses an Authorization header value. */
  static Credential parse(String header) throws CredentialException {
    if (header == null || header.isBlank()) {
      throw new CredentialException(
          MISSING, "no credential: send Authorization: Bearer <api key or JWT>");
    }
    if (header.length() > MAX_LENGTH) {
      throw new CredentialException(
          MALFORMED, "credential is longer than " + MAX_LENGTH + " characters");
    }
    String value = header.strip();
    if (value.equalsIgnoreCase("Bearer")) {
      throw new CredentialException(MISSING, "empty Bearer credential");
    }
    if (value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      value = value.substring(7).strip();
    }
    if (value.isEmpty()) {
      throw new CredentialException(MISSING, "empty Bearer credential");
    }
    int dots = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '.') {
        dots++;
      } else if (c <= ' ' || c > '~') {
        throw new CredentialException(
            MALFORMED, "credential contains whitespace or a non-ASCII character");
      }
    }
    if (dots == 2) {
      return new Jwt(BigModelJwt.parse(value));
    }
    if (dots != 1) {
      throw new CredentialException(
          MALFORMED,
          "credential is neither an API key (<id>.<secret>) nor a JWT (header.payload.signature)");
    }
    int dot = value.indexOf('.');
    String id = value.substring(0, dot);
    String secret = value.substring(dot + 1);
    if (!KEY_ID.matcher(id).matches() || secret.isEmpty()) {
      throw new CredentialException(MALFORMED, "API key must look like <id>.<secret>");
    }
    return new RawKey(id, secret);
  }
}
