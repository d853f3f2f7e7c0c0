package org.glmmaas.gateway.request;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.ResponseFormat;
import org.glmmaas.proto.inference.v1.ToolChoice;
import org.glmmaas.proto.inference.v1.ToolDefinition;
import tools.jackson.databind.JsonNode;

/** tools, tool_choice and response_format into the worker's ToolDefinitions and choices. */
final class ToolsParser {

  static final int MAX_TOOLS = 128;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private ToolsParser() {}

  /** The tools offered (empty when none). */
  static List<ToolDefinition> tools(JsonNode root, Api api) {
    JsonNode arr = Params.optionalArray(root, "tools", "tools");
    if (arr == null) {
      return List.of();
    }
    if (arr.size() > MAX_TOOLS) {
      throw GlmException.invalid(
          "'tools' may hold at most " + MAX_TOOLS + " tools, got " + arr.size(), "tools");
    }
    List<ToolDefinition> out = new ArrayList<>(arr.size());
    Set<String> names = new LinkedHashSet<>();
    for (int i = 0; i < arr.size(); i++) {
      String at = "tools[" + i + "]";
      JsonNode t = arr.get(i);
      if (!t.isObject()) {
        throw GlmException.invalid("'" + at + "' must be an object, got " + Params.kind(t), at);
      }
      ApiFields.check(ApiFields.Endpoint.CHAT, api, t, "tools[]", at);
      String type = Params.requiredString(t, "type", at + ".type");
      if (!"function".equals(type)) {
        throw GlmException.invalid(unsupportedType(type, at, api), at + ".type");
      }
      ToolDefinition d = function(t, at, api);
      if (!names.add(d.getName())) {
        throw GlmException.invalid(
            "'" + at + ".function.name' repeats the tool name '" + d.getName() + "'",
            at + ".function.name");
      }
      out.add(d);
    }
    return out;
  }

  private static String unsupportedType(String type, String at, Api api) {
    String why =
        switch (type) {
          case "retrieval" ->
              "the retrieval tool is served on chat completions when knowledge bases are enabled"
                  + " (glm.gateway.knowledge.address)";
          case "web_search" -> "web search is not available on this deployment";
          case "custom" -> "custom (free-form) tools are not supported";
          default ->
              "the only tool type is \"function\""
                  + (api == Api.BIGMODEL ? " (web_search and retrieval are not available)" : "");
        };
    return "'" + at + ".type' '" + Params.abbreviate(type) + "' is not supported: " + why;
  }

  private static ToolDefinition function(JsonNode t, String at, Api api) {
    JsonNode f = Params.optionalObject(t, "function", at + ".function");
    if (f == null) {
      throw GlmException.invalid("'" + at + ".function' is required", at + ".function");
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, api, f, "tools[].function", at + ".function");
    String name = Params.requiredString(f, "name", at + ".function.name");
    if (!NAME.matcher(name).matches()) {
      throw GlmException.invalid(
          "'"
              + at
              + ".function.name' must be 1 to 64 letters, digits, '_' or '-', got '"
              + Params.abbreviate(name)
              + "'",
          at + ".function.name");
    }
    ToolDefinition.Builder b = ToolDefinition.newBuilder().setName(name);
    String description = Params.optionalString(f, "description", at + ".function.description");
    if (description != null) {
      b.setDescription(description);
    }
    JsonNode params = Params.optionalObject(f, "parameters", at + ".function.parameters");
    if (params != null) {
      b.setParametersJson(Params.json(params));
    }
    b.setStrict(Params.bool(f, "strict", at + ".function.strict", false));
    return b.build();
  }

