package org.glmmaas.gateway.support;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.glmmaas.platform.jwt.JwtTime;
import org.glmmaas.proto.auth.v1.AuthFailure;
import org.glmmaas.proto.auth.v1.AuthFailureReason;
import org.glmmaas.proto.auth.v1.AuthServiceGrpc;
import org.glmmaas.proto.auth.v1.AuthenticateRequest;
import org.glmmaas.proto.auth.v1.AuthenticateResponse;
import org.glmmaas.proto.auth.v1.Principal;

/**
 * AuthService with keys "id.secret" held in memory. Accepts the raw key (with or without "Bearer ")
 * and BigModel JWTs (HS256 signed with the secret, payload api_key/exp, exp read by the platform
 * JwtTime rule).
 */
public final class FakeAuthService implements AutoCloseable {

  private final Map<String, Key> keys = new ConcurrentHashMap<>();
  private final Server server;
  public final AtomicInteger calls = new AtomicInteger();

  /** A registered key. */
  public record Key(String secret, Principal principal) {}

  public FakeAuthService() throws IOException {
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(new Service())
            .build()
            .start();
  }

  public String address() {
    return "127.0.0.1:" + server.getPort();
  }

  /** Registers key {@code id.secret} for the principal (its key id is set to {@code id}). */
  public String addKey(String id, String secret, Principal.Builder p) {
    keys.put(id, new Key(secret, p.setKeyId(id).build()));
    return id + "." + secret;
  }

  public void removeKey(String id) {
    keys.remove(id);
  }

  @Override
  public void close() {
    server.shutdownNow();
  }

  private final class Service extends AuthServiceGrpc.AuthServiceImplBase {
    @Override
    public void authenticate(AuthenticateRequest req, StreamObserver<AuthenticateResponse> out) {
      calls.incrementAndGet();
      out.onNext(check(req.getCredential()));
      out.onCompleted();
    }
  }

  private static final Pattern API_KEY = Pattern.compile("\"api_key\"\\s*:\\s*\"([^\"]+)\"");

  AuthenticateResponse check(String credential) {
    String c = credential.startsWith("Bearer ") ? credential.substring(7) : credential;
    String[] parts = c.split("\\.");
    if (parts.length == 2) {
      Key k = keys.get(parts[0]);
      if (k == null) {
        return fail(AuthFailureReason.UNKNOWN_KEY, "unknown API key");
      }
      if (!MessageDigest.isEqual(
          k.secret.getBytes(StandardCharsets.UTF_8), parts[1].getBytes(StandardCharsets.UTF_8))) {
        return fail(AuthFailureReason.BAD_SIGNATURE, "the API key's secret does not match");
      }
      return ok(k);
    }
    if (parts.length == 3) {
      try {
        String payload =
            new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
        Matcher id = API_KEY.matcher(payload);
        OptionalLong exp = JwtTime.expiresAtMillis(c);
        if (!id.find() || exp.isEmpty()) {
          return fail(AuthFailureReason.MALFORMED, "token lacks api_key or exp");
        }
        Key k = keys.get(id.group(1));
        if (k == null) {
          return fail(AuthFailureReason.UNKNOWN_KEY, "unknown API key");
        }
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(k.secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] sig = mac.doFinal((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        if (!MessageDigest.isEqual(sig, Base64.getUrlDecoder().decode(parts[2]))) {
          return fail(AuthFailureReason.BAD_SIGNATURE, "token signature does not match");
        }
        if (exp.getAsLong() < System.currentTimeMillis()) {
          return fail(AuthFailureReason.EXPIRED, "token has expired");
        }
        return ok(k);
      } catch (Exception e) {
        return fail(AuthFailureReason.MALFORMED, "token is not a JWT");
      }
    }
    return fail(AuthFailureReason.MALFORMED, "credential is neither an API key nor a JWT");
  }

  private static AuthenticateResponse ok(Key k) {
    return AuthenticateResponse.newBuilder().setPrincipal(k.principal).build();
  }

  private static AuthenticateResponse fail(AuthFailureReason r, String msg) {
    return AuthenticateResponse.newBuilder()
        .setFailure(AuthFailure.newBuilder().setReason(r).setMessage(msg))
        .build();
  }
}
