package org.glmmaas.gateway.request;

import java.util.ArrayList;
import java.util.List;
import org.glmmaas.gateway.error.GlmException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Typed reads of request parameters, each failing with a 400 that names the parameter (its full
 * path, e.g. {@code tools[0].function.name}) and says what was expected. JSON null counts as absent
 * everywhere.
 */
public final class Params {

  /** The request parser's mapper: nesting limited, so a deep body cannot exhaust the stack. */
  public static final JsonMapper MAPPER =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder().maxNestingDepth(64).build())
                  .build())
          .build();

  private Params() {}

  /** Parses JSON bytes into an object tree, or a 400 that says where the JSON broke. */
  public static JsonNode readObject(byte[] body) {
    if (body.length == 0) {
      throw GlmException.invalid("request body is empty; expected a JSON object", null);
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (JacksonException e) {
      throw GlmException.invalid("request body is not valid JSON: " + describe(e), null);
    }
    if (root == null || root.isMissingNode()) {
      throw GlmException.invalid("request body is empty; expected a JSON object", null);
    }
    if (!root.isObject()) {
      throw GlmException.invalid("request body must be a JSON object, got " + kind(root), null);
    }
    return root;
  }

  /** The path of a child: {@code "a"} + {@code "b"} is {@code "a.b"}; a root child is its name. */
  public static String at(String parent, String field) {
    return parent == null || parent.isEmpty() ? field : parent + "." + field;
  }

  public static boolean present(JsonNode obj, String field) {
    JsonNode n = obj.get(field);
    return n != null && !n.isNull();
  }

  /** The child, or null when absent or JSON null. */
  public static JsonNode get(JsonNode obj, String field) {
    JsonNode n = obj.get(field);
    return n == null || n.isNull() ? null : n;
  }

  public static String requiredString(JsonNode obj, String field, String path) {
    JsonNode n = get(obj, field);
    if (n == null) {
      throw GlmException.invalid("'" + path + "' is required", path);
    }
    if (!n.isString()) {
      throw GlmException.invalid("'" + path + "' must be a string, got " + kind(n), path);
    }
    if (n.stringValue().isBlank()) {
      throw GlmException.invalid("'" + path + "' must not be empty", path);
    }
    return n.stringValue();
  }

  public static String optionalString(JsonNode obj, String field, String path) {
    JsonNode n = get(obj, field);
    if (n == null) {
      return null;
    }
    if (!n.isString()) {
      throw GlmException.invalid("'" + path + "' must be a string, got " + kind(n), path);
    }
    return n.stringValue();
  }

  /** A string of printable ASCII without spaces, 1 to {@code max} long (ids the client gives). */
  public static String optionalId(JsonNode obj, String field, String path, int max) {
    String s = optionalString(obj, field, path);
    if (s == null) {
      return null;
    }
    if (s.isEmpty() || s.length() > max) {
      throw GlmException.invalid(
          "'" + path + "' must be 1 to " + max + " characters long, got " + s.length(), path);
    }
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch < 0x21 || ch > 0x7e) {
        throw GlmException.invalid(
            "'" + path + "' may only contain printable ASCII without spaces", path);
      }
    }
    return s;
  }

  public static Boolean optionalBool(JsonNode obj, String field, String path) {
    JsonNode n = get(obj, field);
    if (n == null) {
      return null;
    }
    if (!n.isBoolean()) {
      throw GlmException.invalid("'" + path + "' must be a boolean, got " + kind(n), path);
    }
    return n.booleanValue();
  }

  public static boolean bool(JsonNode obj, String field, String path, boolean dflt) {
    Boolean b = optionalBool(obj, field, path);
    return b == null ? dflt : b;
  }

  /** A number in [min, max] (or (min, max] when {@code minInclusive} is false); null if absent. */
  public static Double number(
      JsonNode obj, String field, String path, double min, double max, boolean minInclusive) {
    JsonNode n = get(obj, field);
    if (n == null) {
      return null;
    }
    if (!n.isNumber()) {
      throw GlmException.invalid("'" + path + "' must be a number, got " + kind(n), path);
    }
    double v = n.doubleValue();
    boolean ok = (minInclusive ? v >= min : v > min) && v <= max && Double.isFinite(v);
    if (!ok) {
      throw GlmException.invalid(
          "'"
              + path
              + "' must be in "
              + (minInclusive ? "[" : "(")
              + min
              + ", "
              + max
              + "], got "
              + v,
          path);
    }
    return v;
  }

  /** An integer in [min, max]; integral floats (3.0) count; null if absent. */
  public static Integer integer(JsonNode obj, String field, String path, long min, long max) {
    JsonNode n = get(obj, field);
    if (n == null) {
      return null;
    }
    if (!n.isIntegralNumber() && !(n.isNumber() && n.doubleValue() == Math.rint(n.doubleValue()))) {
      throw GlmException.invalid("'" + path + "' must be an integer, got " + kind(n), path);
    }
    double v = n.doubleValue();
    if (v < min || v > max) {
      throw GlmException.invalid(
          "'"
              + path
              + "' must be between "
              + min
              + " and "
              + max
              + ", got "
              + (n.isIntegralNumber() ? n.asString() : String.valueOf(v)),
          path);
    }
    return (int) v;
  }

  /** A 64-bit integer; null if absent. */
  public static Long int64(JsonNode obj, String field, String path) {
    JsonNode n = get(obj, field);
    if (n == null) {
      return null;
    }
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw GlmException.invalid("'" + path + "' must be a 64-bit integer, got " + kind(n), path);
    }
    return n.longValue();
  }

  public static JsonNode optionalObject(JsonNode obj, String field, String path) {
    JsonNode n = get(obj, field);
    if (n == null) {
      return null;
    }
    if (!n.isObject()) {
      throw GlmException.invalid("'" + path + "' must be an object, got " + kind(n), path);
    }
    return n;
  }

  public static JsonNode optionalArray(JsonNode obj, String field, String path) {
    JsonNode n = get(obj, field);
    if (n == null) {
      return null;
    }
    if (!n.isArray()) {
      throw GlmException.invalid("'" + path + "' must be an array, got " + kind(n), path);
    }
    return n;
  }

  /** A string or an array of up to {@code max} strings (stop sequences). */
  public static List<String> strings(JsonNode obj, String field, String path, int max) {
    JsonNode n = get(obj, field);
    if (n == null) {
      return List.of();
    }
    if (n.isString()) {
      return List.of(n.stringValue());
    }
    if (!n.isArray()) {
      throw GlmException.invalid(
          "'" + path + "' must be a string or an array of strings, got " + kind(n), path);
    }
    if (n.size() > max) {
      throw GlmException.invalid(
          "'" + path + "' may hold at most " + max + " strings, got " + n.size(), path);
    }
    List<String> out = new ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      JsonNode s = n.get(i);
      if (!s.isString()) {
        throw GlmException.invalid(
            "'" + path + "[" + i + "]' must be a string, got " + kind(s), path + "[" + i + "]");
      }
      out.add(s.stringValue());
    }
    return out;
  }

  /** "a string", "an integer", ...: what a value is, for messages. */
  public static String kind(JsonNode n) {
    if (n.isString()) {
      return "a string";
    }
    if (n.isIntegralNumber()) {
      return "an integer";
    }
    if (n.isNumber()) {
      return "a number";
    }
    if (n.isBoolean()) {
      return "a boolean";
    }
    if (n.isArray()) {
      return "an array";
    }
    if (n.isObject()) {
      return "an object";
    }
    if (n.isNull()) {
      return "null";
    }
    return "an unsupported value";
  }

  /** A client-given string safe to echo in an error: printable, at most 32 characters. */
  public static String abbreviate(String s) {
    String clean =
        s.codePoints()
            .filter(cp -> cp >= 0x20 && cp != 0x7f)
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
            .toString();
    return clean.length() > 32 ? clean.substring(0, 32) + "..." : clean;
  }

  static String describe(JacksonException e) {
    String msg = e.getOriginalMessage();
    if (msg == null) {
      msg = e.getClass().getSimpleName();
    }
    int nl = msg.indexOf('\n');
    if (nl >= 0) {
      msg = msg.substring(0, nl);
    }
    if (msg.length() > 160) {
      msg = msg.substring(0, 160) + "...";
    }
    var loc = e.getLocation();
    return loc == null
        ? msg
        : msg + " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }

  /** Compact JSON text of a node (schemas passed on to the worker). */
  public static String json(JsonNode n) {
    return MAPPER.writeValueAsString(n);
  }
}