  /**
   * tool_choice: "auto", "none", "required", {"type":"function","function":{"name":...}} or
   * OpenAI's {"type":"allowed_tools",...}. Returns null when there are no tools and the choice
   * needs none. allowed_tools narrows {@code tools} (it is replaced by the allowed subset).
   */
  static ToolChoice choice(JsonNode root, Api api, List<ToolDefinition> tools) {
    JsonNode c = Params.get(root, "tool_choice");
    if (c == null) {
      return tools.isEmpty() ? null : mode(ToolChoice.Mode.AUTO);
    }
    ToolChoice choice;
    if (c.isString()) {
      choice =
          switch (c.stringValue()) {
            case "auto" -> mode(ToolChoice.Mode.AUTO);
            case "none" -> mode(ToolChoice.Mode.NONE);
            case "required" -> mode(ToolChoice.Mode.REQUIRED);
            default ->
                throw GlmException.invalid(
                    "'tool_choice' must be \"auto\", \"none\", \"required\" or an object naming a"
                        + " function, got '"
                        + Params.abbreviate(c.stringValue())
                        + "'",
                    "tool_choice");
          };
    } else if (c.isObject()) {
      choice = named(c, api, tools);
    } else {
      throw GlmException.invalid(
          "'tool_choice' must be a string or an object, got " + Params.kind(c), "tool_choice");
    }
    if (tools.isEmpty()) {
      if (choice.getMode() == ToolChoice.Mode.AUTO || choice.getMode() == ToolChoice.Mode.NONE) {
        return null;
      }
      throw GlmException.invalid(
          "'tool_choice' " + choice.getMode().name().toLowerCase() + " needs 'tools'",
          "tool_choice");
    }
    return choice;
  }

  private static ToolChoice named(JsonNode c, Api api, List<ToolDefinition> tools) {
    ApiFields.check(ApiFields.Endpoint.CHAT, api, c, "tool_choice", "tool_choice");
    String type = Params.requiredString(c, "type", "tool_choice.type");
    if ("allowed_tools".equals(type) && api == Api.OPENAI) {
      return allowed(c, tools);
    }
    if (!"function".equals(type)) {
      throw GlmException.invalid(
          "'tool_choice.type' must be \"function\""
              + (api == Api.OPENAI ? " or \"allowed_tools\"" : "")
              + ", got '"
              + Params.abbreviate(type)
              + "'",
          "tool_choice.type");
    }
    JsonNode f = Params.optionalObject(c, "function", "tool_choice.function");
    if (f == null) {
      throw GlmException.invalid("'tool_choice.function' is required", "tool_choice.function");
    }
    ApiFields.check(
        ApiFields.Endpoint.CHAT, api, f, "tool_choice.function", "tool_choice.function");
    String name = Params.requiredString(f, "name", "tool_choice.function.name");
    checkNamed(name, tools, "tool_choice.function.name");
    return ToolChoice.newBuilder().setMode(ToolChoice.Mode.FUNCTION).setFunctionName(name).build();
  }

