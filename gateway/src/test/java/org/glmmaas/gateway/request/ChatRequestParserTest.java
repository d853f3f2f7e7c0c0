package org.glmmaas.gateway.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.ResponseFormat;
import org.glmmaas.proto.inference.v1.ToolChoice;
import org.junit.jupiter.api.Test;

class ChatRequestParserTest {

  final ChatRequestParser parser = new ChatRequestParser(8192);

  ChatRequest parse(String json, Api api) {
    return parser.parse(json.getBytes(StandardCharsets.UTF_8), api);
  }

  ChatRequest openAi(String json) {
    return parse(json, Api.OPENAI);
  }

  GlmError.InvalidRequest error(String json, Api api) {
    try {
      parse(json, api);
    } catch (GlmException e) {
      return (GlmError.InvalidRequest) e.error();
    }
    throw new AssertionError("accepted: " + json);
  }

  static final String TOOL =
      "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"d\","
          + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
          + "\"required\":[\"city\"]},\"strict\":true}}";

  @Test
  void everyOpenAiFieldReachesTheWorkerRequest() {
    ChatRequest r =
        openAi(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"s\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
                + "\"text\":\"b\"}],\"name\":\"bob\"},{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":"
                + "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},{\"role\":\"tool\","
                + "\"content\":\"sunny\",\"tool_call_id\":\"c1\"}],\"tools\":["
                + TOOL
                + "],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}},"
                + "\"stream\":true,\"temperature\":0.2,\"top_p\":0.9,\"top_k\":40,\"min_p\":0.05,"
                + "\"repetition_penalty\":1.1,\"presence_penalty\":0.5,\"frequency_penalty\":-0.5,"
                + "\"max_completion_tokens\":100,\"stop\":\"END\",\"seed\":7,\"n\":3,\"logprobs\":true,"
                + "\"top_logprobs\":2,\"user\":\"u\",\"stream_options\":{\"include_usage\":true},"
                + "\"parallel_tool_calls\":false,\"response_format\":{\"type\":\"text\"},"
                + "\"service_tier\":\"auto\",\"store\":false,\"modalities\":[\"text\"],"
                + "\"prompt_cache_key\":\"k1\",\"metadata\":{\"a\":\"b\"}}");
    GenerateRequest g = r.prompt();
    var msgs = g.getChat().getMessagesList();
    assertThat(msgs).hasSize(4);
    assertThat(msgs.get(0).getRole()).isEqualTo("system");
    assertThat(msgs.get(1).getContent()).isEqualTo("ab");
    assertThat(msgs.get(1).getName()).isEqualTo("bob");
    assertThat(msgs.get(2).getToolCalls(0).getName()).isEqualTo("get_weather");
    assertThat(msgs.get(2).getToolCalls(0).getArguments()).isEqualTo("{\"city\":\"Paris\"}");
    assertThat(msgs.get(3).getToolCallId()).isEqualTo("c1");
    var tool = g.getChat().getTools(0);
    assertThat(tool.getName()).isEqualTo("get_weather");
    assertThat(tool.getStrict()).isTrue();
    assertThat(tool.getParametersJson()).contains("\"required\":[\"city\"]");
    assertThat(g.getToolChoice().getMode()).isEqualTo(ToolChoice.Mode.FUNCTION);
    assertThat(g.getToolChoice().getFunctionName()).isEqualTo("get_weather");
    var s = g.getSampling();
    assertThat(s.getTemperature()).isEqualTo(0.2f);
    assertThat(s.getTopP()).isEqualTo(0.9f);
    assertThat(s.getTopK()).isEqualTo(40);
    assertThat(s.getMinP()).isEqualTo(0.05f);
    assertThat(s.getRepetitionPenalty()).isEqualTo(1.1f);
    assertThat(s.getPresencePenalty()).isEqualTo(0.5f);
    assertThat(s.getFrequencyPenalty()).isEqualTo(-0.5f);
    assertThat(s.getMaxTokens()).isEqualTo(100);
    assertThat(s.getStopList()).containsExactly("END");
    assertThat(s.getSeed()).isEqualTo(7L);
    assertThat(s.getLogprobs()).isTrue();
    assertThat(s.getTopLogprobs()).isEqualTo(2);
    assertThat(g.getN()).isEqualTo(3);
    assertThat(g.getResponseFormat().getType()).isEqualTo(ResponseFormat.Type.TEXT);
    assertThat(r.n()).isEqualTo(3);
    assertThat(r.stream()).isTrue();
    assertThat(r.userId()).isEqualTo("u");
    assertThat(r.options().includeUsage()).isTrue();
    assertThat(r.options().parallelToolCalls()).isFalse();
    assertThat(r.options().serviceTier()).isEqualTo("default");
    assertThat(r.affinityKey()).isEqualTo("k1");
    // OpenAI's defaults stay the worker's (1.0/1.0) when absent
    assertThat(
            openAi("{\"model\":\"glm-4.5\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
                .prompt()
                .getSampling()
                .hasTemperature())
        .isFalse();
  }

  @Test
  void unknownFieldsAreRefusedNamingThemInBothDialects() {
    String body =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"whatever\":1}";
    GlmError.InvalidRequest o = error(body, Api.OPENAI);
    assertThat(o.param()).isEqualTo("whatever");
    assertThat(o.message()).isEqualTo("Unrecognized request argument supplied: whatever");
    GlmError.InvalidRequest b = error(body, Api.BIGMODEL);
    assertThat(b.param()).isEqualTo("whatever");
    assertThat(b.bigModelCode()).isEqualTo("1210");
    // nested too, with the full path
    GlmError.InvalidRequest n =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"mood\":\"ok\"}]}",
            Api.OPENAI);
    assertThat(n.param()).isEqualTo("messages[0].mood");
    // a field of one dialect is unknown to the other
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"user_id\":\"u\"}",
                    Api.OPENAI)
                .param())
        .isEqualTo("user_id");
  }

  @Test
  void documentedButUnsupportedFieldsAreRefusedWithTheReason() {
    GlmError.InvalidRequest lb =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"logit_bias\":{\"50256\":-100}}",
            Api.OPENAI);
    assertThat(lb.param()).isEqualTo("logit_bias");
    assertThat(lb.message()).startsWith("'logit_bias' is not supported: ");
    GlmError.InvalidRequest store =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"store\":true}",
            Api.OPENAI);
    assertThat(store.param()).isEqualTo("store");
    GlmError.InvalidRequest retrieval =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":"
                + "[{\"type\":\"retrieval\",\"retrieval\":{\"knowledge_id\":\"k\"}}]}",
            Api.BIGMODEL);
    // the retrieval tool is taken out before parsing where knowledge bases are deployed
    // (knowledge/RetrievalTool); a parser that still sees it says what it needs
    assertThat(retrieval.param()).isEqualTo("tools[0].type");
    assertThat(retrieval.message()).contains("knowledge bases are enabled");
    GlmError.InvalidRequest typeOnly =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":"
                + "[{\"type\":\"web_search\"}]}",
            Api.BIGMODEL);
    assertThat(typeOnly.param()).isEqualTo("tools[0].type");
    assertThat(typeOnly.message()).contains("web search");
    GlmError.InvalidRequest image =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"http://x\"}}]}]}",
            Api.OPENAI);
    assertThat(image.param()).isEqualTo("messages[0].content[0].type");
    GlmError.InvalidRequest contexts =
        error(
            "{\"model\":\"codegeex-4\",\"extra\":{\"target\":{\"code_prefix\":\"a\",\"code_suffix\":"
                + "\"b\"},\"contexts\":[{\"path\":\"p\",\"code\":\"c\"}]}}",
            Api.BIGMODEL);
    assertThat(contexts.param()).isEqualTo("extra.contexts");
  }

  @Test
  void toolChoiceIsChecked() {
    String base = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]";
    assertThat(error(base + ",\"tool_choice\":\"required\"}", Api.OPENAI).param())
        .isEqualTo("tool_choice");
    assertThat(
            error(
                    base
                        + ",\"tools\":["
                        + TOOL
                        + "],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}",
                    Api.BIGMODEL)
                .param())
        .isEqualTo("tool_choice.function.name");
    // no tools and auto: no tool choice at all
    assertThat(openAi(base + ",\"tool_choice\":\"auto\"}").prompt().hasToolChoice()).isFalse();
    // allowed_tools narrows the tools offered
    String second = TOOL.replace("get_weather", "get_time");
    ChatRequest r =
        openAi(
            base
                + ",\"tools\":["
                + TOOL
                + ","
                + second
                + "],\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":"
                + "\"required\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}]}}}");
    assertThat(r.prompt().getChat().getToolsList())
        .extracting(t -> t.getName())
        .containsExactly("get_time");
    assertThat(r.prompt().getToolChoice().getMode()).isEqualTo(ToolChoice.Mode.REQUIRED);
    // tools alone: auto
    assertThat(openAi(base + ",\"tools\":[" + TOOL + "]}").prompt().getToolChoice().getMode())
        .isEqualTo(ToolChoice.Mode.AUTO);
    assertThat(error(base + ",\"tools\":[" + TOOL + "," + TOOL + "]}", Api.OPENAI).param())
        .isEqualTo("tools[1].function.name");
  }

  @Test
  void responseFormatJsonSchemaCarriesTheSchema() {
    ChatRequest r =
        parse(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\","
                + "\"schema\":{\"type\":\"object\"},\"strict\":true}}}",
            Api.BIGMODEL);
    var rf = r.prompt().getResponseFormat();
    assertThat(rf.getType()).isEqualTo(ResponseFormat.Type.JSON_SCHEMA);
    assertThat(rf.getName()).isEqualTo("p");
    assertThat(rf.getSchemaJson()).isEqualTo("{\"type\":\"object\"}");
    assertThat(rf.getStrict()).isTrue();
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\"}}}",
                    Api.OPENAI)
                .param())
        .isEqualTo("response_format.json_schema.schema");
  }

  @Test
  void bigModelDefaultsApplyPerModelFamily() {
    String body = "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    var s45 = parse(body.formatted("glm-4.5-air"), Api.BIGMODEL).prompt().getSampling();
    assertThat(s45.getTemperature()).isEqualTo(0.6f);
    assertThat(s45.getTopP()).isEqualTo(0.95f);
    var demo = parse(body.formatted("glm-demo"), Api.BIGMODEL).prompt().getSampling();
    assertThat(demo.getTemperature()).isEqualTo(0.95f);
    assertThat(demo.getTopP()).isEqualTo(0.7f);
    var given =
        parse(
                "{\"model\":\"glm-4.6\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                    + "\"temperature\":0.1,\"do_sample\":false}",
                Api.BIGMODEL)
            .prompt()
            .getSampling();
    assertThat(given.getTemperature()).isEqualTo(0.1f);
    assertThat(given.getTopP()).isEqualTo(0.95f);
    assertThat(given.getDoSample()).isFalse();
  }

  @Test
  void thinkingAndClearThinking() {
    String msgs =
        "\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":"
            + "\"b\",\"reasoning_content\":\"old\"},{\"role\":\"user\",\"content\":\"c\"},{\"role\":"
            + "\"assistant\",\"content\":\"\",\"reasoning_content\":\"now\",\"tool_calls\":[{\"id\":"
            + "\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
            + "{\"role\":\"tool\",\"content\":\"r\",\"tool_call_id\":\"c1\"}]";
    ChatRequest cleared =
        parse(
            "{\"model\":\"glm-4.5\"," + msgs + ",\"thinking\":{\"type\":\"enabled\"}}",
            Api.BIGMODEL);
    assertThat(cleared.prompt().getChat().getEnableThinking()).isTrue();
    assertThat(cleared.messages().get(1).getReasoningContent()).isEmpty();
    assertThat(cleared.messages().get(3).getReasoningContent()).isEqualTo("now");
    ChatRequest kept =
        parse(
            "{\"model\":\"glm-4.5\","
                + msgs
                + ",\"thinking\":{\"type\":\"disabled\",\"clear_thinking\":false}}",
            Api.BIGMODEL);
    assertThat(kept.prompt().getChat().getEnableThinking()).isFalse();
    assertThat(kept.messages().get(1).getReasoningContent()).isEqualTo("old");
    assertThat(
            parse("{\"model\":\"glm-4.5\"," + msgs + "}", Api.BIGMODEL)
                .prompt()
                .getChat()
                .hasEnableThinking())
        .isFalse();
    assertThat(
            error("{\"model\":\"m\"," + msgs + ",\"thinking\":{\"type\":\"maybe\"}}", Api.BIGMODEL)
                .param())
        .isEqualTo("thinking.type");
  }

  @Test
  void codeGeeXTargetBecomesFillInTheMiddle() {
    ChatRequest r =
        parse(
            "{\"model\":\"codegeex-4\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"}],"
                + "\"extra\":{\"target\":{\"path\":\"a.py\",\"language\":\"python\",\"code_prefix\":"
                + "\"def f(\",\"code_suffix\":\"\\n\"}}}",
            Api.BIGMODEL);
    assertThat(r.prompt().hasFim()).isTrue();
    assertThat(r.prompt().getFim().getPrefix()).isEqualTo("def f(");
    assertThat(r.prompt().getFim().getSuffix()).isEqualTo("\n");
    assertThat(r.prompt().getFim().getLanguage()).isEqualTo("python");
    assertThat(r.prompt().getFim().getPath()).isEqualTo("a.py");
    ChatRequest alias =
        parse(
            "{\"model\":\"codegeex-4\",\"extra\":{\"target\":{\"code_language\":\"go\",\"code_prefix\":"
                + "\"x\",\"code_suffix\":\"\"}}}",
            Api.BIGMODEL);
    assertThat(alias.prompt().getFim().getLanguage()).isEqualTo("go");
    // not on /v1
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"extra\":{\"target\":{}}}",
                    Api.OPENAI)
                .param())
        .isEqualTo("extra");
  }

  @Test
  void messagesAreChecked() {
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"r\"}]}",
                    Api.OPENAI)
                .param())
        .isEqualTo("messages[0].tool_call_id");
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"function\",\"content\":\"r\","
                        + "\"name\":\"f\"}]}",
                    Api.OPENAI)
                .param())
        .isEqualTo("messages[0].role");
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\","
                        + "\"tool_calls\":[]}]}",
                    Api.OPENAI)
                .param())
        .isEqualTo("messages[0].tool_calls");
  }

  @Test
  void wrongTypesNameTheParameterAndWhatWasExpected() {
    GlmError.InvalidRequest e =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"x\"}],\"temperature\":\"hot\"}",
            Api.BIGMODEL);
    assertThat(e.param()).isEqualTo("temperature");
    assertThat(e.message()).isEqualTo("'temperature' must be a number, got a string");
    assertThat(e.bigModelCode()).isEqualTo("1210");

    GlmError.InvalidRequest m =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"wizard\"," + "\"content\":\"x\"}]}",
            Api.BIGMODEL);
    assertThat(m.param()).isEqualTo("messages[0].role");
    assertThat(m.bigModelCode()).isEqualTo("1214");

    assertThat(error("{\"model\":\"m\",\"messages\":[]}", Api.OPENAI).message())
        .isEqualTo("'messages' must contain at least one message");
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"max_tokens\":100000}",
                    Api.OPENAI)
                .message())
        .isEqualTo("'max_tokens' must be between 1 and 8192, got 100000");
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":17}",
                    Api.OPENAI)
                .param())
        .isEqualTo("n");
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"top_logprobs\":2}",
                    Api.OPENAI)
                .param())
        .isEqualTo("top_logprobs");
  }

  @Test
  void brokenJsonSaysWhere() {
    assertThatThrownBy(() -> parse("{\"model\": \"m\", ", Api.OPENAI))
        .isInstanceOf(GlmException.class)
        .hasMessageStartingWith("request body is not valid JSON")
        .hasMessageContaining("line 1");
    byte[] badUtf8 = {'{', '"', 'm', '"', ':', '"', (byte) 0xc3, (byte) 0x28, '"', '}'};
    assertThatThrownBy(() -> parser.parse(badUtf8, Api.OPENAI))
        .isInstanceOf(GlmException.class)
        .hasMessageStartingWith("request body is not valid JSON");
  }
}
