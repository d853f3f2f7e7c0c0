package org.glmmaas.gateway.request;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ToolCall;
import tools.jackson.databind.JsonNode;

/**
 * Chat messages into the worker's ChatMessages: roles, text content (string or text parts),
 * assistant tool calls, tool results with their call ids and assistant reasoning.
 */
final class MessagesParser {

  private static final Set<String> ROLES =
      Set.of("system", "user", "assistant", "tool", "observation");

  private MessagesParser() {}

  /**
   * @param required false when the prompt comes from elsewhere (CodeGeeX extra.target); then an
   *     absent or empty list is fine
   */
  static List<ChatMessage> parse(JsonNode root, Api api, boolean required) {
    JsonNode node = root.get("messages");
    if (node == null || node.isNull()) {
      if (!required) {
        return List.of();
      }
      throw GlmException.invalid("'messages' is required", "messages");
    }
    if (!node.isArray()) {
      throw GlmException.invalid(
          "'messages' must be an array, got " + Params.kind(node), "messages");
    }
    if (node.isEmpty() && required) {
      throw GlmException.invalid("'messages' must contain at least one message", "messages");
    }
    List<ChatMessage> out = new ArrayList<>(node.size());
    for (int i = 0; i < node.size(); i++) {
      out.add(message(node.get(i), "messages[" + i + "]", api));
    }
    return out;
  }

  private static ChatMessage message(JsonNode m, String at, Api api) {
    if (!m.isObject()) {
      throw GlmException.invalid("'" + at + "' must be an object, got " + Params.kind(m), at);
    }
    String role = role(m, at, api);
    ApiFields.check(ApiFields.Endpoint.CHAT, api, m, "messages[]", at);
    ChatMessage.Builder b = ChatMessage.newBuilder().setRole(role);
    boolean assistant = "assistant".equals(role);
    JsonNode calls = Params.optionalArray(m, "tool_calls", at + ".tool_calls");
    if (calls != null && !assistant) {
      throw GlmException.invalid(
          "'" + at + ".tool_calls' is allowed only on assistant messages", at + ".tool_calls");
    }
    if (calls != null) {
      for (int j = 0; j < calls.size(); j++) {
        b.addToolCalls(toolCall(calls.get(j), at + ".tool_calls[" + j + "]", api));
      }
    }
    b.setContent(content(m.get("content"), at, assistant, api));
    String name = Params.optionalString(m, "name", at + ".name");
    if (name != null) {
      b.setName(name);
    }
    String callId = Params.optionalString(m, "tool_call_id", at + ".tool_call_id");
    if ("tool".equals(role) && (callId == null || callId.isEmpty())) {
      throw GlmException.invalid(
          "'" + at + ".tool_call_id' is required on tool messages: the id of the call it answers",
          at + ".tool_call_id");
    }
    if (callId != null) {
      b.setToolCallId(callId);
    }
    String reasoning = Params.optionalString(m, "reasoning_content", at + ".reasoning_content");
    if (reasoning != null) {
      if (!assistant) {
        throw GlmException.invalid(
            "'" + at + ".reasoning_content' is allowed only on assistant messages",
            at + ".reasoning_content");
      }
      b.setReasoningContent(reasoning);
    }
    return b.build();
  }

  private static String role(JsonNode m, String at, Api api) {
    JsonNode r = m.get("role");
    if (r == null || r.isNull()) {
      throw GlmException.invalid("'" + at + ".role' is required", at + ".role");
    }
    if (!r.isString()) {
      throw GlmException.invalid(
          "'" + at + ".role' must be a string, got " + Params.kind(r), at + ".role");
    }
    String role = r.stringValue();
    if (api == Api.OPENAI && "developer".equals(role)) {
      return "system"; // OpenAI's newer name for system instructions
    }
    if (api == Api.OPENAI && "function".equals(role)) {
      throw GlmException.invalid(
          "'"
              + at
              + ".role' 'function' belongs to the deprecated function-calling API; send the result"
              + " as a 'tool' message with its tool_call_id",
          at + ".role");
    }
    if (!ROLES.contains(role)) {
      throw GlmException.invalid(
          "'"
              + at
              + ".role' must be one of "
              + (api == Api.OPENAI ? "developer, " : "")
              + "system, user, assistant, tool, observation; got '"
              + Params.abbreviate(role)
              + "'",
          at + ".role");
    }
    return role;
  }

