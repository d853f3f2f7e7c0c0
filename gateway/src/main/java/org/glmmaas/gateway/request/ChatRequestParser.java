package org.glmmaas.gateway.request;

import java.util.ArrayList;
import java.util.List;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.FillInMiddle;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.ResponseFormat;
import org.glmmaas.proto.inference.v1.ToolChoice;
import org.glmmaas.proto.inference.v1.ToolDefinition;
import tools.jackson.databind.JsonNode;

/**
 * Turns a chat request body of either dialect into a {@link ChatRequest} or a precise 400: which
 * parameter, what was expected. Every field is honoured or refused (see {@link ApiFields}); JSON
 * null counts as absent.
 */
public final class ChatRequestParser {

  private static final int MAX_ID_LENGTH = 128;

  private final int maxTokensLimit;

  public ChatRequestParser(int maxTokensLimit) {
    this.maxTokensLimit = maxTokensLimit;
  }

  public ChatRequest parse(byte[] body, Api api) {
    return parse(Params.readObject(body), api);
  }

  public ChatRequest parse(JsonNode root, Api api) {
    ApiFields.check(ApiFields.Endpoint.CHAT, api, root, "", "");
    String model = Params.requiredString(root, "model", "model");
    FillInMiddle fim = api == Api.BIGMODEL ? CodeGeeX.target(root) : null;
    List<ChatMessage> messages = MessagesParser.parse(root, api, fim == null);
    List<ToolDefinition> tools = new ArrayList<>(ToolsParser.tools(root, api));
    ToolChoice choice = ToolsParser.choice(root, api, tools);
    ResponseFormat format = ToolsParser.responseFormat(root, api);
    if (fim != null && (!tools.isEmpty() || format != null)) {
      throw GlmException.invalid(
          "'extra.target' (code completion) cannot be combined with "
              + (tools.isEmpty() ? "'response_format'" : "'tools'"),
          tools.isEmpty() ? "response_format" : "tools");
    }
    var sampling = SamplingParser.parse(root, api, model, maxTokensLimit);
    boolean logprobs = Params.bool(root, "logprobs", "logprobs", false);
    sampling.setLogprobs(logprobs).setTopLogprobs(SamplingParser.topLogprobs(root, logprobs));
    GenerateRequest.Builder g =
        GenerateRequest.newBuilder()
            .setModel(model)
            .setSampling(sampling)
            .setN(SamplingParser.n(root));
    if (fim != null) {
      g.setFim(fim);
    } else {
      ChatPrompt.Builder chat = ChatPrompt.newBuilder().addAllTools(tools);
      Boolean thinking = thinking(root, api);
      if (thinking != null) {
        chat.setEnableThinking(thinking);
      }
      boolean clear = clearThinking(root, api);
      chat.addAllMessages(clear ? MessagesParser.clearThinking(messages) : messages);
      g.setChat(chat);
    }
    if (choice != null) {
      g.setToolChoice(choice);
    }
    if (format != null) {
      g.setResponseFormat(format);
    }
    Boolean parallel = Params.optionalBool(root, "parallel_tool_calls", "parallel_tool_calls");
    if (parallel != null && !tools.isEmpty()) {
      g.setParallelToolCalls(parallel);
    }
    boolean stream = Params.bool(root, "stream", "stream", false);
    GenerateRequest prompt = g.build();
    return new ChatRequest(
        model,
        stream,
        Params.optionalId(root, "request_id", "request_id", MAX_ID_LENGTH),
        userId(root, api),
        prompt,
        new ChatRequest.Options(
            includeUsage(root, api),
            Params.bool(root, "tool_stream", "tool_stream", false),
            Params.bool(root, "parallel_tool_calls", "parallel_tool_calls", true),
            api == Api.OPENAI ? openAiOnly(root) : bigModelOnly(root)),
        api == Api.OPENAI ? cacheKey(root) : null,
        ChatRequest.estimate(prompt));
  }

  /** thinking.type: true (enabled), false (disabled), null (absent: the template's default). */
  private static Boolean thinking(JsonNode root, Api api) {
    JsonNode t = Params.optionalObject(root, "thinking", "thinking");
    if (t == null) {
      return null;
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, api, t, "thinking", "thinking");
    String type = Params.optionalString(t, "type", "thinking.type");
    if (type == null) {
      return null;
    }
    return switch (type) {
      case "enabled" -> true;
      case "disabled" -> false;
      default ->
          throw GlmException.invalid(
              "'thinking.type' must be \"enabled\" or \"disabled\", got '"
                  + Params.abbreviate(type)
                  + "'",
              "thinking.type");
    };
  }

