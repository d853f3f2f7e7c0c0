package org.glmmaas.gateway.api;

import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.dialect.bigmodel.BigModelDialect;
import org.glmmaas.gateway.dialect.openai.OpenAiDialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpStatus;
import org.springframework.web.server.MethodNotAllowedException;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;

/**
 * Last line on the API paths: anything that escaped a handler (unknown path, wrong method, a bug)
 * becomes the dialect's error body — never Spring's default page, never a stack trace.
 */
public final class ApiErrorHandler implements WebExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(ApiErrorHandler.class);

  private final OpenAiDialect openAi;
  private final BigModelDialect bigModel;

  public ApiErrorHandler(OpenAiDialect openAi, BigModelDialect bigModel) {
    this.openAi = openAi;
    this.bigModel = bigModel;
  }

  @Override
  public Mono<Void> handle(ServerWebExchange ex, Throwable t) {
    String path = ex.getRequest().getPath().pathWithinApplication().value();
    Dialect d =
        path.startsWith("/api/paas/")
            ? bigModel
            : path.startsWith("/v1/")
                    || path.equals("/v1")
                    || path.equals("/tokenize")
                    || path.equals("/detokenize")
                ? openAi
                : null;
    if (d == null || ex.getResponse().isCommitted()) {
      return Mono.error(t);
    }
    return Responses.error(ex, d, map(t, ex));
  }

  private static GlmError map(Throwable t, ServerWebExchange ex) {
    if (t instanceof GlmException g) {
      return g.error();
    }
    if (t instanceof MethodNotAllowedException m) {
      return new GlmError.MethodNotAllowed(
          ex.getRequest().getMethod().name()
              + " is not supported here; use "
              + m.getSupportedMethods());
    }
    if (t instanceof org.springframework.http.InvalidMediaTypeException) {
      return new GlmError.InvalidRequest("a media type header is malformed", null);
    }
    if (t instanceof DataBufferLimitException) {
      return new GlmError.PayloadTooLarge("request body exceeds the size limit");
    }
    if (t instanceof ResponseStatusException r) {
      if (r.getStatusCode().value() == HttpStatus.NOT_FOUND.value()) {
        return new GlmError.NotFound(
            "no such API path: "
                + ex.getRequest().getMethod().name()
                + " "
                + ex.getRequest()
                    .getPath()
                    .pathWithinApplication()
                    .value()
                    .replaceAll("[^\\x20-\\x7e]", "?"));
      }
      if (r.getStatusCode().is4xxClientError()) {
        return new GlmError.InvalidRequest(
            r.getReason() != null ? r.getReason() : "bad request", null);
      }
    }
    log.error("unhandled failure on {}", ex.getRequest().getPath().value(), t);
    return new GlmError.Internal("internal error");
  }
}
