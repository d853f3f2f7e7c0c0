package org.glmmaas.gateway.api;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.glmmaas.gateway.billing.FallbackUsage;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.metrics.GatewayMetrics;
import org.glmmaas.gateway.metrics.RequestTiming;
import org.glmmaas.gateway.request.ChatRequest;
import org.glmmaas.gateway.routing.InferenceClient;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.reactive.function.BodyInserter;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The chat completion handler shared by both dialects: admission, then the worker's stream turned
 * into one JSON body or SSE events (n choices, tool calls, reasoning, logprobs). Until the first
 * worker response the HTTP status is still open, so failures there are ordinary JSON errors; after
 * it, an error is one SSE error event.
 */
public final class ChatHandler {

  private static final Logger log = LoggerFactory.getLogger(ChatHandler.class);
  static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

  private final Admission admission;
  private final InferenceClient inference;
  private final GatewayMetrics metrics;
  private final FallbackUsage fallback;

  public ChatHandler(
      Admission admission,
      InferenceClient inference,
      GatewayMetrics metrics,
      FallbackUsage fallback) {
    this.fallback = fallback;
    this.admission = admission;
    this.inference = inference;
    this.metrics = metrics;
  }

  public Mono<ServerResponse> chat(ServerRequest req, Dialect d) {
    return prepare(req)
        .flatMap(r -> admission.admit(r, d))
        .flatMap(a -> a.call().stream() ? stream(req, d, a) : unary(req, d, a))
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  /**
   * Rewrites a chat request (either dialect, sync or async) before admission and decorates its
   * unary response: the {@code retrieval} tool (knowledge/RetrievalTool) when knowledge bases are
   * configured.
   */
  public interface Preparer {
    Mono<ServerRequest> prepare(ServerRequest req);

    String decorate(org.springframework.web.server.ServerWebExchange exchange, String body);
  }

  private Preparer retrieval;

  /** Enables the chat {@code retrieval} tool (knowledge bases configured). */
  public ChatHandler withRetrieval(Preparer tool) {
    this.retrieval = tool;
    return this;
  }

  /**
   * The request to admit, on every chat route (both dialects, sync and async): with a {@code
   * retrieval} tool, the grounded body; else {@code req} itself.
   */
  public Mono<ServerRequest> prepare(ServerRequest req) {
    return retrieval == null ? Mono.just(req) : retrieval.prepare(req);
  }

  /** A unary completion body with the {@code retrieval} field added when the call used it. */
  public String decorate(ServerRequest req, String body) {
    return retrieval == null ? body : retrieval.decorate(req.exchange(), body);
  }

  /** A worker response and the index of the prompt (worker request) it belongs to. */
  public record Tagged(int prompt, GenerateResponse response) {}

  /** The worker stream of an admitted single-prompt call (chat, async chat). */
  public Flux<GenerateResponse> run(Admission.Admitted a) {
    return runAll(a).map(Tagged::response);
  }

  /**
   * The worker streams of all of an admitted call's prompts, merged; releases the lease (and the
   * reservations of prompts that never reached a worker) however it ends.
   */
  public Flux<Tagged> runAll(Admission.Admitted a) {
    int k = a.generates().size();
    AtomicLong actual = new AtomicLong();
    AtomicBoolean anyFinished = new AtomicBoolean();
    boolean[] reached = new boolean[k];
    String[] ids = new String[k];
    long[] forwarded = new long[k]; // completion tokens forwarded, per worker request
    boolean[] finished = new boolean[k];
    AtomicBoolean first = new AtomicBoolean();
    RequestTiming timing = a.timing();
    List<Flux<Tagged>> streams = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      int idx = i;
      ids[i] = a.generates().get(i).getRequestId();
      InferenceClient.Attempts attempts =
          (failed, next) ->
              admission
                  .retry(a, failed.getRequestId(), next.getRequestId())
                  .doOnSuccess(v -> ids[idx] = next.getRequestId());
      streams.add(
          inference
              .generate(a.generates().get(i), a.affinity(), a.timeout(), attempts)
              .doOnNext(
                  r -> {
                    reached[idx] = true;
                    if (r.hasDelta()) {
                      forwarded[idx] += tokens(r.getDelta());
                    }
                    if (r.hasFinished()) {
                      finished[idx] = true;
                      var u = r.getFinished().getUsage();
                      actual.addAndGet((long) u.getPromptTokens() + u.getCompletionTokens());
                      anyFinished.set(true);
                    }
                  })
              .doOnError(
                  t -> {
                    // the stream broke after tokens were forwarded: the worker will never report
                    // them (it died), so the gateway does, from what it forwarded
                    if (reached[idx] && !finished[idx] && forwarded[idx] > 0) {
                      fallback(a, ids[idx], forwarded[idx]);
                    }
                  })
              .map(r -> new Tagged(idx, r)));
    }
    Flux<Tagged> all = k == 1 ? streams.get(0) : Flux.merge(streams);
    return all.doOnSubscribe(
            s -> {
              timing.workerStarted(System.nanoTime());
              metrics.callStarted();
            })
        .doOnNext(
            t -> {
              if (first.compareAndSet(false, true) && t.response().hasDelta()) {
                metrics.timeToFirstToken(timing.model(), System.nanoTime() - timing.startNanos());
              }
              if (t.response().hasFinished()) {
                timing.workerEnded(System.nanoTime());
              }
            })
        .doFinally(
            sig -> {
              timing.workerEnded(System.nanoTime());
              metrics.callEnded();
              admission.finish(a, anyFinished.get() ? actual.get() : -1, reached, ids).subscribe();
            });
  }

