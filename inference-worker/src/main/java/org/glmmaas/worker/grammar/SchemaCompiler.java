package org.glmmaas.worker.grammar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON Schema to grammar rules. Supported (docs/tools.md lists it): {@code type} (one or a list),
 * {@code properties}, {@code required}, {@code additionalProperties} (only the declared properties
 * are generated, in their order, which satisfies any value of it), {@code items}, {@code minItems},
 * {@code maxItems}, {@code minLength}, {@code maxLength}, {@code enum}, {@code const}, {@code
 * anyOf}, {@code oneOf} (generated as anyOf), integer bounds ({@code minimum}, {@code maximum},
 * {@code exclusiveMinimum}, {@code exclusiveMaximum}; not on numbers), {@code $ref} to {@code #...}
 * (local {@code $defs} / {@code definitions}, recursion included), and the annotations ({@code
 * title}, {@code description}, {@code default}, {@code examples}, {@code format}, ...). Anything
 * else is a {@link GrammarException} naming the keyword.
 */
final class SchemaCompiler {

  static final int MAX_ITEMS_BOUND = 256;
  static final int MAX_INTEGER_DIGITS = 16;
  static final int MAX_FRACTION_DIGITS = 16;
  static final int MAX_EXPONENT_DIGITS = 2;

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static final Set<String> ANNOTATIONS =
      Set.of(
          "$schema",
          "$id",
          "$comment",
          "$anchor",
          "title",
          "description",
          "default",
          "examples",
          "deprecated",
          "readOnly",
          "writeOnly",
          "format",
          "contentMediaType",
          "contentEncoding",
          "$defs",
          "definitions");

  private static final Set<String> SUPPORTED =
      Set.of(
          "type",
          "properties",
          "required",
          "additionalProperties",
          "unevaluatedProperties",
          "items",
          "minItems",
          "maxItems",
          "minLength",
          "maxLength",
          "enum",
          "const",
          "minimum",
          "maximum",
          "exclusiveMinimum",
          "exclusiveMaximum",
          "anyOf",
          "oneOf",
          "$ref");

  /** The rules every grammar of an engine shares (with their mask caches). */
  static final class Library {
    final Rule anyValue = new Rule("value");
    final Rule anyObject = new Rule("object");
    final Rule anyArray = new Rule("array");
    final Rule string = new Rule("string");
    final Rule number = new Rule("number");
    final Rule integer = new Rule("integer");
    final Rule bool = new Rule("boolean");
    final Rule nul = new Rule("null");
    private final Map<Rule.StringBody, Rule> strings = new HashMap<>();

    Library() {
      Rule.StringBody body = new Rule.StringBody(0, Integer.MAX_VALUE);
      strings.put(body, string);
      stringRule(string, body);
      numberRule(number, false);
      numberRule(integer, true);
      literals(bool, List.of("true", "false"));
      literals(nul, List.of("null"));
      Rule.Builder v = new Rule.Builder(anyValue);
      int end = v.node();
      for (Rule r : List.of(anyObject, anyArray, string, number, bool, nul)) {
        v.call(0, r, end);
      }
      v.accept(end);
      v.build();
      // { ws ( "key" ws : ws value ws ( , ws "key" ws : ws value ws )* )? }
      Rule.Builder o = new Rule.Builder(anyObject);
      int open = o.whitespace(o.literal(0, "{"));
      int close = o.node();
      o.accept(close);
      o.bytes(open, '}', '}', close);
      int member = o.node();
      o.eps(open, member);
      int afterValue = memberBody(o, member);
      o.bytes(afterValue, '}', '}', close);
      int comma = o.whitespace(o.literal(afterValue, ","));
      o.eps(comma, member);
      o.build();
      // [ ws ( value ws ( , ws value ws )* )? ]
      Rule.Builder a = new Rule.Builder(anyArray);
      int aOpen = a.whitespace(a.literal(0, "["));
      int aClose = a.node();
      a.accept(aClose);
      a.bytes(aOpen, ']', ']', aClose);
      int item = a.node();
      a.eps(aOpen, item);
      int v1 = a.node();
      a.call(item, anyValue, v1);
      int afterItem = a.whitespace(v1);
      a.bytes(afterItem, ']', ']', aClose);
      int aComma = a.whitespace(a.literal(afterItem, ","));
      a.eps(aComma, item);
      a.build();
    }

    private int memberBody(Rule.Builder o, int member) {
      int k1 = o.node();
      o.call(member, string, k1);
      int colon = o.whitespace(o.literal(o.whitespace(k1), ":"));
      int v = o.node();
      o.call(colon, anyValue, v);
      return o.whitespace(v);
    }

    synchronized Rule string(Rule.StringBody body) {
      return strings.computeIfAbsent(
          body, b -> stringRule(new Rule("string" + b.minLength() + "-" + b.maxLength()), b));
    }

    private static Rule stringRule(Rule r, Rule.StringBody body) {
      Rule.Builder b = new Rule.Builder(r);
      int open = b.literal(0, "\"");
      int end = b.node();
      b.call(open, body, end);
      b.accept(end);
      return b.build();
    }

    private static void numberRule(Rule r, boolean integer) {
      Rule.Builder b = new Rule.Builder(r);
      int sign = b.node();
      b.eps(0, sign);
      b.bytes(0, '-', '-', sign);
      int intEnd = b.node();
      b.bytes(sign, '0', '0', intEnd);
      int d = b.node();
      b.bytes(sign, '1', '9', d);
      for (int i = 1; i < MAX_INTEGER_DIGITS; i++) {
        b.eps(d, intEnd);
        int next = b.node();
        b.bytes(d, '0', '9', next);
        d = next;
      }
      b.eps(d, intEnd);
      b.accept(intEnd);
      if (!integer) {
        int f = b.literal(intEnd, ".");
        int fracEnd = b.node();
        for (int i = 0; i < MAX_FRACTION_DIGITS; i++) {
          int next = b.node();
          b.bytes(f, '0', '9', next);
          b.eps(next, fracEnd);
          f = next;
        }
        b.accept(fracEnd);
        int e = b.node();
        b.bytes(intEnd, 'e', 'e', e);
        b.bytes(intEnd, 'E', 'E', e);
        b.bytes(fracEnd, 'e', 'e', e);
        b.bytes(fracEnd, 'E', 'E', e);
        int es = b.node();
        b.eps(e, es);
        b.bytes(e, '+', '+', es);
        b.bytes(e, '-', '-', es);
        for (int i = 0; i < MAX_EXPONENT_DIGITS; i++) {
          int next = b.node();
          b.bytes(es, '0', '9', next);
          b.accept(next);
          es = next;
        }
      }
      b.build();
    }

    private static void literals(Rule r, List<String> values) {
      Rule.Builder b = new Rule.Builder(r);
      int end = b.node();
      for (String v : values) {
        b.eps(b.literal(0, v), end);
      }
      b.accept(end);
      b.build();
    }
  }

  private final Library library;
  private JsonNode root;
  private final Map<String, Rule> refs = new HashMap<>();
  private int rules;

  SchemaCompiler(Library library) {
    this.library = library;
  }

  Rule compile(String schemaJson) {
    try {
      root = JSON.readTree(schemaJson);
    } catch (JacksonException e) {
      throw new GrammarException(
          "schema", "the schema is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw new GrammarException("schema", "the schema is empty");
    }
    return rule(root, "");
  }

  private Rule rule(JsonNode s, String at) {
    if (++rules > 10_000) {
      throw new GrammarException("schema", "the schema is too large (over 10000 subschemas)");
    }
    if (s.isBoolean()) {
      if (s.booleanValue()) {
        return library.anyValue;
      }
      throw new GrammarException("false", "at " + where(at) + ": the false schema matches nothing");
    }
    if (!s.isObject()) {
      throw new GrammarException("schema", "at " + where(at) + ": a schema must be an object");
    }
    for (String key : s.propertyNames()) {
      if (!SUPPORTED.contains(key) && !ANNOTATIONS.contains(key)) {
        throw new GrammarException(
            key, "at " + where(at) + ": the JSON Schema keyword '" + key + "' is not supported");
      }
    }
    if (s.has("$ref")) {
      for (String key : s.propertyNames()) {
        if (SUPPORTED.contains(key) && !key.equals("$ref")) {
          throw new GrammarException(
              "$ref", "at " + where(at) + ": '$ref' with sibling keyword '" + key + "'");
        }
      }
      return ref(s.get("$ref"), at);
    }
    if (s.has("const")) {
      return literalValues(List.of(s.get("const")));
    }
    if (s.has("enum")) {
      JsonNode e = s.get("enum");
      if (!e.isArray() || e.isEmpty()) {
        throw new GrammarException(
            "enum", "at " + where(at) + ": 'enum' must be a non-empty array");
      }
      List<JsonNode> values = new ArrayList<>();
      e.forEach(values::add);
      return literalValues(values);
    }
    if (s.has("anyOf") || s.has("oneOf")) {
      String key = s.has("anyOf") ? "anyOf" : "oneOf";
      if (s.has("anyOf") && s.has("oneOf")) {
        throw new GrammarException("oneOf", "at " + where(at) + ": anyOf together with oneOf");
      }
      JsonNode alts = s.get(key);
      if (!alts.isArray() || alts.isEmpty()) {
        throw new GrammarException(key, "at " + where(at) + ": '" + key + "' must be non-empty");
      }
      List<Rule> rs = new ArrayList<>();
      for (int i = 0; i < alts.size(); i++) {
        rs.add(rule(alts.get(i), at + "/" + key + "/" + i));
      }
      return alternatives(key, rs);
    }
    List<String> types = types(s, at);
    if (types.isEmpty()) {
      if (s.has("properties") || s.has("required") || s.has("additionalProperties")) {
        types = List.of("object");
      } else if (s.has("items") || s.has("minItems") || s.has("maxItems")) {
        types = List.of("array");
      } else if (s.has("minLength") || s.has("maxLength")) {
        types = List.of("string");
      } else {
        return library.anyValue;
      }
    }
    List<Rule> rs = new ArrayList<>();
    for (String t : types) {
      rs.add(
          switch (t) {
            case "object" -> object(s, at);
            case "array" -> array(s, at);
            case "string" -> string(s, at);
            case "number" -> number(s, at);
            case "integer" -> integer(s, at);
            case "boolean" -> library.bool;
            case "null" -> library.nul;
            default ->
                throw new GrammarException(
                    "type", "at " + where(at) + ": unknown type '" + t + "'");
          });
    }
    return rs.size() == 1 ? rs.get(0) : alternatives("type", rs);
  }

  private static List<String> types(JsonNode s, String at) {
    JsonNode t = s.get("type");
    if (t == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    if (t.isString()) {
      out.add(t.stringValue());
    } else if (t.isArray() && !t.isEmpty()) {
      for (JsonNode x : t) {
        if (!x.isString()) {
          throw new GrammarException("type", "at " + where(at) + ": 'type' entries are strings");
        }
        out.add(x.stringValue());
      }
    } else {
      throw new GrammarException("type", "at " + where(at) + ": 'type' is a string or a list");
    }
    return out;
  }

  private Rule ref(JsonNode ref, String at) {
    if (!ref.isString() || !ref.stringValue().startsWith("#")) {
      throw new GrammarException(
          "$ref", "at " + where(at) + ": only local references ('#...') are supported");
    }
    String pointer = ref.stringValue().substring(1);
    Rule r = refs.get(pointer);
    if (r != null) {
      return r;
    }
    JsonNode target;
    try {
      target = pointer.isEmpty() ? root : root.at(pointer);
    } catch (IllegalArgumentException e) {
      target = null;
    }
    if (target == null || target.isMissingNode()) {
      throw new GrammarException(
          "$ref", "at " + where(at) + ": '" + ref.stringValue() + "' points nowhere");
    }
    // a placeholder rule that calls the target's rule, so recursion can refer to it before it
    // exists
    Rule placeholder = new Rule("ref " + pointer);
    refs.put(pointer, placeholder);
    Rule body = rule(target, pointer);
    Rule.Builder b = new Rule.Builder(placeholder);
    int end = b.node();
    b.call(0, body, end);
    b.accept(end);
    return b.build();
  }

  private Rule alternatives(String name, List<Rule> rs) {
    Rule r = new Rule(name);
    Rule.Builder b = new Rule.Builder(r);
    int end = b.node();
    for (Rule x : rs) {
      b.call(0, x, end);
    }
    b.accept(end);
    return b.build();
  }

  private Rule literalValues(List<JsonNode> values) {
    Rule r = new Rule("literal");
    Rule.Builder b = new Rule.Builder(r);
    int end = b.node();
    Set<String> seen = new LinkedHashSet<>();
    for (JsonNode v : values) {
      seen.add(JSON.writeValueAsString(v));
    }
    for (String v : seen) {
      b.eps(b.literal(0, v.getBytes(StandardCharsets.UTF_8)), end);
    }
    b.accept(end);
    return b.build();
  }

  private static final List<String> BOUNDS =
      List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");

  private Rule number(JsonNode s, String at) {
    for (String key : BOUNDS) {
      if (s.has(key)) {
        throw new GrammarException(
            key,
            "at "
                + where(at)
                + ": '"
                + key
                + "' is not supported on a number (only on an integer)");
      }
    }
    return library.number;
  }

  /** An integer, within minimum/maximum/exclusiveMinimum/exclusiveMaximum when given. */
  private Rule integer(JsonNode s, String at) {
    long limit = 9_999_999_999_999_999L; // MAX_INTEGER_DIGITS nines
    long lo = -limit;
    long hi = limit;
    boolean bounded = false;
    for (String key : BOUNDS) {
      JsonNode n = s.get(key);
      if (n == null) {
        continue;
      }
      if (!n.isNumber()) {
        throw new GrammarException(key, "at " + where(at) + ": '" + key + "' must be a number");
      }
      bounded = true;
      java.math.BigDecimal v = n.decimalValue();
      java.math.BigDecimal bound =
          switch (key) {
            case "minimum" -> v.setScale(0, java.math.RoundingMode.CEILING);
            case "exclusiveMinimum" ->
                v.setScale(0, java.math.RoundingMode.FLOOR).add(java.math.BigDecimal.ONE);
            case "maximum" -> v.setScale(0, java.math.RoundingMode.FLOOR);
            default ->
                v.setScale(0, java.math.RoundingMode.CEILING).subtract(java.math.BigDecimal.ONE);
          };
      long b =
          bound
              .max(java.math.BigDecimal.valueOf(-limit))
              .min(java.math.BigDecimal.valueOf(limit))
              .longValueExact();
      if (key.contains("inimum")) {
        lo = Math.max(lo, b);
      } else {
        hi = Math.min(hi, b);
      }
    }
    if (!bounded) {
      return library.integer;
    }
    if (lo > hi) {
      throw new GrammarException(
          "minimum", "at " + where(at) + ": no integer lies within the bounds");
    }
    Rule r = new Rule("integer " + lo + ".." + hi);
    Rule.Builder b = new Rule.Builder(r);
    int end = b.node();
    b.accept(end);
    if (hi >= 0) {
      nonNegative(b, 0, Math.max(lo, 0), hi, end);
    }
    if (lo < 0) {
      int minus = b.literal(0, "-");
      nonNegative(b, minus, Math.max(1, hi < 0 ? -hi : 1), -lo, end);
    }
    return b.build();
  }

  /** The canonical decimals of [lo, hi] (0 <= lo <= hi), from {@code from} to {@code to}. */
  private static void nonNegative(Rule.Builder b, int from, long lo, long hi, int to) {
    int loLen = Long.toString(lo).length();
    int hiLen = Long.toString(hi).length();
    for (int len = loLen; len <= hiLen; len++) {
      long low = len == loLen ? lo : pow10(len - 1);
      long high = len == hiLen ? hi : pow10(len) - 1;
      sameLength(b, from, Long.toString(low), Long.toString(high), to);
    }
  }

  private static long pow10(int n) {
    long p = 1;
    for (int i = 0; i < n; i++) {
      p *= 10;
    }
    return p;
  }

  /** Digit strings of one length between lo and hi inclusive (lo <= hi). */
  private static void sameLength(Rule.Builder b, int from, String lo, String hi, int to) {
    if (lo.isEmpty()) {
      b.eps(from, to);
      return;
    }
    if (lo.chars().allMatch(c -> c == '0') && hi.chars().allMatch(c -> c == '9')) {
      int cur = from; // any digits: a chain, not a tree of ranges
      for (int i = 0; i < lo.length(); i++) {
        int next = i == lo.length() - 1 ? to : b.node();
        b.bytes(cur, '0', '9', next);
        cur = next;
      }
      return;
    }
    char l = lo.charAt(0);
    char h = hi.charAt(0);
    String loRest = lo.substring(1);
    String hiRest = hi.substring(1);
    if (l == h) {
      int n = b.node();
      b.bytes(from, l, l, n);
      sameLength(b, n, loRest, hiRest, to);
      return;
    }
    String nines = "9".repeat(loRest.length());
    String zeros = "0".repeat(hiRest.length());
    int n1 = b.node();
    b.bytes(from, l, l, n1);
    sameLength(b, n1, loRest, nines, to);
    if (h - l > 1) {
      int n2 = b.node();
      b.bytes(from, l + 1, h - 1, n2);
      sameLength(b, n2, zeros, nines, to);
    }
    int n3 = b.node();
    b.bytes(from, h, h, n3);
    sameLength(b, n3, zeros, hiRest, to);
  }

  private Rule string(JsonNode s, String at) {
    int min = nonNegative(s, "minLength", 0, at);
    int max = nonNegative(s, "maxLength", Integer.MAX_VALUE, at);
    if (min > max) {
      throw new GrammarException(
          "minLength", "at " + where(at) + ": minLength " + min + " > maxLength " + max);
    }
    return library.string(new Rule.StringBody(min, max));
  }

  private Rule object(JsonNode s, String at) {
    JsonNode props = s.get("properties");
    if (props != null && !props.isObject()) {
      throw new GrammarException("properties", "at " + where(at) + ": must be an object");
    }
    Set<String> required = new LinkedHashSet<>();
    JsonNode req = s.get("required");
    if (req != null) {
      if (!req.isArray()) {
        throw new GrammarException("required", "at " + where(at) + ": must be an array");
      }
      for (JsonNode x : req) {
        if (!x.isString()) {
          throw new GrammarException("required", "at " + where(at) + ": names are strings");
        }
        required.add(x.stringValue());
      }
    }
    for (String key : List.of("additionalProperties", "unevaluatedProperties")) {
      JsonNode ap = s.get(key);
      if (ap != null && !ap.isBoolean()) {
        rule(ap, at + "/" + key); // checked for support; extra properties are never generated
      }
    }
    List<String> names = new ArrayList<>();
    List<Rule> values = new ArrayList<>();
    if (props != null) {
      for (Map.Entry<String, JsonNode> e : props.properties()) {
        names.add(e.getKey());
        values.add(rule(e.getValue(), at + "/properties/" + e.getKey()));
      }
    }
    for (String r : required) {
      if (!names.contains(r)) {
        names.add(r); // required but undeclared: any value
        values.add(library.anyValue);
      }
    }
    Rule rule = new Rule("object " + where(at));
    Rule.Builder b = new Rule.Builder(rule);
    int none = b.whitespace(b.literal(0, "{")); // nothing emitted yet; -1 once one is required
    int some = -1; // at least one emitted
    for (int i = 0; i < names.size(); i++) {
      String key = JSON.writeValueAsString(names.get(i));
      int next = b.node();
      if (none >= 0) {
        member(b, none, key, values.get(i), next);
      }
      if (some >= 0) {
        member(b, b.whitespace(b.literal(some, ",")), key, values.get(i), next);
      }
      if (required.contains(names.get(i))) {
        none = -1;
      } else if (some >= 0) {
        b.eps(some, next);
      }
      some = next;
    }
    int end = b.node();
    b.accept(end);
    if (none >= 0) {
      b.bytes(none, '}', '}', end);
    }
    if (some >= 0) {
      b.bytes(some, '}', '}', end);
    }
    return b.build();
  }

  private static void member(Rule.Builder b, int from, String key, Rule value, int to) {
    int k = b.whitespace(b.literal(b.whitespace(b.literal(from, key)), ":"));
    int v = b.node();
    b.call(k, value, v);
    b.eps(b.whitespace(v), to);
  }

  private Rule array(JsonNode s, String at) {
    int min = nonNegative(s, "minItems", 0, at);
    int max = nonNegative(s, "maxItems", Integer.MAX_VALUE, at);
    if (min > max) {
      throw new GrammarException(
          "minItems", "at " + where(at) + ": minItems " + min + " > maxItems " + max);
    }
    if (min > MAX_ITEMS_BOUND || (max != Integer.MAX_VALUE && max > MAX_ITEMS_BOUND)) {
      throw new GrammarException(
          min > MAX_ITEMS_BOUND ? "minItems" : "maxItems",
          "at " + where(at) + ": item bounds above " + MAX_ITEMS_BOUND + " are not supported");
    }
    JsonNode items = s.get("items");
    if (items != null && items.isArray()) {
      throw new GrammarException(
          "items", "at " + where(at) + ": 'items' as an array (tuple form) is not supported");
    }
    if (items != null && items.isBoolean() && !items.booleanValue()) {
      max = 0;
      if (min > 0) {
        throw new GrammarException("items", "at " + where(at) + ": items false with minItems");
      }
    }
    Rule item = items == null || items.isBoolean() ? library.anyValue : rule(items, at + "/items");
    Rule rule = new Rule("array " + where(at));
    Rule.Builder b = new Rule.Builder(rule);
    int open = b.whitespace(b.literal(0, "["));
    int end = b.node();
    b.accept(end);
    if (min == 0) {
      b.bytes(open, ']', ']', end);
    }
    if (max > 0) {
      int v = b.node();
      b.call(open, item, v);
      int after = b.whitespace(v); // after 1 item
      int loopFrom = Math.max(min, 1);
      for (int k = 1; ; k++) {
        if (k >= min) {
          b.bytes(after, ']', ']', end);
        }
        if (k >= max) {
          break;
        }
        int c = b.whitespace(b.literal(after, ","));
        int nv = b.node();
        b.call(c, item, nv);
        if (max == Integer.MAX_VALUE && k == loopFrom) {
          b.eps(b.whitespace(nv), after); // unbounded: loop here
          break;
        }
        after = b.whitespace(nv);
      }
    }
    return b.build();
  }

  private static int nonNegative(JsonNode s, String key, int absent, String at) {
    JsonNode n = s.get(key);
    if (n == null) {
      return absent;
    }
    if (!n.isIntegralNumber() || n.asLong() < 0 || n.asLong() > Integer.MAX_VALUE - 1) {
      throw new GrammarException(
          key, "at " + where(at) + ": '" + key + "' must be a non-negative integer");
    }
    return n.asInt();
  }

  private static String where(String at) {
    return at.isEmpty() ? "the schema root" : at;
  }
}
