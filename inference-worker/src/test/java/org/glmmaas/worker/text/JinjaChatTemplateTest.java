package org.glmmaas.worker.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

class JinjaChatTemplateTest {

  static Stream<Arguments> chatPrompts() {
    List<Arguments> cases = new ArrayList<>();
    for (Path file : ReferenceFiles.goldenFiles("*.prompts-*.json")) {
      JsonNode root = ReferenceFiles.json(file);
      for (JsonNode p : root.get("prompts")) {
        if (p.get("kind").asString().equals("chat")) {
          cases.add(
              Arguments.of(
                  Named.of(file.getFileName() + " " + p.get("id").asString(), p),
                  root.get("model_file").asString()));
        }
      }
    }
    if (cases.isEmpty()) {
      cases.add(Arguments.of(Named.of("no reference files", null), ""));
    }
    return cases.stream();
  }

  static List<ChatTurn> turns(JsonNode messages) {
    List<ChatTurn> turns = new ArrayList<>();
    for (JsonNode m : messages) {
      turns.add(new ChatTurn(m.get("role").asString(), m.get("content").asString()));
    }
    return turns;
  }

  @ParameterizedTest
  @MethodSource("chatPrompts")
  void rendersTheModelsTemplateLikeTheReference(JsonNode p, String model) {
    ReferenceFiles.assumeAvailable();
    TextModel text = ReferenceFiles.textModel(model);

    String rendered = text.chatTemplate().render(turns(p.get("messages")), true);

    assertThat(rendered).isEqualTo(p.get("rendered_text").asString());
    assertThat(text.tokenizer().encode(rendered, true))
        .containsExactly(ReferenceFiles.ints(p.get("prompt_ids")));
  }

  @ParameterizedTest
  @MethodSource("chatPrompts")
  void fallbackRendersTheSameAsTheReferenceTemplate(JsonNode p, String model) {
    ReferenceFiles.assumeAvailable();
    assertThat(JinjaChatTemplate.glm4Fallback().render(turns(p.get("messages")), true))
        .isEqualTo(p.get("rendered_text").asString());
  }

  /**
   * ChatGLM3-6B's template (from its Hugging Face tokenizer config): the role's name is the tag's
   * name.
   */
  static final String CHATGLM3 =
      "{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>\n"
          + " {{ message['content'] }}{% else %}<|{{ message['role'] }}|>\n"
          + " {{ message['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt"
          + " %}<|assistant|>{% endif %}";

  @Test
  void aTemplateThatWritesTheRoleIntoATagGetsToolResultsAsObservationTurns() {
    JinjaChatTemplate t = new JinjaChatTemplate(CHATGLM3, "", "");
    String out =
        t.render(
            List.of(
                new ChatTurn("user", "weather?"),
                new ChatTurn("assistant", "get_weather\n{}"),
                new ChatTurn("tool", "{\"temp\": 20}")),
            true);
    assertThat(out)
        .isEqualTo(
            "[gMASK]sop<|user|>\n weather?<|assistant|>\n get_weather\n{}<|observation|>\n"
                + " {\"temp\": 20}<|assistant|>");
  }

