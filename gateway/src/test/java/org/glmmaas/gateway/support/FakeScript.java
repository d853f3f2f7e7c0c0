package org.glmmaas.gateway.support;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.ChoiceFinish;
import org.glmmaas.proto.inference.v1.Delta;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.ResponseFormat;
import org.glmmaas.proto.inference.v1.TokenLogprob;
import org.glmmaas.proto.inference.v1.ToolCallDelta;
import org.glmmaas.proto.inference.v1.ToolChoice;
import org.glmmaas.proto.inference.v1.ToolDefinition;
import org.glmmaas.proto.inference.v1.TopLogprob;
import org.glmmaas.proto.inference.v1.Usage;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the fake worker answers to a Generate request, as the real one would shape it: n choices
 * (deltas tagged with their choice index), tool calls in fragments when a call is forced ({@code
 * tool_choice} required or a named function, or "[call]" in the last message with tools), JSON
 * output for a response format (a minimal instance of the schema, as a grammar would force),
 * reasoning before the text when thinking is enabled, logprobs with the asked number of
 * alternatives, the prompt first with echo. Deterministic: the same request gives the same script.
 */
final class FakeScript {

  static final JsonMapper JSON = JsonMapper.builder().build();

  private FakeScript() {}

  /** What to send: the deltas, then a Finished with this reason, usage and per-choice finishes. */
  record Script(List<Delta> deltas, FinishReason reason, Usage usage, List<ChoiceFinish> choices) {}

  static Script script(GenerateRequest req, List<String> tokens, FinishReason reason) {
    int n = Math.max(1, req.getN());
    List<Delta.Builder> deltas = new ArrayList<>();
    int[] completion = new int[n];
    int[] reasoningTokens = new int[n];
    FinishReason[] finish = new FinishReason[n];
    for (int c = 0; c < n; c++) {
      finish[c] = reason;
      if (req.getEcho()) {
        deltas.add(Delta.newBuilder().setChoiceIndex(c).setText(promptText(req)));
      }
      if (req.hasChat() && req.getChat().hasEnableThinking() && req.getChat().getEnableThinking()) {
        for (String r : List.of("Let me", " think.")) {
          deltas.add(Delta.newBuilder().setChoiceIndex(c).setReasoningText(r));
          reasoningTokens[c]++;
          completion[c]++;
        }
      }
      ToolDefinition call = forcedCall(req);
      if (call != null) {
        String args = JSON.writeValueAsString(instance(schema(call.getParametersJson())));
        String id = "call_fake" + c + "x" + Integer.toHexString(args.hashCode() & 0xffffff);
        boolean first = true;
        for (String piece : pieces(args, 4)) {
          ToolCallDelta.Builder f = ToolCallDelta.newBuilder().setIndex(0).setArguments(piece);
          if (first) {
            f.setId(id).setName(call.getName());
            first = false;
          }
          deltas.add(Delta.newBuilder().setChoiceIndex(c).addToolCalls(f));
          completion[c]++;
        }
        if (lastMessage(req).contains("[two-calls]")) {
          deltas.add(
              Delta.newBuilder()
                  .setChoiceIndex(c)
                  .addToolCalls(
                      ToolCallDelta.newBuilder()
                          .setIndex(1)
                          .setId(id + "b")
                          .setName(call.getName())
                          .setArguments(args)));
          completion[c]++;
        }
        finish[c] = FinishReason.TOOL_CALLS;
        continue;
      }
      List<String> text = tokens;
      ResponseFormat rf = req.getResponseFormat();
      if (rf.getType() == ResponseFormat.Type.JSON_SCHEMA) {
        text = pieces(JSON.writeValueAsString(instance(schema(rf.getSchemaJson()))), 5);
      } else if (rf.getType() == ResponseFormat.Type.JSON_OBJECT) {
        text = List.of("{\"ok\"", ": true}");
      } else if (req.hasFim()) {
        text = List.of("middle", "()");
      }
      for (String t : text) {
        deltas.add(Delta.newBuilder().setChoiceIndex(c).setText(t));
        completion[c]++;
      }
    }
    if (req.getSampling().getLogprobs()) {
      for (Delta.Builder d : deltas) {
        String tok = d.getText().isEmpty() ? d.getReasoningText() : d.getText();
        if (!tok.isEmpty()) {
          d.addLogprobs(logprob(tok, req.getSampling().getTopLogprobs()));
        }
      }
    }
    List<Delta> out = new ArrayList<>(deltas.size());
    deltas.forEach(d -> out.add(d.build()));
    int prompt = promptTokens(req);
    int total = 0;
    int totalReasoning = 0;
    List<ChoiceFinish> finishes = new ArrayList<>();
    for (int c = 0; c < n; c++) {
      total += completion[c];
      totalReasoning += reasoningTokens[c];
      finishes.add(
          ChoiceFinish.newBuilder()
              .setIndex(c)
              .setFinishReason(finish[c])
              .setCompletionTokens(completion[c])
              .setReasoningTokens(reasoningTokens[c])
              .build());
    }
    return new Script(
        out,
        finish[0],
        Usage.newBuilder()
            .setPromptTokens(prompt)
            .setCachedTokens(4)
            .setCompletionTokens(total)
            .setTotalTokens(prompt + total)
            .setReasoningTokens(totalReasoning)
            .build(),
        finishes);
  }

