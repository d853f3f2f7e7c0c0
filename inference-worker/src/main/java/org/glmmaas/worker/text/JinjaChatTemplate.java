package org.glmmaas.worker.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A chat template rendered by a real Jinja engine (HubSpot's Jinjava), configured like Hugging
 * Face's chat-template environment: {@code trim_blocks}, {@code lstrip_blocks}, no trailing newline
 * kept, and the globals templates rely on ({@code raise_exception}, {@code bos_token}, {@code
 * eos_token}). Message content is data, never re-interpreted as template code.
 *
 * <p>Role "tool" (OpenAI) and "observation" (GLM) are the same turn: when the template handles only
 * one of the two names, the other is renamed to it. A template that names neither but writes the
 * role into a tag ({@code <|{{ message['role'] }}|>}, as ChatGLM3's does) gets "observation": its
 * tool results are {@code <|observation|>} turns, the GLM control token, never {@code <|tool|>}.
 */
public final class JinjaChatTemplate implements ChatTemplate {

  /**
   * The GLM-4 template, used when a model file has none. It renders what llama.cpp's built-in
   * "chatglm4" format renders ({@code [gMASK]<sop>}, {@code <|role|>\ncontent} per message, then
   * {@code <|assistant|>\n}) and rejects roles it does not know.
   */
  public static final String GLM4_FALLBACK =
      "[gMASK]<sop>{% for message in messages %}"
          + "{% if message['role'] == 'system' %}<|system|>\n{{ message['content'] }}"
          + "{% elif message['role'] == 'user' %}<|user|>\n{{ message['content'] }}"
          + "{% elif message['role'] == 'assistant' %}<|assistant|>\n{{ message['content'] }}"
          + "{% elif message['role'] == 'observation' %}<|observation|>\n{{ message['content'] }}"
          + "{% else %}{{ raise_exception('unknown role: ' ~ message['role']"
          + " ~ ' (expected system, user, assistant, tool or observation)') }}"
          + "{% endif %}{% endfor %}"
          + "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

  private static final long MAX_OUTPUT_CHARS = 64L * 1024 * 1024;

  private final String source;

  /**
   * The source as Jinja's lexer sees it: one trailing newline dropped (keep_trailing_newline off).
   */
  private final String renderSource;

  private final Jinjava jinjava = Engine.INSTANCE;
  private final Map<String, String> globals;
  private final String toolRoleName;

  /**
   * @param source the template (Jinja)
   * @param bosToken text of the BOS token, or "" (exposed as {@code bos_token})
   * @param eosToken text of the EOS token, or "" (exposed as {@code eos_token})
   * @throws TemplateException when the template does not parse
   */
  public JinjaChatTemplate(String source, String bosToken, String eosToken) {
    this.source = Objects.requireNonNull(source, "source");
    this.renderSource =
        source.endsWith("\r\n")
            ? source.substring(0, source.length() - 2)
            : source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
    this.globals =
        Map.of(
            "bos_token",
            bosToken == null ? "" : bosToken,
            "eos_token",
            eosToken == null ? "" : eosToken);
    boolean knowsTool = mentionsRole(source, "tool");
    boolean knowsObservation = mentionsRole(source, "observation");
    this.toolRoleName =
        knowsObservation && !knowsTool
            ? "observation"
            : knowsTool && !knowsObservation
                ? "tool"
                : !knowsTool && ROLE_AS_TAG.matcher(source).find() ? "observation" : null;
    checkSyntax();
  }

  /** The GLM-4 fallback template. */
  public static JinjaChatTemplate glm4Fallback() {
    return new JinjaChatTemplate(GLM4_FALLBACK, "", "<|endoftext|>");
  }

  /** The template's source. */
  @Override
  public String source() {
    return source;
  }

  /** Marks the start of user data in a render (a Unicode noncharacter; removed from data). */
  static final char DATA_BEGIN = '\uFDD0';

  /** Marks the end of user data in a render. */
  static final char DATA_END = '\uFDD1';

  @Override
  public RenderedChat render(ChatInput input, boolean addGenerationPrompt) {
    Objects.requireNonNull(input, "input");
    String plain = renderWith(input, addGenerationPrompt, false);
    String marked = renderWith(input, addGenerationPrompt, true);
    return align(plain, marked);
  }

  /**
   * The plain render, with the user-data chars found from the marked render. They differ only by
   * the markers and by whitespace the template trimmed inside data ({@code |trim}, {@code strip()}
   * see the markers, not the data's own whitespace); anything else keeps the marked render (markers
   * removed), whose data ranges are exact.
   */
  static RenderedChat align(String plain, String marked) {
    BitSet literal = new BitSet(plain.length());
    int i = 0;
    int j = 0;
    int depth = 0;
    boolean ok = true;
    while (j < marked.length()) {
      char m = marked.charAt(j);
      if (m == DATA_BEGIN) {
        depth++;
        j++;
      } else if (m == DATA_END) {
        depth = Math.max(0, depth - 1);
        j++;
      } else if (i < plain.length() && plain.charAt(i) == m) {
        if (depth > 0) {
          literal.set(i);
        }
        i++;
        j++;
      } else if (Character.isWhitespace(m)) {
        j++; // trimmed in the plain render
      } else if (i < plain.length() && Character.isWhitespace(plain.charAt(i))) {
        if (depth > 0) {
          literal.set(i);
        }
        i++;
      } else {
        ok = false;
        break;
      }
    }
    while (ok && i < plain.length()) {
      if (!Character.isWhitespace(plain.charAt(i))) {
        ok = false;
      } else if (depth > 0) {
        literal.set(i);
      }
      i++;
    }
    if (ok) {
      return new RenderedChat(plain, literal);
    }
    StringBuilder text = new StringBuilder(marked.length());
    BitSet exact = new BitSet(marked.length());
    depth = 0;
    for (int k = 0; k < marked.length(); k++) {
      char m = marked.charAt(k);
      if (m == DATA_BEGIN) {
        depth++;
      } else if (m == DATA_END) {
        depth = Math.max(0, depth - 1);
      } else {
        if (depth > 0) {
          exact.set(text.length());
        }
        text.append(m);
      }
    }
    return new RenderedChat(text.toString(), exact);
  }

  /** ChatGLM3's tool system prompt (its tokenizer appends the tools as indented JSON). */
  static final String CHATGLM3_TOOLS_PROMPT =
      "Answer the following questions as best as you can. You have access to the following tools:";

  /**
   * ChatGLM2/ChatGLM3 templates: they open with {@code [gMASK]sop} (no angle brackets; GLM-4 writes
   * {@code [gMASK]<sop>}), llama.cpp's test for its chatglm3 template.
   */
  public static boolean isChatGlm3(String source) {
    return source.contains("[gMASK]sop");
  }

  /**
   * ChatGLM3 offers tools in a system turn of its own, first: the prompt sentence, then the tools
   * ({@code name}, {@code description}, {@code parameters}) as JSON indented by 4, as ChatGLM3's
   * tokenizer ({@code build_chat_input}) renders a system message with {@code tools}. Its template
   * never reads {@code tools}, so without this turn the model would not see them.
   */
  private Map<String, Object> chatGlm3ToolsTurn(List<ToolSpec> specs, boolean mark) {
    List<Map<String, Object>> tools = new ArrayList<>();
    for (ToolSpec t : specs) {
      Map<String, Object> tool = new LinkedHashMap<>();
      tool.put("name", t.name());
      tool.put("description", t.description());
      tool.put("parameters", parseJson(t.parametersJson(), "tools." + t.name()));
      tools.add(tool);
    }
    String json = pyJson(tools, "");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", "system");
    m.put("content", CHATGLM3_TOOLS_PROMPT + "\n" + data(json, mark));
    return m;
  }

  /** JSON as Python's {@code json.dumps(v, indent=4, ensure_ascii=False)} writes it. */
  static String pyJson(Object v, String indent) {
    String in = indent + "    ";
    if (v instanceof Map<?, ?> map) {
      if (map.isEmpty()) {
        return "{}";
      }
      StringBuilder sb = new StringBuilder("{\n");
      int i = 0;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        sb.append(i++ > 0 ? ",\n" : "").append(in).append(JSON.writeValueAsString(e.getKey()));
        sb.append(": ").append(pyJson(e.getValue(), in));
      }
      return sb.append("\n").append(indent).append("}").toString();
    }
    if (v instanceof List<?> list) {
      if (list.isEmpty()) {
        return "[]";
      }
      StringBuilder sb = new StringBuilder("[\n");
      for (int i = 0; i < list.size(); i++) {
        sb.append(i > 0 ? ",\n" : "").append(in).append(pyJson(list.get(i), in));
      }
      return sb.append("\n").append(indent).append("]").toString();
    }
    return JSON.writeValueAsString(v);
  }

  /**
   * A call as ChatGLM3 emits it: {@code name}, a newline, and a Python block calling {@code
   * tool_call} with the arguments as keyword arguments; arguments that are not a JSON object with
   * identifier keys are written as JSON after the name (GLM-4's form, which the parser also reads).
   */
  static String chatGlm3Call(ChatTurn.ToolCallSpec call) {
    Object args;
    try {
      args = JSON.readValue(call.arguments().isBlank() ? "{}" : call.arguments(), Object.class);
    } catch (tools.jackson.core.JacksonException e) {
      args = null;
    }
    if (!(args instanceof Map<?, ?> map)
        || !map.keySet().stream().allMatch(k -> k.toString().matches("[A-Za-z_][A-Za-z0-9_]*"))) {
      return call.name() + "\n" + call.arguments();
    }
    StringBuilder sb = new StringBuilder(call.name()).append("\n```python\ntool_call(");
    int i = 0;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      sb.append(i++ > 0 ? ", " : "").append(e.getKey()).append('=').append(py(e.getValue()));
    }
    return sb.append(")\n```").toString();
  }

  /** A JSON value as a Python literal. */
  private static String py(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof Boolean b) {
      return b ? "True" : "False";
    }
    if (v instanceof Map<?, ?> map) {
      StringBuilder sb = new StringBuilder("{");
      int i = 0;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        sb.append(i++ > 0 ? ", " : "").append(py(e.getKey().toString())).append(": ");
        sb.append(py(e.getValue()));
      }
      return sb.append('}').toString();
    }
    if (v instanceof List<?> list) {
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < list.size(); i++) {
        sb.append(i > 0 ? ", " : "").append(py(list.get(i)));
      }
      return sb.append(']').toString();
    }
    return JSON.writeValueAsString(v); // strings (JSON escapes are Python's) and numbers
  }

  private String renderWith(ChatInput input, boolean addGenerationPrompt, boolean mark) {
    List<ChatTurn> messages = input.messages();
    List<Map<String, Object>> list = new ArrayList<>(messages.size() + 1);
    // ChatGLM3's template reads neither tools nor tool_calls: the tools get their system turn and
    // an
    // earlier call (an assistant turn with no content) is written as ChatGLM3 wrote it
    boolean chatGlm3Calls = isChatGlm3(source) && !source.contains("tool");
    if (!input.tools().isEmpty() && chatGlm3Calls) {
      list.add(chatGlm3ToolsTurn(input.tools(), mark));
    }
    for (int i = 0; i < messages.size(); i++) {
      ChatTurn turn = messages.get(i);
      if (turn == null || turn.role() == null || turn.role().isBlank()) {
        throw new TemplateException("messages[" + i + "]: role is missing", null);
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("role", roleFor(turn.role()));
      String content = turn.content();
      if (content.isEmpty() && !turn.toolCalls().isEmpty() && chatGlm3Calls) {
        content = chatGlm3Call(turn.toolCalls().getFirst());
      }
      m.put("content", data(content, mark));
      if (!turn.name().isEmpty()) {
        m.put("name", data(turn.name(), mark));
      }
      if (!turn.toolCallId().isEmpty()) {
        m.put("tool_call_id", turn.toolCallId());
      }
      if (!turn.reasoningContent().isEmpty()) {
        m.put("reasoning_content", data(turn.reasoningContent(), mark));
      }
      if (!turn.toolCalls().isEmpty()) {
        List<Map<String, Object>> calls = new ArrayList<>();
        for (ChatTurn.ToolCallSpec c : turn.toolCalls()) {
          Map<String, Object> function = new LinkedHashMap<>();
          function.put("name", c.name());
          function.put("arguments", arguments(c.arguments(), mark));
          Map<String, Object> call = new LinkedHashMap<>();
          call.put("id", c.id());
          call.put("type", "function");
          call.put("function", function);
          calls.add(call);
        }
        m.put("tool_calls", calls);
      }
      list.add(m);
    }
    Map<String, Object> context = new HashMap<>(globals);
    context.put("messages", list);
    context.put("add_generation_prompt", addGenerationPrompt);
    if (!input.tools().isEmpty()) {
      List<Map<String, Object>> tools = new ArrayList<>();
      for (ToolSpec t : input.tools()) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", t.name());
        function.put("description", data(t.description(), mark));
        function.put(
            "parameters", markLeaves(parseJson(t.parametersJson(), "tools." + t.name()), mark));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        tools.add(tool);
      }
      context.put("tools", tools);
    }
    if (input.enableThinking() != null) {
      context.put("enable_thinking", input.enableThinking());
    }
    RenderResult result;
    try {
      result = jinjava.renderForResult(renderSource, context);
    } catch (RuntimeException e) {
      throw new TemplateException("chat template failed: " + describe(e), e);
    }
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new TemplateException(
            "chat template failed: " + describe(error), error.getException());
      }
    }
    return result.getOutput();
  }

  private static final tools.jackson.databind.json.JsonMapper JSON =
      tools.jackson.databind.json.JsonMapper.builder().build();

  private static Object parseJson(String json, String what) {
    try {
      return JSON.readValue(json, Object.class);
    } catch (tools.jackson.core.JacksonException e) {
      throw new TemplateException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** Arguments as the template expects them: an object when they parse as one, else the text. */
  private static Object arguments(String text, boolean mark) {
    try {
      Object parsed = JSON.readValue(text, Object.class);
      if (parsed instanceof Map<?, ?>) {
        return markLeaves(parsed, mark);
      }
    } catch (tools.jackson.core.JacksonException e) {
      // not JSON: the text as it is
    }
    return data(text, mark);
  }

  private static Object markLeaves(Object value, boolean mark) {
    if (value instanceof String s) {
      return data(s, mark);
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), markLeaves(v, mark)));
      return out;
    }
    if (value instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object v : l) {
        out.add(markLeaves(v, mark));
      }
      return out;
    }
    return value;
  }

  /** User data, without marker chars, wrapped in markers when marking. */
  private static String data(String text, boolean mark) {
    String clean =
        text.indexOf(DATA_BEGIN) < 0 && text.indexOf(DATA_END) < 0
            ? text
            : text.replace(DATA_BEGIN, '\uFFFD').replace(DATA_END, '\uFFFD');
    return mark && !clean.isEmpty() ? DATA_BEGIN + clean + DATA_END : clean;
  }

  private String roleFor(String role) {
    if (toolRoleName != null && (role.equals("tool") || role.equals("observation"))) {
      return toolRoleName;
    }
    return role;
  }

  private void checkSyntax() {
    // parse only (no rendering): unclosed or unknown tags are reported here, at load
    JinjavaInterpreter interpreter = jinjava.newInterpreter();
    try {
      interpreter.parse(renderSource);
    } catch (RuntimeException e) {
      throw new TemplateException("chat template does not parse: " + describe(e), e);
    }
    for (TemplateError error : interpreter.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL
          || error.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR) {
        throw new TemplateException(
            "chat template does not parse: " + describe(error), error.getException());
      }
    }
  }

  private static String describe(TemplateError error) {
    String raised = raisedMessage(error.getException());
    String message = raised != null ? raised : error.getMessage();
    return message + (error.getLineno() > 0 ? " (line " + error.getLineno() + ")" : "");
  }

  private static String describe(Throwable e) {
    String raised = raisedMessage(e);
    return raised != null ? raised : String.valueOf(e.getMessage());
  }

  private static String raisedMessage(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RaisedException r) {
        return r.getMessage();
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }

  /** {@code <|{{ message['role'] }}|>} and its spellings: the role's name is the tag's name. */
  private static final java.util.regex.Pattern ROLE_AS_TAG =
      java.util.regex.Pattern.compile(
          "<\\|\\{\\{-?\\s*message(?:\\[['\"]role['\"]\\]|\\.role)\\s*-?\\}\\}\\|>");

  private static boolean mentionsRole(String source, String role) {
    return source.contains("'" + role + "'") || source.contains("\"" + role + "\"");
  }

  /** One engine for all templates (building one takes seconds; rendering is thread-safe). */
  private static final class Engine {
    static final Jinjava INSTANCE = newEngine();
  }

  private static Jinjava newEngine() {
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            .withKeepTrailingNewline(true) // handled on the source, as Jinja does
            .withNestedInterpretationEnabled(false)
            .withFailOnUnknownTokens(false)
            .withMaxOutputSize(MAX_OUTPUT_CHARS)
            .withLegacyOverrides(
                LegacyOverrides.newBuilder()
                    .withUseNaturalOperatorPrecedence(true)
                    .withParseWhitespaceControlStrictly(true)
                    .withUseTrimmingForNotesAndExpressions(true)
                    .withKeepNullableLoopValues(true)
                    .withUsePyishObjectMapper(true)
                    .build())
            .build();
    Jinjava engine = new Jinjava(config);
    engine
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", JinjaChatTemplate.class, "raiseException", Object.class));
    return engine;
  }

  /** Jinja global {@code raise_exception(message)}: fails the render with that message. */
  public static Object raiseException(Object message) {
    throw new RaisedException(String.valueOf(message));
  }

  /** What {@code raise_exception} throws; its message is the template author's. */
  static final class RaisedException extends RuntimeException {
    RaisedException(String message) {
      super(message, null, false, false);
    }
  }
}
