package org.glmmaas.gateway.request;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.glmmaas.gateway.error.GlmException;
import tools.jackson.databind.JsonNode;

/**
 * Every request field each dialect documents, and what the gateway does with it: honoured, ignored
 * by design (with the reason), or refused with a 400 that names it. A field that is in neither list
 * is unknown and refused too (see {@link #check}). docs/api.md shows the same table;
 * ApiFieldsDocTest reads that table, compares it with this one and sends each row's example.
 *
 * <p>Paths name nested fields with dots and array elements with {@code []}: {@code
 * tools[].function.name}. Nested objects of messages and tools are looked up under {@link
 * Endpoint#CHAT} from every endpoint that takes them.
 */
public final class ApiFields {

  /** What the gateway does with a field. */
  public enum Status {
    HONOURED,
    /** Accepted and deliberately without effect; the reason says why. */
    IGNORED,
    /** A 400 naming the field whenever it is present and not null. */
    REFUSED
  }

  /** The endpoints whose bodies are checked. */
  public enum Endpoint {
    /** /v1/chat/completions, /api/paas/v4/chat/completions and its async twin. */
    CHAT,
    /** /v1/completions. */
    COMPLETIONS,
    /** /api/paas/v4/tokenizer. */
    TOKENIZER,
    /** vLLM's /tokenize. */
    TOKENIZE,
    /** vLLM's /detokenize. */
    DETOKENIZE,
    /** /v1/embeddings and /api/paas/v4/embeddings. */
    EMBEDDINGS
  }

  /**
   * One row.
   *
   * @param openAi status on the OpenAI dialect, null where the field is not part of it
   * @param bigModel status on the BigModel dialect, null where the field is not part of it
   * @param reason why a field is refused or ignored (shown in the 400), else null
   */
  public record Field(
      Endpoint endpoint, String path, Status openAi, Status bigModel, String reason) {
    public Status status(Api api) {
      return api == Api.OPENAI ? openAi : bigModel;
    }
  }

  private static final Status H = Status.HONOURED;
  private static final Status I = Status.IGNORED;
  private static final Status R = Status.REFUSED;
  private static final Status U = null;

  private static final Map<String, Field> FIELDS = new LinkedHashMap<>();

  private static void row(Endpoint e, String path, Status openAi, Status bigModel) {
    row(e, path, openAi, bigModel, null);
  }

  private static void row(Endpoint e, String path, Status openAi, Status bigModel, String reason) {
    Field f = new Field(e, path, openAi, bigModel, reason);
    if (FIELDS.put(e + " " + path, f) != null) {
      throw new IllegalStateException("duplicate field " + e + " " + path);
    }
  }

