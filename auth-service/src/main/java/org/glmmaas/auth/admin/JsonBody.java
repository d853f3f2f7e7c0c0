package org.glmmaas.auth.admin;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.glmmaas.auth.DomainException;

/**
 * Reads an admin JSON object strictly: unknown fields and wrong types are 400 with the field's
 * name.
 */
final class JsonBody {

  private final Map<String, Object> map;

  JsonBody(Map<String, Object> map, Set<String> allowed) {
    if (map == null) {
      throw DomainException.invalid("request body must be a JSON object");
    }
    TreeSet<String> unknown = new TreeSet<>(map.keySet());
    unknown.removeAll(allowed);
    if (!unknown.isEmpty()) {
      throw DomainException.invalid(
          "unknown field(s) " + unknown + "; allowed: " + new TreeSet<>(allowed));
    }
    this.map = map;
  }

  boolean has(String field) {
    return map.containsKey(field);
  }

  String string(String field) {
    Object v = map.get(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw DomainException.invalid(field + " must be a string");
    }
    return s;
  }

  String requiredString(String field) {
    String s = string(field);
    if (s == null || s.isBlank()) {
      throw DomainException.invalid(field + " is required");
    }
    return s;
  }

  Integer nonNegativeInt(String field) {
    Long v = nonNegativeLong(field);
    if (v != null && v > Integer.MAX_VALUE) {
      throw DomainException.invalid(field + " must be at most " + Integer.MAX_VALUE);
    }
    return v == null ? null : v.intValue();
  }

  Long nonNegativeLong(String field) {
    Object v = map.get(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Integer
        || v instanceof Long
        || v instanceof Short
        || v instanceof java.math.BigInteger)) {
      throw DomainException.invalid(field + " must be an integer (0 means unlimited)");
    }
    if (v instanceof java.math.BigInteger) {
      throw DomainException.invalid(field + " is too large");
    }
    long l = ((Number) v).longValue();
    if (l < 0) {
      throw DomainException.invalid(field + " must be >= 0 (0 means unlimited)");
    }
    return l;
  }

  List<String> stringList(String field) {
    Object v = map.get(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof List<?> list)) {
      throw DomainException.invalid(field + " must be an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof String s)) {
        throw DomainException.invalid(field + " must be an array of strings");
      }
      out.add(s);
    }
    return out;
  }

  /** An ISO-8601 instant such as {@code 2027-01-31T00:00:00Z}; null when absent or JSON null. */
  Instant instant(String field) {
    String s = string(field);
    if (s == null) {
      return null;
    }
    try {
      return java.time.OffsetDateTime.parse(s).toInstant();
    } catch (DateTimeParseException e) {
      throw DomainException.invalid(
          field + " must be an ISO-8601 time with offset, e.g. 2027-01-31T00:00:00Z");
    }
  }
}