  /**
   * OpenAI's allowed_tools: the model may (mode auto) or must (mode required) call one of the
   * listed tools. Honoured by offering only those tools; the narrowed list replaces {@code tools}.
   */
  private static ToolChoice allowed(JsonNode c, List<ToolDefinition> tools) {
    String at = "tool_choice.allowed_tools";
    JsonNode a = Params.optionalObject(c, "allowed_tools", at);
    if (a == null) {
      throw GlmException.invalid("'" + at + "' is required", at);
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, Api.OPENAI, a, at, at);
    String mode = Params.requiredString(a, "mode", at + ".mode");
    if (!"auto".equals(mode) && !"required".equals(mode)) {
      throw GlmException.invalid(
          "'"
              + at
              + ".mode' must be \"auto\" or \"required\", got '"
              + Params.abbreviate(mode)
              + "'",
          at + ".mode");
    }
    JsonNode list = Params.optionalArray(a, "tools", at + ".tools");
    if (list == null || list.isEmpty()) {
      throw GlmException.invalid("'" + at + ".tools' must list at least one tool", at + ".tools");
    }
    Set<String> keep = new LinkedHashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String p = at + ".tools[" + i + "]";
      JsonNode t = list.get(i);
      if (!t.isObject()
          || !"function".equals(Params.optionalString(t, "type", p + ".type"))
          || Params.optionalObject(t, "function", p + ".function") == null) {
        throw GlmException.invalid(
            "'" + p + "' must be {\"type\": \"function\", \"function\": {\"name\": ...}}", p);
      }
      for (String key : t.propertyNames()) {
        if (!key.equals("type") && !key.equals("function")) {
          throw GlmException.invalid(
              "Unrecognized request argument supplied: " + p + "." + Params.abbreviate(key),
              p + "." + key);
        }
      }
      JsonNode f = t.get("function");
      for (String key : f.propertyNames()) {
        if (!key.equals("name")) {
          throw GlmException.invalid(
              "Unrecognized request argument supplied: "
                  + p
                  + ".function."
                  + Params.abbreviate(key),
              p + ".function." + key);
        }
      }
      String name = Params.requiredString(f, "name", p + ".function.name");
      checkNamed(name, tools, p + ".function.name");
      keep.add(name);
    }
    tools.removeIf(t -> !keep.contains(t.getName()));
    return mode("auto".equals(mode) ? ToolChoice.Mode.AUTO : ToolChoice.Mode.REQUIRED);
  }

  private static void checkNamed(String name, List<ToolDefinition> tools, String param) {
    for (ToolDefinition t : tools) {
      if (t.getName().equals(name)) {
        return;
      }
    }
    throw GlmException.invalid(
        "'" + param + "' names '" + Params.abbreviate(name) + "', which is not one of 'tools'",
        param);
  }

  private static ToolChoice mode(ToolChoice.Mode m) {
    return ToolChoice.newBuilder().setMode(m).build();
  }

  /** response_format, or null when absent (free text). */
  static ResponseFormat responseFormat(JsonNode root, Api api) {
    JsonNode rf = Params.optionalObject(root, "response_format", "response_format");
    if (rf == null) {
      return null;
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, api, rf, "response_format", "response_format");
    String type = Params.requiredString(rf, "type", "response_format.type");
    JsonNode js = Params.optionalObject(rf, "json_schema", "response_format.json_schema");
    if (js != null && !"json_schema".equals(type)) {
      throw GlmException.invalid(
          "'response_format.json_schema' goes with type \"json_schema\", not '"
              + Params.abbreviate(type)
              + "'",
          "response_format.json_schema");
    }
    return switch (type) {
      case "text" -> ResponseFormat.newBuilder().setType(ResponseFormat.Type.TEXT).build();
      case "json_object" ->
          ResponseFormat.newBuilder().setType(ResponseFormat.Type.JSON_OBJECT).build();
      case "json_schema" -> jsonSchema(js, api);
      default ->
          throw GlmException.invalid(
              "'response_format.type' must be \"text\", \"json_object\" or \"json_schema\", got '"
                  + Params.abbreviate(type)
                  + "'",
              "response_format.type");
    };
  }

  private static ResponseFormat jsonSchema(JsonNode js, Api api) {
    String at = "response_format.json_schema";
    if (js == null) {
      throw GlmException.invalid("'" + at + "' is required with type \"json_schema\"", at);
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, api, js, at, at);
    String name = Params.requiredString(js, "name", at + ".name");
    if (!NAME.matcher(name).matches()) {
      throw GlmException.invalid(
          "'"
              + at
              + ".name' must be 1 to 64 letters, digits, '_' or '-', got '"
              + Params.abbreviate(name)
              + "'",
          at + ".name");
    }
    JsonNode schema = Params.optionalObject(js, "schema", at + ".schema");
    if (schema == null) {
      throw GlmException.invalid("'" + at + ".schema' is required", at + ".schema");
    }
    return ResponseFormat.newBuilder()
        .setType(ResponseFormat.Type.JSON_SCHEMA)
        .setName(name)
        .setSchemaJson(Params.json(schema))
        .setStrict(Params.bool(js, "strict", at + ".strict", false))
        .build();
  }
}
