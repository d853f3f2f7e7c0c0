package org.glmmaas.gateway.request;

import java.util.List;
import java.util.Locale;

/**
 * BigModel's documented sampling defaults, applied on {@code /api/paas/v4} when a request leaves
 * temperature or top_p out (BigModel documents them per model family; OpenAI's 1.0/1.0 stays on
 * {@code /v1}). The family is read from the model id; an id of no known family (a self-named GGUF,
 * the demo model) gets the GLM-4 family's values, the family every served architecture belongs to.
 * GLM-4: 0.95 / 0.7 as docs.bigmodel.cn's parameter table states; GLM-4.5 and later: the values
 * their model cards recommend (BigModel documents these as "model dependent").
 */
public final class BigModelDefaults {

  /** Defaults of one family. */
  public record Defaults(String prefix, double temperature, double topP) {}

  /** Most specific prefix first. */
  static final List<Defaults> FAMILIES =
      List.of(
          new Defaults("glm-4.7", 1.0, 0.95),
          new Defaults("glm-4.6", 1.0, 0.95),
          new Defaults("glm-4.5", 0.6, 0.95),
          new Defaults("glm-4", 0.95, 0.7));

  static final Defaults FALLBACK = FAMILIES.get(FAMILIES.size() - 1);

  private BigModelDefaults() {}

  /** The defaults that apply to {@code model}. */
  public static Defaults of(String model) {
    String m = model.toLowerCase(Locale.ROOT);
    for (Defaults d : FAMILIES) {
      if (m.startsWith(d.prefix())) {
        return d;
      }
    }
    return FALLBACK;
  }
}
