package org.glmmaas.gateway.request;

import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.EmbedInput;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.TokenIds;
import tools.jackson.databind.JsonNode;

/**
 * Bodies of the embeddings endpoints: OpenAI's {@code /v1/embeddings} ({@code input} a string, an
 * array of strings, an array of token ids or an array of such arrays; {@code encoding_format},
 * {@code dimensions}, {@code user}) and BigModel's {@code /api/paas/v4/embeddings} ({@code input} a
 * string or an array of strings; {@code dimensions}, {@code encoding_format}, {@code request_id},
 * {@code user_id}).
 */
public final class EmbeddingsParser {

  /** Most inputs one call takes (OpenAI's limit). */
  public static final int MAX_INPUTS = 2048;

  private EmbeddingsParser() {}

  public static EmbedCall openAi(byte[] body) {
    JsonNode root = Params.readObject(body);
    ApiFields.check(ApiFields.Endpoint.EMBEDDINGS, Api.OPENAI, root, "", "");
    String model = Params.requiredString(root, "model", "model");
    EmbedRequest.Builder e = EmbedRequest.newBuilder().setModel(model);
    inputs(root, e, true);
    boolean base64 = base64(root);
    Integer dims = dimensions(root, e);
    return new EmbedCall(
        model, null, Params.optionalId(root, "user", "user", 128), e.build(), dims, base64);
  }

  public static EmbedCall bigModel(byte[] body) {
    JsonNode root = Params.readObject(body);
    ApiFields.check(ApiFields.Endpoint.EMBEDDINGS, Api.BIGMODEL, root, "", "");
    String model = Params.requiredString(root, "model", "model");
    EmbedRequest.Builder e = EmbedRequest.newBuilder().setModel(model);
    inputs(root, e, false);
    boolean base64 = base64(root);
    Integer dims = dimensions(root, e);
    return new EmbedCall(
        model,
        Params.optionalId(root, "request_id", "request_id", 128),
        Params.optionalId(root, "user_id", "user_id", 128),
        e.build(),
        dims,
        base64);
  }

  /** encoding_format: "float" (the default) or "base64". */
  private static boolean base64(JsonNode root) {
    String format = Params.optionalString(root, "encoding_format", "encoding_format");
    if (format != null && !format.equals("float") && !format.equals("base64")) {
      throw GlmException.invalid(
          "'encoding_format' must be \"float\" or \"base64\", got \""
              + Params.abbreviate(format)
              + "\"",
          "encoding_format");
    }
    return "base64".equals(format);
  }

  private static Integer dimensions(JsonNode root, EmbedRequest.Builder e) {
    Integer dims = Params.integer(root, "dimensions", "dimensions", 1, 65_536);
    if (dims != null) {
      e.setDimensions(dims);
    }
    return dims;
  }

  private static void inputs(JsonNode root, EmbedRequest.Builder e, boolean tokenIds) {
    JsonNode in = Params.get(root, "input");
    String shapes =
        tokenIds
            ? "a string, an array of strings, an array of token ids or an array of token-id arrays"
            : "a string or an array of strings";
    if (in == null) {
      throw GlmException.invalid("'input' is required: " + shapes, "input");
    }
    if (in.isString()) {
      e.addInputs(text(in, "input"));
      return;
    }
    if (!in.isArray()) {
      throw GlmException.invalid("'input' must be " + shapes + ", got " + Params.kind(in), "input");
    }
    if (in.isEmpty()) {
      throw GlmException.invalid("'input' must not be an empty array", "input");
    }
    if (tokenIds && in.get(0).isNumber()) {
      // one input given as token ids
      e.addInputs(ids(in, "input"));
      return;
    }
    if (in.size() > MAX_INPUTS) {
      throw GlmException.invalid(
          "'input' may hold at most " + MAX_INPUTS + " inputs, got " + in.size(), "input");
    }
    for (int i = 0; i < in.size(); i++) {
      JsonNode item = in.get(i);
      String path = "input[" + i + "]";
      if (item.isString()) {
        e.addInputs(text(item, path));
      } else if (tokenIds && item.isArray()) {
        e.addInputs(ids(item, path));
      } else {
        throw GlmException.invalid(
            "'"
                + path
                + "' must be "
                + (tokenIds ? "a string or an array of token ids" : "a string")
                + ", got "
                + Params.kind(item),
            path);
      }
    }
  }

  private static EmbedInput text(JsonNode s, String path) {
    if (s.stringValue().isEmpty()) {
      throw GlmException.invalid("'" + path + "' must not be an empty string", path);
    }
    return EmbedInput.newBuilder().setText(s.stringValue()).build();
  }

  private static EmbedInput ids(JsonNode arr, String path) {
    if (arr.isEmpty()) {
      throw GlmException.invalid("'" + path + "' must not be an empty array of token ids", path);
    }
    TokenIds.Builder t = TokenIds.newBuilder();
    for (int i = 0; i < arr.size(); i++) {
      JsonNode id = arr.get(i);
      if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
        String at = path + "[" + i + "]";
        throw GlmException.invalid(
            "'" + at + "' must be a token id (an integer >= 0), got " + Params.kind(id), at);
      }
      t.addIds(id.intValue());
    }
    return EmbedInput.newBuilder().setTokenIds(t).build();
  }
}
