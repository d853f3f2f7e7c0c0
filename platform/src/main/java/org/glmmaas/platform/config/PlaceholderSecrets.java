package org.glmmaas.platform.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one check every service applies to a configured secret (admin tokens, master keys, the
 * service identity secret): values copied from an example file ({@code change-me…}, {@code
 * REPLACE-WITH…}, {@code <…>}) or left empty stop the service at start, naming the key.
 */
public final class PlaceholderSecrets {

  private static final Pattern PLACEHOLDER =
      Pattern.compile(
          "(?i)(change[-_ ]?me.*|replace[-_ ]?(me|with).*|<.*>|changeit|secret|password|todo.*|x+)");

  private PlaceholderSecrets() {}

  /** True for an empty value or one of the example placeholders. */
  public static boolean isPlaceholder(String value) {
    return value == null
        || value.isBlank()
        || PLACEHOLDER.matcher(value.strip().toLowerCase(Locale.ROOT)).matches();
  }

  /**
   * @throws IllegalArgumentException naming {@code key} when {@code value} is a placeholder
   */
  public static void check(String key, String value) {
    if (isPlaceholder(value)) {
      throw new IllegalArgumentException(
          key
              + " is "
              + (value == null || value.isBlank()
                  ? "empty"
                  : "a placeholder ('" + value.strip() + "')")
              + ": set a real secret (e.g. openssl rand -base64 32)");
    }
  }
}