  /** The call the request forces, or null. */
  static ToolDefinition forcedCall(GenerateRequest req) {
    if (!req.hasChat() || req.getChat().getToolsCount() == 0) {
      return null;
    }
    ToolChoice tc = req.getToolChoice();
    List<ToolDefinition> tools = req.getChat().getToolsList();
    if (tc.getMode() == ToolChoice.Mode.FUNCTION) {
      for (ToolDefinition t : tools) {
        if (t.getName().equals(tc.getFunctionName())) {
          return t;
        }
      }
    }
    if (tc.getMode() == ToolChoice.Mode.REQUIRED
        || (tc.getMode() != ToolChoice.Mode.NONE && lastMessage(req).contains("[call]"))) {
      return tools.get(0);
    }
    return null;
  }

  static String lastMessage(GenerateRequest req) {
    if (req.hasChat()) {
      List<ChatMessage> m = req.getChat().getMessagesList();
      return m.isEmpty() ? "" : m.get(m.size() - 1).getContent();
    }
    if (req.hasText()) {
      return req.getText();
    }
    if (req.hasFim()) {
      return req.getFim().getPrefix();
    }
    return "";
  }

  /**
   * Prompt tokens, the same for Generate and Tokenize: 12 for a chat of one or two messages, 3 more
   * per further message, 5 more per tool; 1 per 4 characters of a text prompt.
   */
  static int promptTokens(GenerateRequest req) {
    if (req.hasChat()) {
      return chatTokens(req.getChat());
    }
    if (req.hasTokenIds()) {
      return req.getTokenIds().getIdsCount();
    }
    if (req.hasFim()) {
      return 6 + (req.getFim().getPrefix().length() + req.getFim().getSuffix().length()) / 4;
    }
    return 1 + req.getText().length() / 4;
  }

  static int chatTokens(ChatPrompt chat) {
    return 12 + 3 * Math.max(0, chat.getMessagesCount() - 2) + 5 * chat.getToolsCount();
  }

  static String promptText(GenerateRequest req) {
    return req.hasText() ? req.getText() : req.getTokenIds().getIdsList().toString();
  }

  private static TokenLogprob logprob(String tok, int top) {
    TokenLogprob.Builder b =
        TokenLogprob.newBuilder()
            .setToken(tok)
            .setTokenId(Math.abs(tok.hashCode()) % 151552)
            .setLogprob(-0.25f)
            .setBytes(ByteString.copyFrom(tok, StandardCharsets.UTF_8));
    for (int i = 0; i < top; i++) {
      String alt = i == 0 ? tok : tok + "~" + i;
      b.addTopLogprobs(
          TopLogprob.newBuilder()
              .setToken(alt)
              .setTokenId(Math.abs(alt.hashCode()) % 151552)
              .setLogprob(-0.25f - i)
              .setBytes(ByteString.copyFrom(alt, StandardCharsets.UTF_8)));
    }
    return b.build();
  }

  private static List<String> pieces(String s, int size) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < s.length(); i += size) {
      out.add(s.substring(i, Math.min(s.length(), i + size)));
    }
    return out;
  }

  static JsonNode schema(String json) {
    return json == null || json.isEmpty()
        ? JSON.readTree("{\"type\":\"object\"}")
        : JSON.readTree(json);
  }

  /** A minimal value valid against the common JSON Schema keywords, as a grammar would force. */
  static JsonNode instance(JsonNode s) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    if (s.has("const")) {
      return s.get("const");
    }
    if (s.has("enum") && !s.get("enum").isEmpty()) {
      return s.get("enum").get(0);
    }
    if (s.has("anyOf")) {
      return instance(s.get("anyOf").get(0));
    }
    if (s.has("oneOf")) {
      return instance(s.get("oneOf").get(0));
    }
    JsonNode typeNode = s.get("type");
    String type =
        typeNode == null
            ? (s.has("properties") ? "object" : s.has("items") ? "array" : "object")
            : typeNode.isArray() ? typeNode.get(0).asString() : typeNode.asString();
    switch (type) {
      case "string" -> {
        int min = s.has("minLength") ? s.get("minLength").asInt() : 1;
        return f.stringNode("x".repeat(Math.max(1, min)));
      }
      case "integer" -> {
        return f.numberNode(s.has("minimum") ? (long) Math.ceil(s.get("minimum").asDouble()) : 1);
      }
      case "number" -> {
        return f.numberNode(s.has("minimum") ? s.get("minimum").asDouble() : 1.5);
      }
      case "boolean" -> {
        return f.booleanNode(true);
      }
      case "null" -> {
        return f.nullNode();
      }
      case "array" -> {
        var arr = f.arrayNode();
        int min = s.has("minItems") ? s.get("minItems").asInt() : 0;
        for (int i = 0; i < min; i++) {
          arr.add(instance(s.has("items") ? s.get("items") : f.objectNode()));
        }
        return arr;
      }
      default -> {
        ObjectNode o = f.objectNode();
        JsonNode props = s.get("properties");
        JsonNode required = s.get("required");
        if (props != null && required != null) {
          for (JsonNode r : required) {
            JsonNode p = props.get(r.asString());
            o.set(r.asString(), instance(p == null ? f.objectNode() : p));
          }
        }
        return o;
      }
    }
  }

  /**
   * The first schema construct the fake's "grammar" refuses ("not"), with its JSON path, or null.
   */
  static String unsupported(JsonNode s, String path) {
    if (s == null || !(s.isObject() || s.isArray())) {
      return null;
    }
    if (s.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = s.properties().iterator();
      while (it.hasNext()) {
        var e = it.next();
        if (e.getKey().equals("not")) {
          return path + "/not";
        }
        String inner = unsupported(e.getValue(), path + "/" + e.getKey());
        if (inner != null) {
          return inner;
        }
      }
    } else {
      for (int i = 0; i < s.size(); i++) {
        String inner = unsupported(s.get(i), path + "/" + i);
        if (inner != null) {
          return inner;
        }
      }
    }
    return null;
  }
}