  /**
   * Completion tokens a delta stands for, counted low: its token ids or logprobs when the call
   * asked for them, else 1 per delta with output (the worker sends at least one token per delta).
   */
  static long tokens(org.glmmaas.proto.inference.v1.Delta d) {
    long n = Math.max(d.getTokenIdsCount(), d.getLogprobsCount());
    if (n > 0) {
      return n;
    }
    return d.getText().isEmpty() && d.getReasoningText().isEmpty() && d.getToolCallsCount() == 0
        ? 0
        : 1;
  }

  private void fallback(Admission.Admitted a, String requestId, long completion) {
    if (fallback == null) {
      return;
    }
    var g = a.generate();
    long now = System.currentTimeMillis();
    fallback.publish(
        org.glmmaas.proto.billing.v1.UsageEvent.newBuilder()
            .setRequestId(requestId)
            .setTenantId(a.principal().getTenantId())
            .setKeyId(a.principal().getKeyId())
            .setModel(g.getModel())
            .setPromptTokens(a.promptEach())
            .setCompletionTokens((int) Math.min(Integer.MAX_VALUE, completion))
            .setFinishReason("error")
            .setUserId(g.getUserId())
            .setStartTimeUnixMs(now)
            .setEndTimeUnixMs(now)
            .setGatewayFallback(true)
            .build());
  }

  /** The response shaping of an admitted chat call. */
  static Choices choices(Admission.Admitted a, Dialect d) {
    ChatRequest chat = (ChatRequest) a.call();
    return new Choices(
        chat.n(),
        chat.prompt().getSampling().getLogprobs(),
        !chat.options().parallelToolCalls(),
        d.api() == org.glmmaas.gateway.request.Api.BIGMODEL && !chat.options().toolStream());
  }

  /**
   * A finished non-streaming call.
   *
   * @param ctx the response's id, model and options
   * @param choices every choice, whole
   * @param finished the worker's finish (usage, timings)
   */
  public record Completed(
      Dialect.StreamContext ctx, List<Dialect.ChoiceResult> choices, Finished finished) {}

  /** Runs an admitted chat call to its end; fails with the call's error. */
  public Mono<Completed> complete(Admission.Admitted a, Dialect d) {
    Dialect.StreamContext ctx = context(a);
    Choices choices = choices(a, d);
    return run(a)
        .doOnNext(
            r -> {
              if (r.hasDelta()) {
                choices.accept(r.getDelta());
              }
            })
        .filter(GenerateResponse::hasFinished)
        // not next(): cancelling a call that is about to complete costs a gRPC cancellation
        .singleOrEmpty()
        .switchIfEmpty(Mono.error(ChatHandler::unfinished))
        .flatMap(
            r -> {
              Finished f = r.getFinished();
              GlmError err = failure(f);
              if (err != null) {
                return Mono.error(new GlmException(err));
              }
              return Mono.just(new Completed(ctx, choices.results(f), f));
            });
  }

  /**
   * Runs one batch line: {@code g} (the line's own request id, priority and batch id) straight on a
   * worker, outside admission (no rate-limit lease; the batch runner holds the line's reservation).
   * Fails with the call's error, like {@link #complete}.
   */
  public Mono<Completed> completeLine(
      ChatRequest chat,
      org.glmmaas.proto.inference.v1.GenerateRequest g,
      Dialect d,
      long affinity,
      Duration timeout,
      InferenceClient.Attempts attempts) {
    Dialect.StreamContext ctx =
        new Dialect.StreamContext(
            d.newId(),
            System.currentTimeMillis() / 1000,
            chat.model(),
            false,
            chat.prompt().getSampling().getLogprobs(),
            chat.options().serviceTier());
    Choices choices =
        new Choices(
            chat.n(),
            chat.prompt().getSampling().getLogprobs(),
            !chat.options().parallelToolCalls(),
            d.api() == org.glmmaas.gateway.request.Api.BIGMODEL && !chat.options().toolStream());
    return inference
        .generate(g, affinity, timeout, attempts)
        .doOnNext(
            r -> {
              if (r.hasDelta()) {
                choices.accept(r.getDelta());
              }
            })
        .filter(GenerateResponse::hasFinished)
        .singleOrEmpty()
        .switchIfEmpty(Mono.error(ChatHandler::unfinished))
        .flatMap(
            r -> {
              Finished f = r.getFinished();
              GlmError err = failure(f);
              if (err != null) {
                return Mono.error(new GlmException(err));
              }
              return Mono.just(new Completed(ctx, choices.results(f), f));
            });
  }

