package org.glmmaas.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** Files the launcher keeps in the data folder (all 0600: they hold tokens and keys). */
final class LauncherState {

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * Admin tokens and the API-key master key, generated once. The gateway's admin token opens the
   * console and {@code /admin/**} on the gateway, which then uses the services' own tokens.
   */
  record Secrets(
      String authAdminToken,
      String authMasterKey,
      String billingAdminToken,
      String gatewayAdminToken,
      String serviceIdentitySecret) {}

  /** The demo tenant and its key, created once through the admin APIs. */
  record Demo(String tenantId, String keyId, String apiKey) {}

  private final Path dir;

  LauncherState(Path dir) {
    this.dir = dir;
  }

  Secrets secrets() throws IOException {
    Path file = dir.resolve("secrets.json");
    Secrets s;
    if (Files.isRegularFile(file)) {
      Map<?, ?> m = JSON.readValue(file.toFile(), Map.class);
      s =
          new Secrets(
              (String) m.get("auth_admin_token"),
              (String) m.get("auth_master_key"),
              (String) m.get("billing_admin_token"),
              (String) m.get("gateway_admin_token"),
              (String) m.get("service_identity_secret"));
      if (s.gatewayAdminToken() != null && s.serviceIdentitySecret() != null) {
        return s;
      }
      // a data folder from before the gateway's admin entry or the service identity: add what is
      // missing, keep the rest
      s =
          new Secrets(
              s.authAdminToken(),
              s.authMasterKey(),
              s.billingAdminToken(),
              s.gatewayAdminToken() != null ? s.gatewayAdminToken() : token(),
              token());
    } else {
      s =
          new Secrets(
              token(), Base64.getEncoder().encodeToString(bytes(32)), token(), token(), token());
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("auth_admin_token", s.authAdminToken());
    m.put("auth_master_key", s.authMasterKey());
    m.put("billing_admin_token", s.billingAdminToken());
    m.put("gateway_admin_token", s.gatewayAdminToken());
    m.put("service_identity_secret", s.serviceIdentitySecret());
    writePrivate(file, m);
    return s;
  }

  Demo demo() throws IOException {
    Path file = dir.resolve("demo.json");
    if (!Files.isRegularFile(file)) {
      return null;
    }
    Map<?, ?> m = JSON.readValue(file.toFile(), Map.class);
    return new Demo(
        (String) m.get("tenant_id"), (String) m.get("key_id"), (String) m.get("api_key"));
  }

  void saveDemo(Demo d) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tenant_id", d.tenantId());
    m.put("key_id", d.keyId());
    m.put("api_key", d.apiKey());
    writePrivate(dir.resolve("demo.json"), m);
  }

  void forgetDemo() throws IOException {
    Files.deleteIfExists(dir.resolve("demo.json"));
  }

  void writeEndpoints(Map<String, Object> endpoints) throws IOException {
    writePrivate(dir.resolve("endpoints.json"), endpoints);
  }

  void deleteEndpoints() throws IOException {
    Files.deleteIfExists(dir.resolve("endpoints.json"));
  }

  /** Written to a temp file and moved into place, so a reader never sees half a file. */
  static void writePrivate(Path file, Map<String, Object> content) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, JSON.writeValueAsString(content) + "\n");
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static String token() {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
