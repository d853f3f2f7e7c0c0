package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.junit.jupiter.api.Test;

class ChatRequestParserTest {

  final ChatRequestParser parser = new ChatRequestParser(8192);

  ChatRequest parse(String json) {
    return parser.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  GlmError.InvalidRequest error(String json) {
    try {
      parse(json);
    } catch (GlmException e) {
      return (GlmError.InvalidRequest) e.error();
    }
    throw new AssertionError("accepted: " + json);
  }

  @Test
  void readsAllParametersAndIgnoresUnknownOnes() {
    ChatRequest r =
        parse(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
                + "\"text\":\"b\"}]},{\"role\":\"assistant\",\"content\":null},{\"role\":\"tool\","
                + "\"content\":\"r\",\"tool_call_id\":\"c1\"}],\"stream\":true,\"temperature\":0.2,"
                + "\"top_p\":0.9,\"max_tokens\":100,\"stop\":\"END\",\"do_sample\":false,\"seed\":7,"
                + "\"request_id\":\"rid\",\"user\":\"u\",\"stream_options\":{\"include_usage\":true},"
                + "\"tools\":[],\"whatever\":{\"x\":1}}");
    assertThat(r.model()).isEqualTo("m");
    assertThat(r.messages()).hasSize(4);
    assertThat(r.messages().get(1).content()).isEqualTo("ab");
    assertThat(r.messages().get(3).toolCallId()).isEqualTo("c1");
    assertThat(r.stream()).isTrue();
    assertThat(r.maxTokens()).isEqualTo(100);
    assertThat(r.stop()).containsExactly("END");
    assertThat(r.doSample()).isFalse();
    assertThat(r.seed()).isEqualTo(7L);
    assertThat(r.userId()).isEqualTo("u");
    assertThat(r.includeUsage()).isTrue();
  }

  @Test
  void wrongTypesNameTheParameterAndWhatWasExpected() {
    GlmError.InvalidRequest e =
        error(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"x\"}],\"temperature\":\"hot\"}");
    assertThat(e.param()).isEqualTo("temperature");
    assertThat(e.message()).isEqualTo("'temperature' must be a number, got a string");
    assertThat(e.bigModelCode()).isEqualTo("1210");

    GlmError.InvalidRequest m =
        error("{\"model\":\"m\",\"messages\":[{\"role\":\"wizard\"," + "\"content\":\"x\"}]}");
    assertThat(m.param()).isEqualTo("messages[0].role");
    assertThat(m.bigModelCode()).isEqualTo("1214");

    assertThat(error("{\"model\":\"m\",\"messages\":[]}").message())
        .isEqualTo("'messages' must contain at least one message");
    assertThat(
            error(
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"max_tokens\":100000}")
                .message())
        .isEqualTo("'max_tokens' must be between 1 and 8192, got 100000");
  }

  @Test
  void brokenJsonSaysWhere() {
    assertThatThrownBy(() -> parse("{\"model\": \"m\", "))
        .isInstanceOf(GlmException.class)
        .hasMessageStartingWith("request body is not valid JSON")
        .hasMessageContaining("line 1");
    byte[] badUtf8 = {'{', '"', 'm', '"', ':', '"', (byte) 0xc3, (byte) 0x28, '"', '}'};
    assertThatThrownBy(() -> parser.parse(badUtf8))
        .isInstanceOf(GlmException.class)
        .hasMessageStartingWith("request body is not valid JSON");
  }
}
