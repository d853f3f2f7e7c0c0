package org.glmmaas.gateway.api;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.metrics.GatewayMetrics;
import org.glmmaas.gateway.metrics.RequestTiming;
import org.glmmaas.gateway.routing.InferenceClient;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The chat completion handler shared by both dialects: admission, then the worker's stream turned
 * into one JSON body or SSE events. Until the first worker response the HTTP status is still open,
 * so failures there are ordinary JSON errors; after it, an error is one SSE error event.
 */
public final class ChatHandler {

  private static final Logger log = LoggerFactory.getLogger(ChatHandler.class);
  private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

  private final Admission admission;
  private final InferenceClient inference;
  private final GatewayMetrics metrics;

  public ChatHandler(Admission admission, InferenceClient inference, GatewayMetrics metrics) {
    this.admission = admission;
    this.inference = inference;
    this.metrics = metrics;
  }

  public Mono<ServerResponse> chat(ServerRequest req, Dialect d) {
    return admission
        .admit(req, d)
        .flatMap(a -> a.chat().stream() ? stream(req, d, a) : unary(req, d, a))
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  /** The worker stream of an admitted call; releases lease (and reservation) however it ends. */
  public Flux<GenerateResponse> run(Admission.Admitted a) {
    AtomicLong actual = new AtomicLong(-1);
    AtomicBoolean reached = new AtomicBoolean();
    RequestTiming timing = a.timing();
    return inference
        .generate(a.generate(), a.affinity(), a.timeout())
        .doOnSubscribe(
            s -> {
              timing.workerStarted(System.nanoTime());
              metrics.callStarted();
            })
        .doOnNext(
            r -> {
              if (!reached.get()) {
                reached.set(true);
                if (r.hasDelta()) {
                  metrics.timeToFirstToken(timing.model(), System.nanoTime() - timing.startNanos());
                }
              }
              if (r.hasFinished()) {
                timing.workerEnded(System.nanoTime());
                var u = r.getFinished().getUsage();
                actual.set((long) u.getPromptTokens() + u.getCompletionTokens());
              }
            })
        .doFinally(
            sig -> {
              timing.workerEnded(System.nanoTime());
              metrics.callEnded();
              admission.finish(a, actual.get(), reached.get()).subscribe();
            });
  }

  private Mono<ServerResponse> unary(ServerRequest req, Dialect d, Admission.Admitted a) {
    Dialect.StreamContext ctx = context(a);
    StringBuilder text = new StringBuilder();
    return run(a)
        .doOnNext(
            r -> {
              if (r.hasDelta()) {
                text.append(r.getDelta().getText());
              }
            })
        .filter(GenerateResponse::hasFinished)
        // not next(): cancelling a call that is about to complete costs a gRPC cancellation
        .singleOrEmpty()
        .switchIfEmpty(
            Mono.error(
                () ->
                    new GlmException(
                        new GlmError.Internal(
                            "the inference worker ended the stream without finishing"))))
        .flatMap(
            r -> {
              Finished f = r.getFinished();
              GlmError err = failure(f);
              if (err != null) {
                return Mono.error(new GlmException(err));
              }
              return ServerResponse.ok()
                  .contentType(MediaType.APPLICATION_JSON)
                  .headers(h -> Responses.rateLimitHeaders(h, Responses.rateLimits(req.exchange())))
                  .bodyValue(
                      d.completion(ctx, text.toString(), f.getFinishReason(), f.getUsage())
                          .getBytes(StandardCharsets.UTF_8));
            });
  }

  private Mono<ServerResponse> stream(ServerRequest req, Dialect d, Admission.Admitted a) {
    Dialect.StreamContext ctx = context(a);
    return ServerResponse.ok()
        .headers(h -> Responses.rateLimitHeaders(h, Responses.rateLimits(req.exchange())))
        .body(
            (ServerHttpResponse out,
                org.springframework.web.reactive.function.BodyInserter.Context context) -> {
              Flux<byte[]> events =
                  run(a)
                      .switchOnFirst(
                          (first, all) -> {
                            if (first.isOnError()) {
                              GlmError e =
                                  GlmException.class.isInstance(first.getThrowable())
                                      ? ((GlmException) first.getThrowable()).error()
                                      : internal(first.getThrowable());
                              out.setStatusCode(HttpStatus.valueOf(e.httpStatus()));
                              Responses.errorHeaders(out.getHeaders(), e, null);
                              out.getHeaders().setContentType(MediaType.APPLICATION_JSON);
                              return Flux.just(d.errorBody(e).getBytes(StandardCharsets.UTF_8));
                            }
                            out.getHeaders().setContentType(MediaType.TEXT_EVENT_STREAM);
                            out.getHeaders().setCacheControl("no-cache");
                            out.getHeaders().set("X-Accel-Buffering", "no");
                            AtomicBoolean finished = new AtomicBoolean();
                            return all.doOnNext(r -> finished.compareAndSet(false, r.hasFinished()))
                                .concatMapIterable(r -> events(d, ctx, r))
                                .concatWith(
                                    Flux.defer(
                                        () ->
                                            finished.get()
                                                ? Flux.empty()
                                                : Flux.just(
                                                    sse(
                                                        d.errorEvent(
                                                            new GlmError.Internal(
                                                                "the inference worker ended the stream without finishing"))))))
                                .onErrorResume(
                                    t ->
                                        Flux.just(
                                            sse(
                                                d.errorEvent(
                                                    t instanceof GlmException g
                                                        ? g.error()
                                                        : internal(t)))));
                          });
              return out.writeAndFlushWith(events.map(b -> Mono.just(wrap(out, b))));
            });
  }

  private static DataBuffer wrap(ServerHttpResponse out, byte[] b) {
    return out.bufferFactory().wrap(b);
  }

  private static java.util.List<byte[]> events(
      Dialect d, Dialect.StreamContext ctx, GenerateResponse r) {
    if (r.hasDelta()) {
      String t = r.getDelta().getText();
      return t.isEmpty() ? java.util.List.of() : java.util.List.of(sse(d.chunk(ctx, t)));
    }
    if (!r.hasFinished()) {
      return java.util.List.of();
    }
    Finished f = r.getFinished();
    GlmError err = failure(f);
    if (err != null) {
      return java.util.List.of(sse(d.errorEvent(err)));
    }
    java.util.List<byte[]> out = new java.util.ArrayList<>(3);
    for (String c : d.finalChunks(ctx, f.getFinishReason(), f.getUsage())) {
      out.add(sse(c));
    }
    out.add(DONE);
    return out;
  }

  /** Worker finishes that are not a normal end, as errors. */
  static GlmError failure(Finished f) {
    return switch (f.getFinishReason()) {
      case STOP, LENGTH -> null;
      case DEADLINE_EXCEEDED ->
          new GlmError.Unavailable(
              "the request did not finish before its deadline", Duration.ofSeconds(1));
      case ABORTED ->
          new GlmError.Unavailable(
              "the inference worker shut down before the request finished", Duration.ofSeconds(1));
      case CANCELLED -> new GlmError.Unavailable("the request was cancelled", null);
      default -> new GlmError.Internal("the inference worker failed while serving the request");
    };
  }

  private static GlmError internal(Throwable t) {
    log.error("unexpected failure in a chat call", t);
    return new GlmError.Internal("internal error");
  }

  static byte[] sse(String json) {
    byte[] j = json.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[j.length + 8];
    System.arraycopy("data: ".getBytes(StandardCharsets.US_ASCII), 0, out, 0, 6);
    System.arraycopy(j, 0, out, 6, j.length);
    out[out.length - 2] = '\n';
    out[out.length - 1] = '\n';
    return out;
  }

  private static Dialect.StreamContext context(Admission.Admitted a) {
    return new Dialect.StreamContext(
        a.responseId(),
        System.currentTimeMillis() / 1000,
        a.chat().model(),
        a.chat().includeUsage());
  }
}
