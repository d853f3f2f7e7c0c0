package org.glmmaas.gateway.api;

import java.time.Duration;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.request.TokenizeCall;
import org.glmmaas.gateway.request.TokenizeParser;
import org.glmmaas.gateway.routing.InferenceClient;
import org.glmmaas.gateway.routing.WorkerEndpoint;
import org.glmmaas.gateway.routing.WorkerPicker;
import org.glmmaas.proto.inference.v1.DetokenizeRequest;
import org.glmmaas.proto.inference.v1.TokenizeResponse;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The tokenizer endpoints: BigModel's {@code POST /api/paas/v4/tokenizer} ({@code
 * usage.prompt_tokens}, what chat bills for the same messages and tools) and vLLM's {@code POST
 * /tokenize} and {@code POST /detokenize}. Admitted like chat (credential, model allow-list, rate
 * limits) and answered by a worker serving the model; nothing is generated or billed.
 */
public final class TokenizerHandler {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final Admission admission;
  private final InferenceClient inference;
  private final WorkerPicker picker;

  public TokenizerHandler(Admission admission, InferenceClient inference, WorkerPicker picker) {
    this.admission = admission;
    this.inference = inference;
    this.picker = picker;
  }

  /** BigModel: {@code {"id","request_id","created","model","usage":{"prompt_tokens":N}}}. */
  public Mono<ServerResponse> bigModel(ServerRequest req, Dialect d) {
    return admission
        .admit(req, d, TokenizeParser::bigModel)
        .flatMap(
            a ->
                tokenize(a)
                    .map(
                        t -> {
                          ObjectNode n = Json.object();
                          n.put("id", a.responseId());
                          n.put("request_id", a.responseId());
                          n.put("created", System.currentTimeMillis() / 1000);
                          n.put("model", a.call().model());
                          n.putObject("usage").put("prompt_tokens", t.getNumTokens());
                          return n;
                        }))
        .flatMap(n -> ok(req, n))
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  /** vLLM: {@code {"count","max_model_len","tokens"}}. */
  public Mono<ServerResponse> tokenize(ServerRequest req, Dialect d) {
    return admission
        .admit(req, d, TokenizeParser::tokenize)
        .flatMap(
            a ->
                tokenize(a)
                    .map(
                        t -> {
                          ObjectNode n = Json.object();
                          n.put("count", t.getNumTokens());
                          n.put("max_model_len", contextLength(a.call().model()));
                          ArrayNode ids = n.putArray("tokens");
                          t.getIdsList().forEach(ids::add);
                          return n;
                        }))
        .flatMap(n -> ok(req, n))
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  /** vLLM: {@code {"prompt": text}} for {@code {"model", "tokens"}}. */
  public Mono<ServerResponse> detokenize(ServerRequest req, Dialect d) {
    return admission
        .admit(req, d, TokenizeParser::detokenize)
        .flatMap(
            a -> {
              TokenizeCall call = (TokenizeCall) a.call();
              return inference
                  .detokenize(
                      DetokenizeRequest.newBuilder()
                          .setModel(call.model())
                          .addAllIds(call.tokens())
                          .build(),
                      timeout(a))
                  .doFinally(s -> admission.finish(a, 0, true).subscribe())
                  .map(
                      t -> {
                        ObjectNode n = Json.object();
                        n.put("prompt", t.getText());
                        return n;
                      });
            })
        .flatMap(n -> ok(req, n))
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  private static Duration timeout(Admission.Admitted a) {
    return a.timeout().compareTo(TIMEOUT) < 0 ? a.timeout() : TIMEOUT;
  }

  private Mono<TokenizeResponse> tokenize(Admission.Admitted a) {
    TokenizeCall call = (TokenizeCall) a.call();
    return inference
        .tokenize(call.tokenize(), timeout(a))
        .doFinally(s -> admission.finish(a, 0, true).subscribe());
  }

  private int contextLength(String model) {
    for (WorkerEndpoint w : picker.workers()) {
      var info = w.modelInfo();
      if (info != null && info.getId().equals(model)) {
        return info.getContextLength();
      }
    }
    return 0;
  }

  private static Mono<ServerResponse> ok(ServerRequest req, ObjectNode n) {
    return ServerResponse.ok()
        .contentType(MediaType.APPLICATION_JSON)
        .headers(h -> Responses.rateLimitHeaders(h, Responses.rateLimits(req.exchange())))
        .bodyValue(Json.write(n));
  }
}
