package org.glmmaas.gateway.request;

import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.FillInMiddle;
import tools.jackson.databind.JsonNode;

/**
 * BigModel's CodeGeeX form on chat/completions: {@code extra.target} with code_prefix, code_suffix,
 * language (the zhipuai SDKs' name; {@code code_language} is accepted as its alias) and path
 * becomes a fill-in-the-middle prompt. The messages of such a call are validated but not rendered:
 * CodeGeeX4's infilling format takes no system or user text.
 */
final class CodeGeeX {

  private CodeGeeX() {}

  /** The fill-in-the-middle prompt of {@code extra.target}, or null when there is none. */
  static FillInMiddle target(JsonNode root) {
    JsonNode extra = Params.optionalObject(root, "extra", "extra");
    if (extra == null) {
      return null;
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, Api.BIGMODEL, extra, "extra", "extra");
    JsonNode t = Params.optionalObject(extra, "target", "extra.target");
    if (t == null) {
      throw GlmException.invalid("'extra.target' is required with 'extra'", "extra.target");
    }
    ApiFields.check(ApiFields.Endpoint.CHAT, Api.BIGMODEL, t, "extra.target", "extra.target");
    String prefix = Params.optionalString(t, "code_prefix", "extra.target.code_prefix");
    if (prefix == null) {
      throw GlmException.invalid(
          "'extra.target.code_prefix' is required", "extra.target.code_prefix");
    }
    String suffix = Params.optionalString(t, "code_suffix", "extra.target.code_suffix");
    String language = Params.optionalString(t, "language", "extra.target.language");
    String alias = Params.optionalString(t, "code_language", "extra.target.code_language");
    if (language != null && alias != null && !language.equals(alias)) {
      throw GlmException.invalid(
          "'extra.target.language' and 'extra.target.code_language' disagree; send one",
          "extra.target.code_language");
    }
    String path = Params.optionalString(t, "path", "extra.target.path");
    FillInMiddle.Builder b = FillInMiddle.newBuilder().setPrefix(prefix);
    if (suffix != null) {
      b.setSuffix(suffix);
    }
    if (language != null || alias != null) {
      b.setLanguage(language != null ? language : alias);
    }
    if (path != null) {
      b.setPath(path);
    }
    return b.build();
  }
}
