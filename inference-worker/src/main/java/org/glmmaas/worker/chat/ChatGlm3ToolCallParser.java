package org.glmmaas.worker.chat;

import java.util.Set;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * ChatGLM3-6B: a call is the assistant turn's output {@code name\n} (the turn's metadata line,
 * right after {@code <|assistant|>}) followed by a Python code block calling {@code tool_call} with
 * keyword arguments,
 *
 * <pre>
 * get_weather
 *  ```python
 * tool_call(city="Beijing", days=3)
 * ```
 * </pre>
 *
 * as ChatGLM3's {@code process_response} reads it (the block's first and last lines dropped, the
 * rest evaluated with {@code tool_call(**kwargs)} returning the kwargs). The keyword values are
 * Python literals (strings, numbers, True/False/None, lists, tuples, dicts); they become the JSON
 * arguments. A JSON object after the name line (GLM-4's form, and what a forced call's grammar
 * writes) is taken as is. One call per turn. The body is held until the output ends (it is
 * converted whole); output that names an offered function but whose body is neither form is
 * returned as text, unchanged.
 */
public final class ChatGlm3ToolCallParser implements ToolCallParser {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  @Override
  public String family() {
    return "chatglm3";
  }

  @Override
  public String callPrefix(String name) {
    return name + "\n";
  }

  @Override
  public String callSuffix() {
    return "";
  }

  @Override
  public Session newSession(Set<String> toolNames, boolean parallel) {
    return new Session() {
      private final NameLine nameLine = new NameLine(toolNames);
      private final StringBuilder body = new StringBuilder();
      private int state; // 0 deciding, 1 text, 2 call body (held)
      private String name;
      private int numCalls;

      @Override
      public void push(String text, Consumer<OutputEvent> out) {
        if (text.isEmpty()) {
          return;
        }
        switch (state) {
          case 1 -> out.accept(new OutputEvent.Text(text));
          case 2 -> body.append(text);
          default -> {
            switch (nameLine.push(text)) {
              case NameLine.Call c -> {
                state = 2;
                name = c.name();
                body.append(c.rest());
              }
              case NameLine.Text t -> {
                state = 1;
                out.accept(new OutputEvent.Text(t.text()));
              }
              case NameLine.Pending p -> {}
            }
          }
        }
      }

      @Override
      public void finish(Consumer<OutputEvent> out) {
        if (state == 2) {
          String args = arguments(body.toString());
          if (args != null) {
            numCalls = 1;
            out.accept(new OutputEvent.CallStart(0, CallIds.next(), name));
            out.accept(new OutputEvent.CallArguments(0, args));
          } else {
            out.accept(new OutputEvent.Text(name + "\n" + body));
          }
        } else if (state == 0) {
          if (nameLine.finishInto(out)) {
            numCalls = 1;
          }
        }
        body.setLength(0);
        state = 1;
      }

      @Override
      public int numCalls() {
        return numCalls;
      }
    };
  }

