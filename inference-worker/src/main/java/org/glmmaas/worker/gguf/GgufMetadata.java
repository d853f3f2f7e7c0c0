package org.glmmaas.worker.gguf;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The key/value metadata of a GGUF file, typed as Java values: integers of every width as {@link
 * Long}, floats as {@link Double}, bools as {@link Boolean}, strings as {@link String}, arrays as
 * {@link List} of those (string arrays as {@code List<String>}).
 *
 * <p>Built by {@link GgufReader} from a file, or from the native engine's metadata accessors; the
 * text layer (tokenizer, chat template) reads vocabulary and template from here.
 */
public record GgufMetadata(Map<String, Object> values) {

  public GgufMetadata {
    values = Map.copyOf(values);
  }

  public boolean has(String key) {
    return values.containsKey(key);
  }

  public Optional<String> string(String key) {
    return typed(key, String.class);
  }

  public Optional<Long> integer(String key) {
    return typed(key, Long.class);
  }

  public Optional<Double> floating(String key) {
    Object v = values.get(key);
    if (v instanceof Number n) {
      return Optional.of(n.doubleValue());
    }
    return Optional.empty();
  }

  public Optional<Boolean> bool(String key) {
    return typed(key, Boolean.class);
  }

  /** A string array, e.g. {@code tokenizer.ggml.tokens}. */
  @SuppressWarnings("unchecked")
  public Optional<List<String>> strings(String key) {
    Object v = values.get(key);
    if (v instanceof List<?> l && (l.isEmpty() || l.getFirst() instanceof String)) {
      return Optional.of((List<String>) l);
    }
    return Optional.empty();
  }

  /** An integer array as ints, e.g. {@code tokenizer.ggml.token_type}. */
  public Optional<int[]> ints(String key) {
    Object v = values.get(key);
    if (v instanceof List<?> l && (l.isEmpty() || l.getFirst() instanceof Long)) {
      int[] out = new int[l.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = Math.toIntExact((Long) l.get(i));
      }
      return Optional.of(out);
    }
    return Optional.empty();
  }

  /** The architecture-scoped key, e.g. {@code arch("context_length")} -> "glm4.context_length". */
  public String arch(String suffix) {
    return string("general.architecture").orElse("") + "." + suffix;
  }

  private <T> Optional<T> typed(String key, Class<T> type) {
    Object v = values.get(key);
    return type.isInstance(v) ? Optional.of(type.cast(v)) : Optional.empty();
  }
}
