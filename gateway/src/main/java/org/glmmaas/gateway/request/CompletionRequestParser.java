package org.glmmaas.gateway.request;

import java.util.ArrayList;
import java.util.List;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.FillInMiddle;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.SamplingParams;
import org.glmmaas.proto.inference.v1.TokenIds;
import tools.jackson.databind.JsonNode;

/**
 * OpenAI's legacy /v1/completions body: prompt as a string, an array of strings, token ids or an
 * array of token-id arrays; {@code suffix} makes it fill-in-the-middle; {@code echo}; {@code
 * logprobs} as a count of alternatives. Every field is honoured or refused (see {@link ApiFields}).
 */
public final class CompletionRequestParser {

  /** OpenAI's default max_tokens for completions. */
  static final int DEFAULT_MAX_TOKENS = 16;

  /** Most choices one call generates, all prompts together (prompts × n). */
  static final int MAX_CHOICES = SamplingParser.MAX_N;

  private final int maxTokensLimit;

  public CompletionRequestParser(int maxTokensLimit) {
    this.maxTokensLimit = maxTokensLimit;
  }

  public CompletionRequest parse(byte[] body) {
    return parse(Params.readObject(body));
  }

  public CompletionRequest parse(JsonNode root) {
    ApiFields.check(ApiFields.Endpoint.COMPLETIONS, Api.OPENAI, root, "", "");
    String model = Params.requiredString(root, "model", "model");
    List<Object> prompts = prompts(root);
    int n = SamplingParser.n(root);
    if ((long) n * prompts.size() > MAX_CHOICES) {
      throw GlmException.invalid(
          "n × prompts may be at most " + MAX_CHOICES + ", got " + n * prompts.size(), "n");
    }
    Integer bestOf = Params.integer(root, "best_of", "best_of", 1, MAX_CHOICES);
    if (bestOf != null && bestOf != n && !(bestOf == 1 && n == 1)) {
      throw GlmException.invalid(
          bestOf < n
              ? "'best_of' must be at least n (" + n + ")"
              : "'best_of' greater than n is not supported: every generated choice is returned;"
                  + " set n to "
                  + bestOf
                  + " instead",
          "best_of");
    }
    String suffix = Params.optionalString(root, "suffix", "suffix");
    boolean echo = Params.bool(root, "echo", "echo", false);
    if (suffix != null && echo) {
      throw GlmException.invalid("'echo' cannot be combined with 'suffix'", "echo");
    }
    Integer logprobs = Params.integer(root, "logprobs", "logprobs", 0, 5);
    SamplingParams.Builder s = SamplingParser.parse(root, Api.OPENAI, model, maxTokensLimit);
    if (!s.hasMaxTokens()) {
      s.setMaxTokens(Math.min(DEFAULT_MAX_TOKENS, maxTokensLimit));
    }
    if (logprobs != null) {
      s.setLogprobs(true).setTopLogprobs(logprobs);
    }
    List<GenerateRequest> out = new ArrayList<>(prompts.size());
    long estimate = 0;
    for (int i = 0; i < prompts.size(); i++) {
      GenerateRequest.Builder g =
          GenerateRequest.newBuilder().setModel(model).setSampling(s).setN(n).setEcho(echo);
      Object p = prompts.get(i);
      if (p instanceof String text) {
        if (suffix != null) {
          g.setFim(FillInMiddle.newBuilder().setPrefix(text).setSuffix(suffix));
          estimate += ChatRequest.utf8(text) + ChatRequest.utf8(suffix) + ChatRequest.PER_PROMPT;
        } else {
          g.setText(text);
          estimate += ChatRequest.utf8(text) + ChatRequest.PER_PROMPT;
        }
      } else {
        if (suffix != null) {
          throw GlmException.invalid("'suffix' needs the prompt as text, not token ids", "suffix");
        }
        TokenIds ids = (TokenIds) p;
        g.setTokenIds(ids);
        estimate += ids.getIdsCount();
      }
      out.add(g.build());
    }
    JsonNode so = Params.optionalObject(root, "stream_options", "stream_options");
    boolean includeUsage = false;
    if (so != null) {
      ApiFields.check(
          ApiFields.Endpoint.COMPLETIONS, Api.OPENAI, so, "stream_options", "stream_options");
      includeUsage = Params.bool(so, "include_usage", "stream_options.include_usage", false);
    }
    return new CompletionRequest(
        model,
        Params.bool(root, "stream", "stream", false),
        Params.optionalId(root, "request_id", "request_id", 128),
        Params.optionalId(root, "user", "user", 128),
        out,
        includeUsage,
        logprobs,
        (int) Math.min(Integer.MAX_VALUE, estimate));
  }

  /** Each prompt as a String or a TokenIds. */
  private static List<Object> prompts(JsonNode root) {
    JsonNode p = Params.get(root, "prompt");
    if (p == null) {
      throw GlmException.invalid("'prompt' is required", "prompt");
    }
    if (p.isString()) {
      return List.of(p.stringValue());
    }
    String shape =
        "'prompt' must be a string, an array of strings, an array of token ids or an array of"
            + " token-id arrays";
    if (!p.isArray() || p.isEmpty()) {
      throw GlmException.invalid(shape + (p.isArray() ? "; got an empty array" : ""), "prompt");
    }
    if (p.get(0).isIntegralNumber()) {
      return List.of(ids(p, "prompt"));
    }
    List<Object> out = new ArrayList<>(p.size());
    for (int i = 0; i < p.size(); i++) {
      JsonNode e = p.get(i);
      String at = "prompt[" + i + "]";
      if (e.isString()) {
        out.add(e.stringValue());
      } else if (e.isArray() && !e.isEmpty()) {
        out.add(ids(e, at));
      } else {
        throw GlmException.invalid(shape + "; '" + at + "' is " + Params.kind(e), at);
      }
    }
    if (out.size() > MAX_CHOICES) {
      throw GlmException.invalid(
          "'prompt' may hold at most " + MAX_CHOICES + " prompts, got " + out.size(), "prompt");
    }
    return out;
  }

  private static TokenIds ids(JsonNode arr, String at) {
    TokenIds.Builder b = TokenIds.newBuilder();
    for (int j = 0; j < arr.size(); j++) {
      JsonNode id = arr.get(j);
      if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
        throw GlmException.invalid(
            "'" + at + "[" + j + "]' must be a token id (an integer >= 0), got " + Params.kind(id),
            at + "[" + j + "]");
      }
      b.addIds(id.intValue());
    }
    return b.build();
  }
}
