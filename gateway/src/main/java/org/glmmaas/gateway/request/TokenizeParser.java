package org.glmmaas.gateway.request;

import java.util.ArrayList;
import java.util.List;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.TokenizeRequest;
import tools.jackson.databind.JsonNode;

/**
 * Bodies of the tokenizer endpoints: BigModel's {@code /api/paas/v4/tokenizer} ({@code model,
 * messages, tools}) and vLLM's {@code /tokenize} ({@code prompt} or {@code messages}) and {@code
 * /detokenize} ({@code tokens}). Chat input follows chat's rules, so the count equals what chat
 * bills; a text prompt is tokenized as /v1/completions tokenizes it.
 */
public final class TokenizeParser {

  /** Most ids one /detokenize call takes. */
  static final int MAX_TOKENS = 1 << 20;

  private TokenizeParser() {}

  public static TokenizeCall bigModel(byte[] body) {
    JsonNode root = Params.readObject(body);
    ApiFields.check(ApiFields.Endpoint.TOKENIZER, Api.BIGMODEL, root, "", "");
    String model = Params.requiredString(root, "model", "model");
    TokenizeRequest t =
        TokenizeRequest.newBuilder()
            .setModel(model)
            .setChat(ChatRequestParser.chatPrompt(root, Api.BIGMODEL))
            .build();
    return new TokenizeCall(
        model,
        Params.optionalId(root, "request_id", "request_id", 128),
        Params.optionalId(root, "user_id", "user_id", 128),
        t,
        List.of(),
        false);
  }

  public static TokenizeCall tokenize(byte[] body) {
    JsonNode root = Params.readObject(body);
    ApiFields.check(ApiFields.Endpoint.TOKENIZE, Api.OPENAI, root, "", "");
    String model = Params.requiredString(root, "model", "model");
    boolean hasPrompt = Params.present(root, "prompt");
    boolean hasMessages = Params.present(root, "messages");
    if (hasPrompt == hasMessages) {
      throw GlmException.invalid(
          "send either 'prompt' (text) or 'messages' (a chat), not "
              + (hasPrompt ? "both" : "neither"),
          hasPrompt ? "messages" : "prompt");
    }
    TokenizeRequest.Builder t = TokenizeRequest.newBuilder().setModel(model);
    if (hasPrompt) {
      if (Params.present(root, "tools")) {
        throw GlmException.invalid("'tools' goes with 'messages', not 'prompt'", "tools");
      }
      // as /v1/completions bills a text prompt: special-token text is parsed
      t.setText(Params.optionalString(root, "prompt", "prompt")).setParseSpecial(true);
    } else {
      if (!Params.bool(root, "add_generation_prompt", "add_generation_prompt", true)) {
        throw GlmException.invalid(
            "'add_generation_prompt' false is not supported: chat prompts are counted with the"
                + " generation prompt, as chat bills them",
            "add_generation_prompt");
      }
      t.setChat(ChatRequestParser.chatPrompt(root, Api.OPENAI));
    }
    return new TokenizeCall(
        model,
        null,
        null,
        t.build(),
        List.of(),
        Params.bool(root, "return_token_strs", "return_token_strs", false));
  }

  public static TokenizeCall detokenize(byte[] body) {
    JsonNode root = Params.readObject(body);
    ApiFields.check(ApiFields.Endpoint.DETOKENIZE, Api.OPENAI, root, "", "");
    String model = Params.requiredString(root, "model", "model");
    JsonNode arr = Params.optionalArray(root, "tokens", "tokens");
    if (arr == null) {
      throw GlmException.invalid("'tokens' is required", "tokens");
    }
    if (arr.size() > MAX_TOKENS) {
      throw GlmException.invalid(
          "'tokens' may hold at most " + MAX_TOKENS + " ids, got " + arr.size(), "tokens");
    }
    List<Integer> ids = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      JsonNode id = arr.get(i);
      if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
        throw GlmException.invalid(
            "'tokens[" + i + "]' must be a token id (an integer >= 0), got " + Params.kind(id),
            "tokens[" + i + "]");
      }
      ids.add(id.intValue());
    }
    return new TokenizeCall(model, null, null, null, ids, false);
  }
}