  @Test
  void chatGlm3GetsItsToolsSystemTurnAndEarlierCallsInItsOwnForm() {
    JinjaChatTemplate t = new JinjaChatTemplate(CHATGLM3, "", "");
    ChatInput input =
        new ChatInput(
            List.of(
                new ChatTurn("user", "weather in Oslo?"),
                new ChatTurn(
                    "assistant",
                    "",
                    "",
                    "",
                    List.of(
                        new ChatTurn.ToolCallSpec(
                            "call_1", "get_weather", "{\"city\":\"Oslo\",\"hourly\":true}")),
                    ""),
                new ChatTurn("tool", "{\"temp\": 20}", "", "call_1", List.of(), "")),
            List.of(
                new ToolSpec(
                    "get_weather",
                    "Weather <|user|> of a city",
                    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}")),
            null);
    RenderedChat out = t.render(input, true);
    // ChatGLM3's tokenizer: the prompt sentence, then json.dumps(tools, indent=4); the call as its
    // model writes it; the result as an <|observation|> turn; then the model's turn
    assertThat(out.text())
        .isEqualTo(
            "[gMASK]sop<|system|>\n Answer the following questions as best as you can. You have"
                + " access to the following tools:\n[\n    {\n        \"name\": \"get_weather\",\n"
                + "        \"description\": \"Weather <|user|> of a city\",\n"
                + "        \"parameters\": {\n            \"type\": \"object\",\n"
                + "            \"properties\": {\n                \"city\": {\n"
                + "                    \"type\": \"string\"\n                }\n"
                + "            }\n        }\n    }\n]<|user|>\n weather in Oslo?<|assistant|>\n"
                + " get_weather\n```python\ntool_call(city=\"Oslo\", hourly=True)\n```<|observation|>\n"
                + " {\"temp\": 20}<|assistant|>");
    // the tool description is user data: its "<|user|>" is not markup
    int at = out.text().indexOf("<|user|> of a city");
    assertThat(out.literal().get(at)).isTrue();
    assertThat(out.literal().get(out.text().indexOf("<|user|>\n weather"))).isFalse();
    // and the parser reads the rendered call back
    String body = out.text().substring(out.text().indexOf("get_weather\n```") + 12);
    body = body.substring(0, body.indexOf("<|observation|>"));
    assertThat(org.glmmaas.worker.chat.ChatGlm3ToolCallParser.arguments(body))
        .isEqualTo("{\"city\":\"Oslo\",\"hourly\":true}");
  }

  @Test
  void fallbackRendersEveryRoleAndToolAsObservation() {
    String out =
        JinjaChatTemplate.glm4Fallback()
            .render(
                List.of(
                    new ChatTurn("system", "S"),
                    new ChatTurn("user", "U"),
                    new ChatTurn("assistant", "A"),
                    new ChatTurn("tool", "T"),
                    new ChatTurn("observation", "O")),
                false);
    assertThat(out)
        .isEqualTo(
            "[gMASK]<sop><|system|>\nS<|user|>\nU<|assistant|>\nA<|observation|>\nT<|observation|>\nO");
  }

  @Test
  void generationPromptOnlyWhenAsked() {
    List<ChatTurn> m = List.of(new ChatTurn("user", "hi"));
    assertThat(JinjaChatTemplate.glm4Fallback().render(m, true)).endsWith("<|assistant|>\n");
    assertThat(JinjaChatTemplate.glm4Fallback().render(m, false))
        .isEqualTo("[gMASK]<sop><|user|>\nhi");
  }

  @Test
  void contentIsDataNotTemplateCode() {
    String out =
        JinjaChatTemplate.glm4Fallback()
            .render(
                List.of(new ChatTurn("user", "{{ 7 * 7 }} {% if true %}x{% endif %} <b>&")), false);
    assertThat(out).isEqualTo("[gMASK]<sop><|user|>\n{{ 7 * 7 }} {% if true %}x{% endif %} <b>&");
  }

  @Test
  void unknownRoleInFallbackIsAClearError() {
    assertThatThrownBy(
            () ->
                JinjaChatTemplate.glm4Fallback().render(List.of(new ChatTurn("wizard", "x")), true))
        .isInstanceOf(TemplateException.class)
        .hasMessageContaining("unknown role: wizard");
  }

  @Test
  void raiseExceptionInAUserTemplateGivesItsMessage() {
    JinjaChatTemplate t =
        new JinjaChatTemplate(
            "{% if messages[0]['role'] != 'system' %}{{ raise_exception('first message must be system') }}{% endif %}ok",
            "", "");
    assertThatThrownBy(() -> t.render(List.of(new ChatTurn("user", "x")), true))
        .isInstanceOf(TemplateException.class)
        .hasMessageContaining("first message must be system");
    assertThat(t.render(List.of(new ChatTurn("system", "x")), true)).isEqualTo("ok");
  }

  @Test
  void templateThatDoesNotParseIsRejectedAtLoad() {
    assertThatThrownBy(
            () -> new JinjaChatTemplate("{% for m in messages %}{{ m['content'] }}", "", ""))
        .isInstanceOf(TemplateException.class)
        .hasMessageContaining("does not parse");
    assertThatThrownBy(() -> new JinjaChatTemplate("{% endfor %}", "", ""))
        .isInstanceOf(TemplateException.class)
        .hasMessageContaining("Missing start tag");
  }

  @Test
  void brokenExpressionIsAClearErrorWhenRendered() {
    JinjaChatTemplate t = new JinjaChatTemplate("{{ messages[0]['content' }}", "", "");
    assertThatThrownBy(() -> t.render(List.of(new ChatTurn("user", "x")), true))
        .isInstanceOf(TemplateException.class)
        .hasMessageStartingWith("chat template failed: ")
        .hasMessageContaining("expected ']'");
  }

  @Test
  void missingRoleIsAClearError() {
    assertThatThrownBy(
            () -> JinjaChatTemplate.glm4Fallback().render(List.of(new ChatTurn(null, "x")), true))
        .isInstanceOf(TemplateException.class)
        .hasMessageContaining("messages[0]: role is missing");
  }

  @Test
  void hfStyleTemplateWithWhitespaceControlAndLoopVariables() {
    String src =
        "{%- for message in messages -%}\n"
            + "  {%- if loop.first and message.role != 'system' -%}[SYS]default[/SYS]\n{% endif -%}\n"
            + "  <{{ message.role }}>{{ message.content | trim }}</{{ message.role }}>\n"
            + "{%- endfor -%}\n"
            + "{%- if add_generation_prompt %}<assistant>{% endif -%}\n";
    JinjaChatTemplate t = new JinjaChatTemplate(src, "<s>", "</s>");
    assertThat(
            t.render(
                List.of(new ChatTurn("user", "  hi  "), new ChatTurn("assistant", "yo")), true))
        .isEqualTo("[SYS]default[/SYS]\n<user>hi</user><assistant>yo</assistant><assistant>");
  }

  @Test
  void textModelFromMetadataUsesTheFilesTemplateOrTheFallback() {
    ReferenceFiles.assumeAvailable();
    var metadata = ReferenceFiles.metadata("tiny-chatglm-f32.gguf");
    TextModel model = TextModel.fromMetadata(metadata);
    assertThat(((JinjaChatTemplate) model.chatTemplate()).source())
        .isEqualTo(metadata.string("tokenizer.chat_template").orElseThrow());
    var values = new java.util.HashMap<>(metadata.values());
    values.remove("tokenizer.chat_template");
    TextModel noTemplate = TextModel.fromMetadata(new org.glmmaas.worker.gguf.GgufMetadata(values));
    assertThat(((JinjaChatTemplate) noTemplate.chatTemplate()).source())
        .isEqualTo(JinjaChatTemplate.GLM4_FALLBACK);
  }
}
