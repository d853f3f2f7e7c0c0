package org.glmmaas.gateway.error;

import java.time.Duration;

/**
 * The one error taxonomy of docs/development.md ("Errors"). Each transport maps it once: {@link
 * BigModelErrors} on {@code /api/paas/v4}, {@link OpenAiErrors} on {@code /v1}. Messages never
 * contain secrets or prompt text.
 */
public sealed interface GlmError {

  /** Human-readable cause, safe to show to the caller. */
  String message();

  /** HTTP status of this error. */
  int httpStatus();

  /** BigModel business code (e.g. "1214"). */
  String bigModelCode();

  /** When set, the caller may retry after this long (sent as Retry-After). */
  default Duration retryAfter() {
    return null;
  }

  /** False for errors that retrying cannot fix (sent as x-should-retry: false). */
  default boolean retryable() {
    return false;
  }

  /** The parameter at fault, when there is one. */
  default String param() {
    return null;
  }

  /** A malformed request or a parameter out of range. code 1210 (parameter) or 1214 (messages). */
  record InvalidRequest(String message, String param, String bigModelCode) implements GlmError {
    public InvalidRequest(String message, String param) {
      this(message, param, param != null && param.startsWith("messages") ? "1214" : "1210");
    }

    @Override
    public int httpStatus() {
      return 400;
    }
  }

  /** The body exceeds the gateway's size limit. */
  record PayloadTooLarge(String message) implements GlmError {
    @Override
    public int httpStatus() {
      return 413;
    }

    @Override
    public String bigModelCode() {
      return "1210";
    }
  }

  /**
   * Prompt plus max_tokens exceeds the model's context length ({@code param} "messages"), or an
   * embedding input is longer than the model takes ({@code param} "input[i]").
   */
  record ContextLengthExceeded(String message, String param) implements GlmError {
    public ContextLengthExceeded(String message) {
      this(message, "messages");
    }

    @Override
    public int httpStatus() {
      return 400;
    }

    @Override
    public String bigModelCode() {
      return "1261";
    }
  }

  /** No or bad credential: 1000 (generic), 1001 (missing), 1002 (invalid), 1003/1004 (expired). */
  record Unauthenticated(String message, String bigModelCode) implements GlmError {
    @Override
    public int httpStatus() {
      return 401;
    }
  }

  /** Valid credential, but this is not allowed: 1220 (model), 1110-1112 (account). */
  record PermissionDenied(String message, String bigModelCode) implements GlmError {
    @Override
    public int httpStatus() {
      return 403;
    }
  }

  /** The model is not served here. */
  record ModelNotFound(String message) implements GlmError {
    @Override
    public int httpStatus() {
      return 404;
    }

    @Override
    public String bigModelCode() {
      return "1211";
    }

    @Override
    public String param() {
      return "model";
    }
  }

  /** A limit was hit: 1302 concurrency, 1303 requests or tokens per minute. */
  record RateLimited(String message, String bigModelCode, Duration retryAfter, String kind)
      implements GlmError {
    @Override
    public int httpStatus() {
      return 429;
    }

    @Override
    public boolean retryable() {
      return true;
    }
  }

  /** The tenant's balance cannot cover the call. Not retryable. */
  record InsufficientBalance(String message) implements GlmError {
    @Override
    public int httpStatus() {
      return 429;
    }

    @Override
    public String bigModelCode() {
      return "1113";
    }
  }

  /** Workers are saturated; retry later. */
  record Overloaded(String message, Duration retryAfter) implements GlmError {
    @Override
    public int httpStatus() {
      return 503;
    }

    @Override
    public String bigModelCode() {
      return "1305";
    }

    @Override
    public boolean retryable() {
      return true;
    }
  }

  /** No worker can serve now (none ready, unreachable, a dependency down). */
  record Unavailable(String message, Duration retryAfter) implements GlmError {
    @Override
    public int httpStatus() {
      return 503;
    }

    @Override
    public String bigModelCode() {
      return "500";
    }

    @Override
    public boolean retryable() {
      return true;
    }
  }

  /** A bug or an engine failure. The message is generic; details go to the log. */
  record Internal(String message) implements GlmError {
    @Override
    public int httpStatus() {
      return 500;
    }

    @Override
    public String bigModelCode() {
      return "500";
    }

    @Override
    public boolean retryable() {
      return true;
    }
  }

  /** Not an API path. */
  record NotFound(String message) implements GlmError {
    @Override
    public int httpStatus() {
      return 404;
    }

    @Override
    public String bigModelCode() {
      return "1210";
    }
  }

  /** The path exists, but not for this method. */
  record MethodNotAllowed(String message) implements GlmError {
    @Override
    public int httpStatus() {
      return 405;
    }

    @Override
    public String bigModelCode() {
      return "1210";
    }
  }
}