  private static boolean clearThinking(JsonNode root, Api api) {
    JsonNode t = Params.get(root, "thinking");
    return t == null || Params.bool(t, "clear_thinking", "thinking.clear_thinking", true);
  }

  private static boolean includeUsage(JsonNode root, Api api) {
    JsonNode so = Params.optionalObject(root, "stream_options", "stream_options");
    if (so == null) {
      return false;
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, api, so, "stream_options", "stream_options");
    return Params.bool(so, "include_usage", "stream_options.include_usage", false);
  }

  private static String userId(JsonNode root, Api api) {
    if (api == Api.BIGMODEL) {
      return Params.optionalId(root, "user_id", "user_id", MAX_ID_LENGTH);
    }
    String safety = Params.optionalId(root, "safety_identifier", "safety_identifier", 64);
    String user = Params.optionalId(root, "user", "user", MAX_ID_LENGTH);
    return safety != null ? safety : user;
  }

  private static String cacheKey(JsonNode root) {
    String key = Params.optionalString(root, "prompt_cache_key", "prompt_cache_key");
    if (key != null && key.length() > 1024) {
      throw GlmException.invalid(
          "'prompt_cache_key' may be at most 1024 characters long", "prompt_cache_key");
    }
    return key == null || key.isEmpty() ? null : key;
  }

  /**
   * OpenAI fields that take only the values this deployment can honour. Returns the service tier to
   * echo, or null.
   */
  private static String openAiOnly(JsonNode root) {
    JsonNode mod = Params.optionalArray(root, "modalities", "modalities");
    if (mod != null) {
      for (int i = 0; i < mod.size(); i++) {
        JsonNode m = mod.get(i);
        if (!m.isString() || !"text".equals(m.stringValue())) {
          throw GlmException.invalid(
              "'modalities' may only contain \"text\": GLM text models produce no audio",
              "modalities");
        }
      }
    }
    if (Params.bool(root, "store", "store", false)) {
      throw GlmException.invalid(
          "'store' true is not supported: this deployment stores no completions", "store");
    }
    String retention =
        Params.optionalString(root, "prompt_cache_retention", "prompt_cache_retention");
    if (retention != null && !"in-memory".equals(retention)) {
      throw GlmException.invalid(
          "'prompt_cache_retention' may only be \"in-memory\": cached prefixes live in the"
              + " workers' KV cache memory",
          "prompt_cache_retention");
    }
    String tier = Params.optionalString(root, "service_tier", "service_tier");
    if (tier == null) {
      return null;
    }
    if (!"auto".equals(tier) && !"default".equals(tier)) {
      throw GlmException.invalid(
          "'service_tier' may be \"auto\" or \"default\": this deployment has one tier, got '"
              + Params.abbreviate(tier)
              + "'",
          "service_tier");
    }
    return "default";
  }

  /** BigModel fields that take only the values this deployment can honour. */
  private static String bigModelOnly(JsonNode root) {
    JsonNode swc = Params.optionalObject(root, "sensitive_word_check", "sensitive_word_check");
    if (swc != null) {
      ApiFields.check(
          ApiFields.Endpoint.CHAT,
          Api.BIGMODEL,
          swc,
          "sensitive_word_check",
          "sensitive_word_check");
      String type = Params.optionalString(swc, "type", "sensitive_word_check.type");
      if (type != null && !"ALL".equals(type)) {
        throw GlmException.invalid(
            "'sensitive_word_check.type' must be \"ALL\"", "sensitive_word_check.type");
      }
      String status = Params.optionalString(swc, "status", "sensitive_word_check.status");
      if (!"DISABLE".equals(status)) {
        throw GlmException.invalid(
            "'sensitive_word_check.status' must be \"DISABLE\": this deployment has no content"
                + " moderation to enable",
            "sensitive_word_check.status");
      }
    }
    if (Params.bool(root, "watermark_enabled", "watermark_enabled", false)) {
      throw GlmException.invalid(
          "'watermark_enabled' true is not supported: generated text carries no watermark",
          "watermark_enabled");
    }
    return null;
  }

  /** The messages of a chat, for the tokenizer endpoints (same rules as chat). */
  public static ChatPrompt chatPrompt(JsonNode root, Api api) {
    List<ChatMessage> messages = MessagesParser.parse(root, api, true);
    List<ToolDefinition> tools = ToolsParser.tools(root, api);
    return ChatPrompt.newBuilder()
        .addAllMessages(MessagesParser.clearThinking(messages))
        .addAllTools(tools)
        .build();
  }
}
