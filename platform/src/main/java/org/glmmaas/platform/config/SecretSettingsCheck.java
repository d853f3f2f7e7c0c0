package org.glmmaas.platform.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;

/**
 * At start, every configured secret setting — a {@code glm.*} key ending in {@code token}, {@code
 * secret}, {@code master-key} or {@code password} (admin tokens, the API-key master key, the
 * service identity secret), and {@code spring.datasource.password} — is checked with {@link
 * PlaceholderSecrets}: a value copied from an example ({@code change-me-billing}, {@code
 * REPLACE-WITH-…}) stops the service with a message naming the key. An unset or blank key is left
 * to the service (each documents what it does without one).
 */
public final class SecretSettingsCheck implements EnvironmentPostProcessor {

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    List<String> bad = new ArrayList<>();
    for (var source : environment.getPropertySources()) {
      if (!(source instanceof EnumerablePropertySource<?> e)
          || source.getName().equals("configurationProperties")) {
        continue;
      }
      for (String name : e.getPropertyNames()) {
        String key = canonical(name);
        if (key == null || !isSecret(key)) {
          continue;
        }
        Object value = e.getProperty(name);
        String v = value == null ? null : value.toString();
        if (v != null
            && !v.isBlank()
            && PlaceholderSecrets.isPlaceholder(v)
            && !bad.contains(name)) {
          bad.add(name);
        }
      }
    }
    if (!bad.isEmpty()) {
      throw new IllegalStateException(
          "placeholder secret"
              + (bad.size() > 1 ? "s" : "")
              + " configured: "
              + String.join(", ", bad)
              + " (a value such as change-me… from an example file); set real secrets, e.g. "
              + "openssl rand -base64 32");
    }
  }

  /** A property or environment-variable name as a dotted lower-case key, or null. */
  private static String canonical(String name) {
    if (name.startsWith("glm.") || name.startsWith("spring.datasource.")) {
      return name;
    }
    String upper = name.toUpperCase(Locale.ROOT);
    if (upper.equals(name) && upper.startsWith("GLM_")) {
      // GLM_BILLING_ADMINTOKEN -> glm.billing.admintoken (Spring's relaxed binding reads it so)
      return name.toLowerCase(Locale.ROOT).replace('_', '.');
    }
    if (upper.equals("SPRING_DATASOURCE_PASSWORD")) {
      return "spring.datasource.password";
    }
    return null;
  }

  static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT).replace("-", "");
    if (k.equals("spring.datasource.password")) {
      return true;
    }
    return k.startsWith("glm.")
        && (k.endsWith("token")
            || k.endsWith("secret")
            || k.endsWith("masterkey")
            || k.endsWith(".key") && k.contains("masterkeys")
            || k.endsWith("password"));
  }
}