  /**
   * The JSON arguments of a call body: a {@code tool_call(...)} code block, a bare {@code
   * tool_call(...)} line, or a JSON object; null when it is none of them.
   */
  public static String arguments(String body) {
    String b = body.strip();
    if (b.isEmpty()) {
      return "{}";
    }
    if (b.startsWith("{")) {
      try {
        JsonNode n = JSON.readTree(b);
        return n.isObject() ? JSON.writeValueAsString(n) : null;
      } catch (RuntimeException e) {
        return null;
      }
    }
    if (b.startsWith("```")) {
      // process_response: the first line (```python) and the last (```) dropped
      int nl = b.indexOf('\n');
      if (nl < 0) {
        return null;
      }
      String code = b.substring(nl + 1).stripTrailing();
      if (code.endsWith("```")) {
        code = code.substring(0, code.length() - 3);
      }
      b = code.strip();
    }
    if (!b.startsWith("tool_call(")) {
      return null;
    }
    try {
      PyLiteral p = new PyLiteral(b, "tool_call(".length());
      ObjectNode args = p.kwargs();
      p.skipSpace();
      if (p.pos != b.length()) {
        return null;
      }
      return JSON.writeValueAsString(args);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Python literal syntax, as far as keyword arguments of a tool call use it. */
  private static final class PyLiteral {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private final String s;
    private int pos;

    PyLiteral(String s, int pos) {
      this.s = s;
      this.pos = pos;
    }

    private IllegalArgumentException bad() {
      return new IllegalArgumentException("not a Python literal at " + pos);
    }

    void skipSpace() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    private boolean eat(char c) {
      skipSpace();
      if (pos < s.length() && s.charAt(pos) == c) {
        pos++;
        return true;
      }
      return false;
    }

    /** {@code name=value, ...)} after the opening parenthesis (a trailing comma allowed). */
    ObjectNode kwargs() {
      ObjectNode o = F.objectNode();
      while (true) {
        if (eat(')')) {
          return o;
        }
        skipSpace();
        int start = pos;
        while (pos < s.length()
            && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
          pos++;
        }
        String key = s.substring(start, pos);
        if (key.isEmpty() || !eat('=')) {
          throw bad();
        }
        o.set(key, value());
        if (!eat(',')) {
          if (eat(')')) {
            return o;
          }
          throw bad();
        }
      }
    }

    JsonNode value() {
      skipSpace();
      if (pos >= s.length()) {
        throw bad();
      }
      char c = s.charAt(pos);
      if (c == '"' || c == '\'') {
        return F.textNode(string());
      }
      if (c == '[' || c == '(') {
        char close = c == '[' ? ']' : ')';
        pos++;
        ArrayNode a = F.arrayNode();
        if (eat(close)) {
          return a;
        }
        do {
          if (eat(close)) {
            return a; // trailing comma
          }
          a.add(value());
        } while (eat(','));
        if (!eat(close)) {
          throw bad();
        }
        return a;
      }
      if (c == '{') {
        pos++;
        ObjectNode o = F.objectNode();
        if (eat('}')) {
          return o;
        }
        do {
          if (eat('}')) {
            return o;
          }
          JsonNode k = value();
          if (!eat(':')) {
            throw bad();
          }
          o.set(k.isString() ? k.asString() : k.toString(), value());
        } while (eat(','));
        if (!eat('}')) {
          throw bad();
        }
        return o;
      }
      int start = pos;
      while (pos < s.length()
          && (Character.isLetterOrDigit(s.charAt(pos)) || "+-._".indexOf(s.charAt(pos)) >= 0)) {
        pos++;
      }
      String word = s.substring(start, pos);
      switch (word) {
        case "True":
          return F.booleanNode(true);
        case "False":
          return F.booleanNode(false);
        case "None":
          return F.nullNode();
        default:
          break;
      }
      try {
        if (word.matches("[+-]?\\d+")) {
          return F.numberNode(new java.math.BigInteger(word));
        }
        if (word.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
          return F.numberNode(new java.math.BigDecimal(word));
        }
      } catch (NumberFormatException e) {
        throw bad();
      }
      throw bad();
    }

    private String string() {
      char q = s.charAt(pos);
      boolean triple = s.startsWith(String.valueOf(q).repeat(3), pos);
      pos += triple ? 3 : 1;
      StringBuilder sb = new StringBuilder();
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c == q && (!triple || s.startsWith(String.valueOf(q).repeat(3), pos))) {
          pos += triple ? 3 : 1;
          return sb.toString();
        }
        if (c == '\\' && pos + 1 < s.length()) {
          char e = s.charAt(pos + 1);
          pos += 2;
          switch (e) {
            case 'n' -> sb.append('\n');
            case 't' -> sb.append('\t');
            case 'r' -> sb.append('\r');
            case '0' -> sb.append('\0');
            case 'u' -> {
              if (pos + 4 > s.length()) {
                throw bad();
              }
              sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
              pos += 4;
            }
            default -> sb.append(e); // \\ \' \" and anything else as itself
          }
          continue;
        }
        sb.append(c);
        pos++;
      }
      throw bad();
    }
  }
}
