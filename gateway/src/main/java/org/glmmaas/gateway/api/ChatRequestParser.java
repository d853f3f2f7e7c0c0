package org.glmmaas.gateway.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.glmmaas.gateway.error.GlmException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns a request body into a {@link ChatRequest} or a precise 400: which parameter, what was
 * expected. Unknown fields are ignored; JSON null counts as absent.
 */
public final class ChatRequestParser {

  private static final Set<String> ROLES =
      Set.of("system", "user", "assistant", "tool", "observation");
  private static final int MAX_ID_LENGTH = 128;
  private static final int MAX_STOP = 16;

  private final JsonMapper mapper;
  private final int maxTokensLimit;

  public ChatRequestParser(int maxTokensLimit) {
    this.maxTokensLimit = maxTokensLimit;
    this.mapper =
        JsonMapper.builder(
                JsonFactory.builder()
                    .streamReadConstraints(
                        StreamReadConstraints.builder().maxNestingDepth(64).build())
                    .build())
            .build();
  }

  /** Parses JSON bytes into a tree, or a 400 that says where the JSON broke. */
  public JsonNode readTree(byte[] body) {
    if (body.length == 0) {
      throw GlmException.invalid("request body is empty; expected a JSON object", null);
    }
    JsonNode root;
    try {
      root = mapper.readTree(body);
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

  public ChatRequest parse(byte[] body) {
    return parse(readTree(body));
  }

  public ChatRequest parse(JsonNode root) {
    String model = requiredString(root, "model");
    List<ChatRequest.Message> messages = messages(root.get("messages"));
    boolean stream = bool(root, "stream", false);
    Double temperature = number(root, "temperature", 0.0, 2.0, true);
    Double topP = number(root, "top_p", 0.0, 1.0, false);
    Integer maxTokens = maxTokens(root);
    List<String> stop = stop(root.get("stop"));
    Boolean doSample = present(root, "do_sample") ? bool(root, "do_sample", true) : null;
    Long seed = integer(root, "seed");
    String requestId = optionalId(root, "request_id");
    String userId = optionalId(root, "user_id");
    if (userId == null) {
      userId = optionalId(root, "user");
    }
    boolean includeUsage = false;
    JsonNode so = root.get("stream_options");
    if (so != null && !so.isNull()) {
      if (!so.isObject()) {
        throw GlmException.invalid(
            "'stream_options' must be an object, got " + kind(so), "stream_options");
      }
      includeUsage = bool(so, "include_usage", false, "stream_options.include_usage");
    }
    return new ChatRequest(
        model,
        messages,
        stream,
        temperature,
        topP,
        maxTokens,
        stop,
        doSample,
        seed,
        requestId,
        userId,
        includeUsage);
  }

  private List<ChatRequest.Message> messages(JsonNode node) {
    if (node == null || node.isNull()) {
      throw GlmException.invalid("'messages' is required", "messages");
    }
    if (!node.isArray()) {
      throw GlmException.invalid("'messages' must be an array, got " + kind(node), "messages");
    }
    if (node.isEmpty()) {
      throw GlmException.invalid("'messages' must contain at least one message", "messages");
    }
    List<ChatRequest.Message> out = new ArrayList<>(node.size());
    for (int i = 0; i < node.size(); i++) {
      String at = "messages[" + i + "]";
      JsonNode m = node.get(i);
      if (!m.isObject()) {
        throw GlmException.invalid("'" + at + "' must be an object, got " + kind(m), at);
      }
      JsonNode roleNode = m.get("role");
      if (roleNode == null || roleNode.isNull()) {
        throw GlmException.invalid("'" + at + ".role' is required", at + ".role");
      }
      if (!roleNode.isString()) {
        throw GlmException.invalid(
            "'" + at + ".role' must be a string, got " + kind(roleNode), at + ".role");
      }
      String role = roleNode.stringValue();
      if (!ROLES.contains(role)) {
        throw GlmException.invalid(
            "'"
                + at
                + ".role' must be one of system, user, assistant, "
                + "tool, observation; got '"
                + abbreviate(role)
                + "'",
            at + ".role");
      }
      String content = content(m.get("content"), at, role);
      String name = optionalString(m, "name", at + ".name");
      String toolCallId = optionalString(m, "tool_call_id", at + ".tool_call_id");
      out.add(new ChatRequest.Message(role, content, name, toolCallId));
    }
    return out;
  }

  private static String content(JsonNode c, String at, String role) {
    if (c == null || c.isNull()) {
      if ("assistant".equals(role)) {
        return "";
      }
      throw GlmException.invalid("'" + at + ".content' is required", at + ".content");
    }
    if (c.isString()) {
      return c.stringValue();
    }
    if (c.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (int j = 0; j < c.size(); j++) {
        JsonNode part = c.get(j);
        String p = at + ".content[" + j + "]";
        if (!part.isObject()) {
          throw GlmException.invalid("'" + p + "' must be an object, got " + kind(part), p);
        }
        JsonNode type = part.get("type");
        if (type == null || !type.isString() || !"text".equals(type.stringValue())) {
          throw GlmException.invalid(
              "'" + p + ".type' must be \"text\"; only text content is " + "supported",
              p + ".type");
        }
        JsonNode text = part.get("text");
        if (text == null || !text.isString()) {
          throw GlmException.invalid("'" + p + ".text' must be a string", p + ".text");
        }
        sb.append(text.stringValue());
      }
      return sb.toString();
    }
    throw GlmException.invalid(
        "'" + at + ".content' must be a string or an array of text parts, " + "got " + kind(c),
        at + ".content");
  }

  private Integer maxTokens(JsonNode root) {
    String field =
        present(root, "max_tokens")
            ? "max_tokens"
            : present(root, "max_completion_tokens") ? "max_completion_tokens" : null;
    if (field == null) {
      return null;
    }
    JsonNode n = root.get(field);
    if (!n.isIntegralNumber() && !(n.isNumber() && n.doubleValue() == Math.rint(n.doubleValue()))) {
      throw GlmException.invalid("'" + field + "' must be an integer, got " + kind(n), field);
    }
    double v = n.doubleValue();
    if (v < 1 || v > maxTokensLimit) {
      throw GlmException.invalid(
          "'"
              + field
              + "' must be between 1 and "
              + maxTokensLimit
              + ", got "
              + (n.isIntegralNumber() ? n.asString() : String.valueOf(v)),
          field);
    }
    return (int) v;
  }

  private static List<String> stop(JsonNode n) {
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (n.isString()) {
      return List.of(n.stringValue());
    }
    if (!n.isArray()) {
      throw GlmException.invalid(
          "'stop' must be a string or an array of strings, got " + kind(n), "stop");
    }
    if (n.size() > MAX_STOP) {
      throw GlmException.invalid(
          "'stop' may hold at most " + MAX_STOP + " strings, got " + n.size(), "stop");
    }
    List<String> out = new ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      JsonNode s = n.get(i);
      if (!s.isString()) {
        throw GlmException.invalid(
            "'stop[" + i + "]' must be a string, got " + kind(s), "stop[" + i + "]");
      }
      out.add(s.stringValue());
    }
    return out;
  }

  private static boolean present(JsonNode root, String field) {
    JsonNode n = root.get(field);
    return n != null && !n.isNull();
  }

  private static String requiredString(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      throw GlmException.invalid("'" + field + "' is required", field);
    }
    if (!n.isString()) {
      throw GlmException.invalid("'" + field + "' must be a string, got " + kind(n), field);
    }
    if (n.stringValue().isBlank()) {
      throw GlmException.invalid("'" + field + "' must not be empty", field);
    }
    return n.stringValue();
  }