  static {
    Endpoint c = Endpoint.CHAT;
    row(c, "model", H, H);
    row(c, "messages", H, H);
    row(c, "messages[].role", H, H);
    row(c, "messages[].content", H, H);
    row(c, "messages[].content[].type", H, H);
    row(c, "messages[].content[].text", H, H);
    row(c, "messages[].name", H, H);
    row(c, "messages[].tool_calls", H, H);
    row(c, "messages[].tool_calls[].id", H, H);
    row(c, "messages[].tool_calls[].type", H, H);
    row(c, "messages[].tool_calls[].index", I, I, "a call's position in the array is its index");
    row(c, "messages[].tool_calls[].function", H, H);
    row(c, "messages[].tool_calls[].function.name", H, H);
    row(c, "messages[].tool_calls[].function.arguments", H, H);
    row(c, "messages[].tool_call_id", H, H);
    row(c, "messages[].reasoning_content", H, H);
    row(
        c,
        "messages[].refusal",
        I,
        U,
        "GLM chat templates have no refusal markup; an earlier refusal is not re-rendered");
    row(c, "messages[].audio", R, U, "audio output is not supported by GLM text models");
    row(
        c,
        "messages[].function_call",
        R,
        U,
        "the deprecated function-calling API is not supported; use tool_calls");
    row(c, "audio", R, U, "audio output is not supported by GLM text models");
    row(c, "frequency_penalty", H, H);
    row(
        c,
        "function_call",
        R,
        U,
        "the deprecated function-calling API is not supported; use tools and tool_choice");
    row(
        c,
        "functions",
        R,
        U,
        "the deprecated function-calling API is not supported; use tools and tool_choice");
    row(c, "logit_bias", R, U, "the samplers take no per-token logit bias");
    row(c, "logprobs", H, H);
    row(c, "top_logprobs", H, H);
    row(c, "max_completion_tokens", H, U);
    row(c, "max_tokens", H, H);
    row(
        c,
        "metadata",
        I,
        U,
        "metadata only labels stored completions, and nothing is stored ('store' is refused)");
    row(c, "modalities", H, U);
    row(c, "n", H, H);
    row(c, "parallel_tool_calls", H, H);
    row(
        c,
        "prediction",
        I,
        U,
        "a predicted output only speeds generation up; the output is the same without it");
    row(c, "presence_penalty", H, H);
    row(c, "prompt_cache_key", H, U);
    row(c, "prompt_cache_retention", H, U);
    row(
        c,
        "reasoning_effort",
        R,
        R,
        "GLM models think or do not; use thinking: {\"type\": \"enabled\"|\"disabled\"}");
    row(c, "response_format", H, H);
    row(c, "response_format.type", H, H);
    row(c, "response_format.json_schema", H, H);
    row(c, "response_format.json_schema.name", H, H);
    row(
        c,
        "response_format.json_schema.description",
        I,
        I,
        "the grammar enforces the schema itself; its description is not rendered into the prompt");
    row(c, "response_format.json_schema.schema", H, H);
    row(c, "response_format.json_schema.strict", H, H);
    row(c, "safety_identifier", H, U);
    row(c, "seed", H, H);
    row(c, "service_tier", H, U);
    row(c, "stop", H, H);
    row(c, "store", H, U);
    row(c, "stream", H, H);
    row(c, "stream_options", H, U);
    row(c, "stream_options.include_usage", H, U);
    row(
        c,
        "stream_options.include_obfuscation",
        I,
        U,
        "no obfuscation padding is sent; chunks carry only their data");
    row(c, "temperature", H, H);
    row(c, "tool_choice", H, H);
    row(c, "tool_choice.type", H, H);
    row(c, "tool_choice.function", H, H);
    row(c, "tool_choice.function.name", H, H);
    row(c, "tool_choice.allowed_tools", H, U);
    row(c, "tool_choice.allowed_tools.mode", H, U);
    row(c, "tool_choice.allowed_tools.tools", H, U);
    row(c, "tool_choice.custom", R, U, "custom (free-form) tools are not supported");
    row(c, "tools", H, H);
    row(c, "tools[].type", H, H);
    row(c, "tools[].function", H, H);
    row(c, "tools[].function.name", H, H);
    row(c, "tools[].function.description", H, H);
    row(c, "tools[].function.parameters", H, H);
    row(c, "tools[].function.strict", H, H);
    row(c, "tools[].custom", R, U, "custom (free-form) tools are not supported");
    row(c, "tools[].web_search", U, R, "web search is not available on this deployment");
    row(c, "tools[].retrieval", H, H);
    row(c, "top_p", H, H);
    row(c, "user", H, U);
    row(
        c,
        "verbosity",
        R,
        U,
        "GLM models have no verbosity control; say how long the answer should be in the prompt");
    row(c, "web_search_options", R, U, "web search is not available on this deployment");
    row(c, "top_k", H, H);
    row(c, "min_p", H, H);
    row(c, "repetition_penalty", H, H);
    row(c, "ignore_eos", H, H);
    row(c, "do_sample", H, H);
    row(c, "thinking", H, H);
    row(c, "thinking.type", H, H);
    row(c, "thinking.clear_thinking", H, H);
    row(c, "request_id", H, H);
    row(c, "user_id", U, H);
    row(c, "tool_stream", U, H);
    row(c, "sensitive_word_check", U, H);
    row(c, "sensitive_word_check.type", U, H);
    row(c, "sensitive_word_check.status", U, H);
    row(
        c,
        "meta",
        U,
        R,
        "role-play settings are for CharacterGLM models, which this deployment does not serve");
    row(c, "extra", U, H);
    row(c, "extra.target", U, H);
    row(c, "extra.target.code_prefix", U, H);
    row(c, "extra.target.code_suffix", U, H);
    row(c, "extra.target.language", U, H);
    row(c, "extra.target.code_language", U, H);
    row(c, "extra.target.path", U, H);
    row(
        c,
        "extra.contexts",
        U,
        R,
        "cross-file context is not supported yet; put the needed code into code_prefix");
    row(c, "watermark_enabled", U, H);

    Endpoint k = Endpoint.COMPLETIONS;
    row(k, "model", H, U);
    row(k, "prompt", H, U);
    row(k, "suffix", H, U);
    row(k, "best_of", H, U);
    row(k, "echo", H, U);
    row(k, "frequency_penalty", H, U);
    row(k, "logit_bias", R, U, "the samplers take no per-token logit bias");
    row(k, "logprobs", H, U);
    row(k, "max_tokens", H, U);
    row(k, "n", H, U);
    row(k, "presence_penalty", H, U);
    row(k, "seed", H, U);
    row(k, "stop", H, U);
    row(k, "stream", H, U);
    row(k, "stream_options", H, U);
    row(k, "stream_options.include_usage", H, U);
    row(
        k,
        "stream_options.include_obfuscation",
        I,
        U,
        "no obfuscation padding is sent; chunks carry only their data");
    row(k, "temperature", H, U);
    row(k, "top_p", H, U);
    row(k, "user", H, U);
    row(k, "top_k", H, U);
    row(k, "min_p", H, U);
    row(k, "repetition_penalty", H, U);
    row(k, "ignore_eos", H, U);
    row(k, "request_id", H, U);

    Endpoint t = Endpoint.TOKENIZER;
    row(t, "model", U, H);
    row(t, "messages", U, H);
    row(t, "tools", U, H);
    row(t, "request_id", U, H);
    row(t, "user_id", U, H);

    Endpoint z = Endpoint.TOKENIZE;
    row(z, "model", H, U);
    row(z, "prompt", H, U);
    row(z, "messages", H, U);
    row(z, "tools", H, U);
    row(z, "add_generation_prompt", H, U);
    row(
        z,
        "add_special_tokens",
        R,
        U,
        "prompts are tokenized exactly as /v1/completions and chat bill them; that is not"
            + " adjustable");
    row(
        z,
        "continue_final_message",
        R,
        U,
        "chat prompts always end with the generation prompt, as chat bills them");
    row(
        z,
        "return_token_strs",
        R,
        U,
        "token strings are not available; /detokenize turns ids back into text");
    row(z, "chat_template", R, U, "only the model's own chat template is used");
    row(z, "chat_template_kwargs", R, U, "only the model's own chat template is used");
    row(z, "mm_processor_kwargs", R, U, "GLM text models take no multimodal input");

    Endpoint d = Endpoint.DETOKENIZE;
    row(d, "model", H, U);
    row(d, "tokens", H, U);

    Endpoint m = Endpoint.EMBEDDINGS;
    row(m, "model", H, H);
    row(m, "input", H, H);
    row(m, "dimensions", H, H);
    row(m, "encoding_format", H, H);
    row(m, "user", H, U);
    row(m, "request_id", U, H);
    row(m, "user_id", U, H);
  }

