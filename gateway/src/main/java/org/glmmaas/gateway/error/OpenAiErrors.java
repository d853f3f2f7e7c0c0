package org.glmmaas.gateway.error;

import tools.jackson.databind.node.ObjectNode;

/** OpenAI's error envelope: {@code {"error":{"message","type","param","code"}}}. */
public final class OpenAiErrors {

  private OpenAiErrors() {}

  public static ObjectNode body(GlmError e) {
    ObjectNode root = Json.object();
    ObjectNode err = root.putObject("error");
    err.put("message", e.message());
    err.put("type", type(e));
    if (e.param() == null) {
      err.putNull("param");
    } else {
      err.put("param", e.param());
    }
    String code = code(e);
    if (code == null) {
      err.putNull("code");
    } else {
      err.put("code", code);
    }
    return root;
  }

  static String type(GlmError e) {
    return switch (e) {
      case GlmError.InvalidRequest x -> "invalid_request_error";
      case GlmError.PayloadTooLarge x -> "invalid_request_error";
      case GlmError.ContextLengthExceeded x -> "invalid_request_error";
      case GlmError.ModelNotFound x -> "invalid_request_error";
      case GlmError.NotFound x -> "invalid_request_error";
      case GlmError.MethodNotAllowed x -> "invalid_request_error";
      case GlmError.Unauthenticated x -> "authentication_error";
      case GlmError.PermissionDenied x -> "permission_error";
      case GlmError.RateLimited x -> x.kind();
      case GlmError.InsufficientBalance x -> "insufficient_quota";
      case GlmError.Overloaded x -> "server_error";
      case GlmError.Unavailable x -> "server_error";
      case GlmError.Internal x -> "server_error";
    };
  }

  static String code(GlmError e) {
    return switch (e) {
      case GlmError.InvalidRequest x -> "invalid_value";
      case GlmError.PayloadTooLarge x -> "request_too_large";
      case GlmError.ContextLengthExceeded x -> "context_length_exceeded";
      case GlmError.ModelNotFound x -> "model_not_found";
      case GlmError.NotFound x -> "not_found";
      case GlmError.MethodNotAllowed x -> "method_not_allowed";
      case GlmError.Unauthenticated x -> "invalid_api_key";
      case GlmError.PermissionDenied x ->
          "1220".equals(x.bigModelCode()) ? "model_not_allowed" : "account_deactivated";
      case GlmError.RateLimited x -> "rate_limit_exceeded";
      case GlmError.InsufficientBalance x -> "insufficient_quota";
      case GlmError.Overloaded x -> "overloaded";
      case GlmError.Unavailable x -> "service_unavailable";
      case GlmError.Internal x -> null;
    };
  }
}