  private Mono<ServerResponse> unary(ServerRequest req, Dialect d, Admission.Admitted a) {
    return complete(a, d)
        .flatMap(
            c ->
                ServerResponse.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .headers(
                        h -> Responses.rateLimitHeaders(h, Responses.rateLimits(req.exchange())))
                    .bodyValue(
                        decorate(req, d.completion(c.ctx(), c.choices(), c.finished().getUsage()))
                            .getBytes(StandardCharsets.UTF_8)));
  }

  private Mono<ServerResponse> stream(ServerRequest req, Dialect d, Admission.Admitted a) {
    Dialect.StreamContext ctx = context(a);
    Choices choices = choices(a, d);
    AtomicBoolean finished = new AtomicBoolean();
    return sse(
        req,
        d,
        run(a),
        r -> {
          finished.compareAndSet(false, r.hasFinished());
          return events(d, ctx, choices, r);
        },
        finished::get);
  }

  /**
   * Streams {@code responses} as SSE, each turned into events by {@code events}; an error before
   * the first response is an ordinary JSON error, after it one SSE error event, and so is an end
   * before {@code complete} says the call finished.
   */
  static <T> Mono<ServerResponse> sse(
      ServerRequest req,
      Dialect d,
      Flux<T> responses,
      java.util.function.Function<T, List<byte[]>> events,
      java.util.function.BooleanSupplier complete) {
    return ServerResponse.ok()
        .headers(h -> Responses.rateLimitHeaders(h, Responses.rateLimits(req.exchange())))
        .body(
            (ServerHttpResponse out, BodyInserter.Context context) -> {
              Flux<byte[]> bytes =
                  responses.switchOnFirst(
                      (first, all) -> {
                        if (first.isOnError()) {
                          GlmError e =
                              first.getThrowable() instanceof GlmException g
                                  ? g.error()
                                  : internal(first.getThrowable());
                          out.setStatusCode(HttpStatus.valueOf(e.httpStatus()));
                          Responses.errorHeaders(out.getHeaders(), e, null);
                          out.getHeaders().setContentType(MediaType.APPLICATION_JSON);
                          return Flux.just(d.errorBody(e).getBytes(StandardCharsets.UTF_8));
                        }
                        out.getHeaders().setContentType(MediaType.TEXT_EVENT_STREAM);
                        out.getHeaders().setCacheControl("no-cache");
                        out.getHeaders().set("X-Accel-Buffering", "no");
                        return all.concatMapIterable(events)
                            .concatWith(
                                Flux.defer(
                                    () ->
                                        complete.getAsBoolean()
                                            ? Flux.empty()
                                            : Flux.just(sse(d.errorEvent(unfinished().error())))))
                            .onErrorResume(
                                t ->
                                    Flux.just(
                                        sse(
                                            d.errorEvent(
                                                t instanceof GlmException g
                                                    ? g.error()
                                                    : internal(t)))));
                      });
              return out.writeAndFlushWith(bytes.map(b -> Mono.just(wrap(out, b))));
            });
  }

  private static DataBuffer wrap(ServerHttpResponse out, byte[] b) {
    return out.bufferFactory().wrap(b);
  }

  private static List<byte[]> events(
      Dialect d, Dialect.StreamContext ctx, Choices choices, GenerateResponse r) {
    if (r.hasDelta()) {
      Dialect.ChunkDelta c = choices.accept(r.getDelta());
      return c.isEmpty() ? List.of() : List.of(sse(d.chunk(ctx, c)));
    }
    if (!r.hasFinished()) {
      return List.of();
    }
    Finished f = r.getFinished();
    GlmError err = failure(f);
    if (err != null) {
      return List.of(sse(d.errorEvent(err)));
    }
    List<byte[]> out = new ArrayList<>(4);
    for (Dialect.ChunkDelta c : choices.flush()) {
      out.add(sse(d.chunk(ctx, c)));
    }
    for (String c : d.finalChunks(ctx, choices.results(f), f.getUsage())) {
      out.add(sse(c));
    }
    out.add(DONE);
    return out;
  }

  /** Worker finishes that are not a normal end, as errors. */
  static GlmError failure(Finished f) {
    return switch (f.getFinishReason()) {
      case STOP, LENGTH, TOOL_CALLS -> null;
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

  static GlmException unfinished() {
    return new GlmException(
        new GlmError.Internal("the inference worker ended the stream without finishing"));
  }

  static GlmError internal(Throwable t) {
    log.error("unexpected failure in a generation call", t);
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

  static Dialect.StreamContext context(Admission.Admitted a) {
    ChatRequest chat = (ChatRequest) a.call();
    return new Dialect.StreamContext(
        a.responseId(),
        System.currentTimeMillis() / 1000,
        chat.model(),
        chat.options().includeUsage(),
        chat.prompt().getSampling().getLogprobs(),
        chat.options().serviceTier());
  }
}