  private static String content(JsonNode c, String at, boolean assistant, Api api) {
    if (c == null || c.isNull()) {
      if (assistant) {
        return "";
      }
      throw GlmException.invalid("'" + at + ".content' is required", at + ".content");
    }
    if (c.isString()) {
      return c.stringValue();
    }
    if (!c.isArray()) {
      throw GlmException.invalid(
          "'" + at + ".content' must be a string or an array of text parts, got " + Params.kind(c),
          at + ".content");
    }
    StringBuilder sb = new StringBuilder();
    for (int j = 0; j < c.size(); j++) {
      JsonNode part = c.get(j);
      String p = at + ".content[" + j + "]";
      if (!part.isObject()) {
        throw GlmException.invalid("'" + p + "' must be an object, got " + Params.kind(part), p);
      }
      JsonNode type = part.get("type");
      if (type == null || !type.isString() || !"text".equals(type.stringValue())) {
        throw GlmException.invalid(
            "'"
                + p
                + ".type' must be \"text\"; only text content is supported by GLM text models"
                + (type != null && type.isString()
                    ? " (got '" + Params.abbreviate(type.stringValue()) + "')"
                    : ""),
            p + ".type");
      }
      ApiFields.check(ApiFields.Endpoint.CHAT, api, part, "messages[].content[]", p);
      JsonNode text = part.get("text");
      if (text == null || !text.isString()) {
        throw GlmException.invalid("'" + p + ".text' must be a string", p + ".text");
      }
      sb.append(text.stringValue());
    }
    return sb.toString();
  }

  private static ToolCall toolCall(JsonNode c, String at, Api api) {
    if (!c.isObject()) {
      throw GlmException.invalid("'" + at + "' must be an object, got " + Params.kind(c), at);
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, api, c, "messages[].tool_calls[]", at);
    String type = Params.optionalString(c, "type", at + ".type");
    if (type != null && !"function".equals(type)) {
      throw GlmException.invalid(
          "'" + at + ".type' must be \"function\", got '" + Params.abbreviate(type) + "'",
          at + ".type");
    }
    String id = Params.requiredString(c, "id", at + ".id");
    JsonNode f = Params.optionalObject(c, "function", at + ".function");
    if (f == null) {
      throw GlmException.invalid("'" + at + ".function' is required", at + ".function");
    }
    ApiFields.check(
        ApiFields.Endpoint.CHAT, api, f, "messages[].tool_calls[].function", at + ".function");
    String name = Params.requiredString(f, "name", at + ".function.name");
    JsonNode args = Params.get(f, "arguments");
    String arguments;
    if (args == null) {
      arguments = "{}";
    } else if (args.isString()) {
      arguments = args.stringValue();
    } else if (args.isObject()) {
      arguments = Params.json(args); // some clients send the parsed object back
    } else {
      throw GlmException.invalid(
          "'"
              + at
              + ".function.arguments' must be a JSON object as a string, got "
              + Params.kind(args),
          at + ".function.arguments");
    }
    return ToolCall.newBuilder().setId(id).setName(name).setArguments(arguments).build();
  }

  /**
   * BigModel's {@code thinking.clear_thinking} (default true): reasoning of assistant turns before
   * the last user message is dropped; reasoning within the current turn (between tool calls) stays.
   */
  static List<ChatMessage> clearThinking(List<ChatMessage> messages) {
    int lastUser = -1;
    for (int i = 0; i < messages.size(); i++) {
      if ("user".equals(messages.get(i).getRole())) {
        lastUser = i;
      }
    }
    List<ChatMessage> out = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      ChatMessage m = messages.get(i);
      out.add(
          i < lastUser && !m.getReasoningContent().isEmpty()
              ? m.toBuilder().clearReasoningContent().build()
              : m);
    }
    return out;
  }
}
