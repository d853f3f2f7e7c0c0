package org.glmmaas.worker.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** Each family's markup, fed in every possible split into two chunks and char by char. */
class ToolCallParsersTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** What a client would assemble: content, reasoning, and each call's name and arguments. */
  record Assembled(String text, String reasoning, List<String> names, List<String> arguments) {}

  static Assembled assemble(List<OutputEvent> events) {
    StringBuilder text = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    Map<Integer, String> names = new LinkedHashMap<>();
    Map<Integer, StringBuilder> args = new LinkedHashMap<>();
    for (OutputEvent e : events) {
      switch (e) {
        case OutputEvent.Text t -> text.append(t.text());
        case OutputEvent.Reasoning r -> reasoning.append(r.text());
        case OutputEvent.CallStart c -> {
          assertThat(c.id()).matches("call_[A-Za-z0-9]{24}");
          assertThat(names.put(c.index(), c.name())).as("one start per call").isNull();
          args.put(c.index(), new StringBuilder());
        }
        case OutputEvent.CallArguments a -> {
          assertThat(args).as("arguments after their call's start").containsKey(a.index());
          args.get(a.index()).append(a.arguments());
        }
      }
    }
    return new Assembled(
        text.toString(),
        reasoning.toString(),
        List.copyOf(names.values()),
        args.values().stream().map(StringBuilder::toString).toList());
  }

  static List<List<String>> splits(String s) {
    List<List<String>> out = new ArrayList<>();
    out.add(List.of(s));
    for (int i = 1; i < s.length(); i++) {
      out.add(List.of(s.substring(0, i), s.substring(i)));
    }
    List<String> chars = new ArrayList<>();
    for (char c : s.toCharArray()) {
      chars.add(String.valueOf(c));
    }
    out.add(chars);
    return out;
  }

  static Assembled run(ChoiceOutput out, List<String> chunks) {
    List<OutputEvent> events = new ArrayList<>();
    for (String c : chunks) {
      events.addAll(out.push(c, 1));
    }
    events.addAll(out.finish());
    return assemble(events);
  }

  static Object json(String s) {
    return JSON.readValue(s, Object.class);
  }

  @Test
  void glm4ChatCallsAreTheFirstLineNamingAToolThenJsonArguments() {
    String output = "get_weather\n{\"city\": \"Oslo\", \"days\": 3}";
    for (List<String> chunks : splits(output)) {
      Assembled a =
          run(
              new ChoiceOutput(
                  null,
                  new Glm4ChatToolCallParser().newSession(Set.of("get_weather", "get_time"), true)),
              chunks);
      assertThat(a.names()).as("%s", chunks).containsExactly("get_weather");
      assertThat(json(a.arguments().getFirst())).isEqualTo(json("{\"city\":\"Oslo\",\"days\":3}"));
      assertThat(a.text()).isEmpty();
    }
  }

  @Test
  void glm4ChatTextThatMerelyStartsLikeAToolNameStaysText() {
    for (String output : List.of("get_weather is a tool\nyes", "get", "Hello\nget_weather\n{}")) {
      for (List<String> chunks : splits(output)) {
        Assembled a =
            run(
                new ChoiceOutput(
                    null, new Glm4ChatToolCallParser().newSession(Set.of("get_weather"), true)),
                chunks);
        assertThat(a.names()).as("%s", chunks).isEmpty();
        assertThat(a.text()).isEqualTo(output);
      }
    }
  }

  @Test
  void glm45CallsInXmlArgumentFormBecomeJsonWithTypedValues() {
    String output =
        "Let me check.<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Oslo</arg_value>\n"
            + "<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>\n"
            + "<tool_call>get_time\n<arg_key>zone</arg_key><arg_value>\"CET\"</arg_value></tool_call>";
    for (List<String> chunks : splits(output)) {
      Assembled a =
          run(
              new ChoiceOutput(
                  null, new Glm45ToolCallParser().newSession(Set.of("get_weather"), true)),
              chunks);
      assertThat(a.text()).as("%s", chunks).isEqualTo("Let me check.");
      assertThat(a.names()).containsExactly("get_weather", "get_time");
      assertThat(json(a.arguments().get(0))).isEqualTo(json("{\"city\":\"Oslo\",\"days\":3}"));
      assertThat(json(a.arguments().get(1))).isEqualTo(json("{\"zone\":\"CET\"}"));
    }
  }

  @Test
  void glm45AcceptsJsonArgumentsAndWholeObjectsAndDropsLaterCallsWhenNotParallel() {
    String output =
        "<tool_call>f\n{\"a\": [1, 2]}</tool_call><tool_call>{\"name\": \"g\", \"arguments\":"
            + " {\"b\": true}}</tool_call>";
    for (List<String> chunks : splits(output)) {
      Assembled a =
          run(new ChoiceOutput(null, new Glm45ToolCallParser().newSession(Set.of(), true)), chunks);
      assertThat(a.names()).as("%s", chunks).containsExactly("f", "g");
      assertThat(json(a.arguments().get(0))).isEqualTo(json("{\"a\":[1,2]}"));
      assertThat(json(a.arguments().get(1))).isEqualTo(json("{\"b\":true}"));

      Assembled single =
          run(
              new ChoiceOutput(null, new Glm45ToolCallParser().newSession(Set.of(), false)),
              chunks);
      assertThat(single.names()).containsExactly("f");
      assertThat(single.text()).isEmpty();
    }
  }

  @Test
  void reasoningIsSplitFromTheAnswerAndCounted() {
    String output = "<think>Oslo is cold.</think>\n\nTake a coat.";
    for (List<String> chunks : splits(output)) {
      ChoiceOutput out = new ChoiceOutput(new ReasoningSplitter(false), null);
      Assembled a = run(out, chunks);
      assertThat(a.reasoning()).as("%s", chunks).isEqualTo("Oslo is cold.");
      assertThat(a.text()).isEqualTo("Take a coat.");
      assertThat(out.numReasoningTokens()).isPositive().isLessThan(chunks.size() + 1);
    }
    Assembled noThink =
        run(new ChoiceOutput(new ReasoningSplitter(false), null), List.of("Hi <think>"));
    assertThat(noThink.text()).isEqualTo("Hi <think>");
    Assembled inside =
        run(new ChoiceOutput(new ReasoningSplitter(true), null), List.of("hmm</think>ok"));
    assertThat(inside.reasoning()).isEqualTo("hmm");
    assertThat(inside.text()).isEqualTo("ok");
  }

  @Test
  void reasoningThenAToolCall() {
    String output =
        "<think>need weather</think><tool_call>get_weather\n{\"city\": \"Oslo\"}</tool_call>";
    for (List<String> chunks : splits(output)) {
      Assembled a =
          run(
              new ChoiceOutput(
                  new ReasoningSplitter(false),
                  new Glm45ToolCallParser().newSession(Set.of("get_weather"), true)),
              chunks);
      assertThat(a.reasoning()).as("%s", chunks).isEqualTo("need weather");
      assertThat(a.names()).containsExactly("get_weather");
      assertThat(json(a.arguments().getFirst())).isEqualTo(json("{\"city\":\"Oslo\"}"));
      assertThat(a.text()).isEmpty();
    }
  }

  @Test
  void theTemplatePicksTheFamily() {
    assertThat(ToolCallParsers.forTemplate("{{ '<tool_call>' }}").family()).isEqualTo("glm-4.5");
    assertThat(ToolCallParsers.forTemplate("<|assistant|>").family()).isEqualTo("glm-4-chat");
    assertThat(ToolCallParsers.forTemplate("[gMASK]<sop><|assistant|>").family())
        .isEqualTo("glm-4-chat");
    // ChatGLM3-6B's template (reference2 tiny-chatglm3 and the Hugging Face tokenizer config)
    assertThat(
            ToolCallParsers.forTemplate(
                    "{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role']"
                        + " }}|>\n {{ message['content'] }}{% else %}<|{{ message['role'] }}|>\n"
                        + " {{ message['content'] }}{% endif %}{% endfor %}{% if"
                        + " add_generation_prompt %}<|assistant|>{% endif %}")
                .family())
        .isEqualTo("chatglm3");
  }

  /** ChatGLM3's own call, as its model writes it after {@code <|assistant|>}. */
  static final String CHATGLM3_CALL =
      "get_weather\n ```python\ntool_call(city=\"Oslo\", days=3, units='metric', hourly=True,"
          + " at=None, hours=[6, 12.5], where={'lat': -59.9, \"name\": \"\\u00d8st \\\"A\\\"\"},)\n```";

  @Test
  void chatGlm3CallsAreTheNameLineThenAToolCallBlockWhoseKeywordsBecomeJson() {
    for (List<String> chunks : splits(CHATGLM3_CALL)) {
      Assembled a =
          run(
              new ChoiceOutput(
                  null,
                  new ChatGlm3ToolCallParser().newSession(Set.of("get_weather", "get_time"), true)),
              chunks);
      assertThat(a.names()).as("%s", chunks).containsExactly("get_weather");
      assertThat(json(a.arguments().getFirst()))
          .isEqualTo(
              json(
                  "{\"city\":\"Oslo\",\"days\":3,\"units\":\"metric\",\"hourly\":true,\"at\":null,"
                      + "\"hours\":[6,12.5],\"where\":{\"lat\":-59.9,\"name\":\"\u00d8st \\\"A\\\"\"}}"));
      assertThat(a.text()).isEmpty();
    }
  }

  @Test
  void chatGlm3AlsoReadsJsonArgumentsAndACallWithoutArguments() {
    for (String output :
        List.of(
            "get_time\n{\"zone\": \"UTC\"}", "\nget_time\n```python\ntool_call(zone='UTC')\n```")) {
      for (List<String> chunks : splits(output)) {
        Assembled a =
            run(
                new ChoiceOutput(
                    null, new ChatGlm3ToolCallParser().newSession(Set.of("get_time"), false)),
                chunks);
        assertThat(a.names()).as("%s", chunks).containsExactly("get_time");
        assertThat(json(a.arguments().getFirst())).isEqualTo(json("{\"zone\":\"UTC\"}"));
      }
    }
    Assembled bare =
        run(
            new ChoiceOutput(
                null, new ChatGlm3ToolCallParser().newSession(Set.of("get_time"), false)),
            List.of("get_time\n ```python\ntool_call()\n```"));
    assertThat(bare.names()).containsExactly("get_time");
    assertThat(bare.arguments()).containsExactly("{}");
  }

  @Test
  void chatGlm3TextAndBodiesThatAreNotCallsStayTextUnchanged() {
    for (String output :
        List.of(
            "\n The weather in Oslo is fine.",
            "get_weather is what I would call\nnext",
            "get_weather\n ```python\nprint(open('/etc/passwd').read())\n```",
            "get_weather\n ```python\ntool_call(city=os.environ)\n```",
            "get_weather\n ```python\ntool_call(city='Oslo') + 1\n```")) {
      for (List<String> chunks : splits(output)) {
        Assembled a =
            run(
                new ChoiceOutput(
                    null, new ChatGlm3ToolCallParser().newSession(Set.of("get_weather"), true)),
                chunks);
        assertThat(a.names()).as("%s", chunks).isEmpty();
        assertThat(a.text()).isEqualTo(output);
      }
    }
  }
}