  private ApiFields() {}

  /** Every row, in table order. */
  public static List<Field> all() {
    return Collections.unmodifiableList(new ArrayList<>(FIELDS.values()));
  }

  /** The row of a path, or null when the endpoint does not know it. */
  public static Field field(Endpoint e, String path) {
    return FIELDS.get(e + " " + path);
  }

  /**
   * Refuses every key of {@code obj} that {@code api} does not know at {@code pattern} on {@code
   * endpoint}, or that it refuses (when not null): a 400 naming the key's full path.
   *
   * @param pattern the object's path pattern ("" for the body, "tools[].function" ...)
   * @param path the object's actual path ("" for the body, "tools[2].function" ...)
   */
  public static void check(Endpoint endpoint, Api api, JsonNode obj, String pattern, String path) {
    for (String key : obj.propertyNames()) {
      String p = Params.at(pattern, key);
      String actual = Params.at(path, key);
      Field f = field(endpoint, p);
      Status s = f == null ? null : f.status(api);
      if (s == null) {
        throw GlmException.invalid(unknown(api, actual), actual);
      }
      if (s == Status.REFUSED && !obj.get(key).isNull()) {
        throw GlmException.invalid("'" + actual + "' is not supported: " + f.reason(), actual);
      }
    }
  }

  private static String unknown(Api api, String name) {
    String shown = Params.abbreviate(name);
    return api == Api.OPENAI
        ? "Unrecognized request argument supplied: " + shown
        : "unknown parameter '" + shown + "': this API takes only the parameters it documents";
  }
}