  private static String optionalString(JsonNode root, String field, String param) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isString()) {
      throw GlmException.invalid("'" + param + "' must be a string, got " + kind(n), param);
    }
    return n.stringValue();
  }

  private static String optionalId(JsonNode root, String field) {
    String s = optionalString(root, field, field);
    if (s == null) {
      return null;
    }
    if (s.isEmpty() || s.length() > MAX_ID_LENGTH) {
      throw GlmException.invalid(
          "'" + field + "' must be 1 to " + MAX_ID_LENGTH + " characters long, got " + s.length(),
          field);
    }
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch < 0x21 || ch > 0x7e) {
        throw GlmException.invalid(
            "'" + field + "' may only contain printable ASCII without " + "spaces", field);
      }
    }
    return s;
  }

  private static boolean bool(JsonNode root, String field, boolean dflt) {
    return bool(root, field, dflt, field);
  }

  private static boolean bool(JsonNode root, String field, boolean dflt, String param) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isBoolean()) {
      throw GlmException.invalid("'" + param + "' must be a boolean, got " + kind(n), param);
    }
    return n.booleanValue();
  }

  private static Double number(
      JsonNode root, String field, double min, double max, boolean minInclusive) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isNumber()) {
      throw GlmException.invalid("'" + field + "' must be a number, got " + kind(n), field);
    }
    double v = n.doubleValue();
    boolean ok = (minInclusive ? v >= min : v > min) && v <= max && Double.isFinite(v);
    if (!ok) {
      throw GlmException.invalid(
          "'"
              + field
              + "' must be in "
              + (minInclusive ? "[" : "(")
              + min
              + ", "
              + max
              + "], got "
              + v,
          field);
    }
    return v;
  }

  private static Long integer(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw GlmException.invalid("'" + field + "' must be a 64-bit integer, got " + kind(n), field);
    }
    return n.longValue();
  }

  static String kind(JsonNode n) {
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

  private static String abbreviate(String s) {
    String clean =
        s.codePoints()
            .filter(cp -> cp >= 0x20 && cp != 0x7f)
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
            .toString();
    return clean.length() > 32 ? clean.substring(0, 32) + "..." : clean;
  }

  private static String describe(JacksonException e) {
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

  /** Exposed for other handlers that need a JSON mapper with the same limits. */
  public JsonMapper mapper() {
    return mapper;
  }
}
