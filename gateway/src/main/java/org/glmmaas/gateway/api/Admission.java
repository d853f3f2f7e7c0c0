package org.glmmaas.gateway.api;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.glmmaas.gateway.auth.CachingAuthClient;
import org.glmmaas.gateway.billing.AccountStatuses;
import org.glmmaas.gateway.billing.BillingClient;
import org.glmmaas.gateway.config.GatewayProperties;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.metrics.GatewayMetrics;
import org.glmmaas.gateway.metrics.RequestTiming;
import org.glmmaas.gateway.ratelimit.RateLimiter;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.gateway.request.ApiCall;
import org.glmmaas.gateway.request.ChatRequestParser;
import org.glmmaas.gateway.routing.InferenceClient;
import org.glmmaas.gateway.routing.WorkerEndpoint;
import org.glmmaas.gateway.routing.WorkerPicker;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.TokenizeRequest;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Everything between a call's arrival and the first worker: body (size-limited), credential,
 * parameters, model allow-list, account status, limits and the billing reservation — in that order,
 * so refusals cost no worker time. Each step fails with a {@link GlmException}. Chat, completions,
 * embeddings and the tokenizer endpoints all come through here; a call asks for n choices per
 * prompt, and limits and reservations count all of them.
 */
public final class Admission {

  private final GatewayProperties props;
  private final CachingAuthClient auth;
  private final ChatRequestParser parser;
  private final WorkerPicker picker;
  private final AccountStatuses accounts;
  private final RateLimiter limiter;
  private final BillingClient billing;
  private final GatewayMetrics metrics;
  private final InferenceClient inference;

  public Admission(
      GatewayProperties props,
      CachingAuthClient auth,
      ChatRequestParser parser,
      WorkerPicker picker,
      AccountStatuses accounts,
      RateLimiter limiter,
      BillingClient billing,
      GatewayMetrics metrics,
      InferenceClient inference) {
    this.inference = inference;
    this.metrics = metrics;
    this.props = props;
    this.auth = auth;
    this.parser = parser;
    this.picker = picker;
    this.accounts = accounts;
    this.limiter = limiter;
    this.billing = billing;
  }

  /**
   * An admitted call.
   *
   * @param principal the caller
   * @param call the validated request
   * @param responseId id shown to the client
   * @param generates what the workers get, one per prompt (empty for tokenizer calls)
   * @param affinity prefix-affinity hash (tenant + start of the conversation)
   * @param lease the rate-limit lease to release when the call ends
   * @param reserved whether billing holds a reservation for each of {@code generates}
   * @param timeout the call's deadline: request-timeout, or less when the client asks for less
   * @param timing the call's timing for metrics (a detached one for calls outside a request)
   * @param promptEach prompt tokens reserved for each worker request
   * @param maxCompletion completion tokens reserved for each worker request (all its choices)
   */
  public record Admitted(
      Principal principal,
      ApiCall call,
      String responseId,
      List<GenerateRequest> generates,
      long affinity,
      RateLimiter.Request lease,
      boolean reserved,
      Duration timeout,
      RequestTiming timing,
      int promptEach,
      int maxCompletion) {

    /** The first (for chat: the only) worker request. */
    public GenerateRequest generate() {
      return generates.get(0);
    }

    /**
     * The request ids billing holds a reservation under (when {@link #reserved()}): one per worker
     * request; for an embeddings call (no worker request to generate) the lease's id, which is also
     * the id its usage event carries.
     */
    public List<String> holdIds() {
      return Admission.holdIds(generates, call, lease.leaseId());
    }
  }

  /** A chat call of dialect {@code d}. */
  public Mono<Admitted> admit(ServerRequest req, Dialect d) {
    Api api = d.api();
    return admit(req, d, body -> parser.parse(body, api));
  }

  /**
   * A call whose body {@code parse} validates (it throws a GlmException for bad input). The
   * credential comes from the headers and is checked before a byte of the body is read: a caller
   * without a valid key never makes the gateway buffer its (up to max-body-size) body.
   */
  public Mono<Admitted> admit(ServerRequest req, Dialect d, Function<byte[], ApiCall> parse) {
    return auth.authenticate(req.headers().firstHeader(HttpHeaders.AUTHORIZATION))
        .flatMap(
            p ->
                body(req)
                    .map(
                        body -> {
                          checkContentType(req);
                          ApiCall call = parse.apply(body);
                          checkAllowed(p, call, req);
                          return new Object[] {p, call};
                        }))
        .flatMap(pc -> limits(req, d, (Principal) pc[0], (ApiCall) pc[1]));
  }

  /** Authentication only (for models, billing and async-result routes). */
  public Mono<Principal> authenticate(ServerRequest req) {
    return auth.authenticate(req.headers().firstHeader(HttpHeaders.AUTHORIZATION));
  }

  private void checkContentType(ServerRequest req) {
    java.util.Optional<MediaType> ct;
    try {
      ct = req.headers().contentType();
    } catch (org.springframework.http.InvalidMediaTypeException e) {
      throw GlmException.invalid("Content-Type is malformed; send application/json", null);
    }
    if (ct.isPresent()
        && !ct.get().isCompatibleWith(MediaType.APPLICATION_JSON)
        && !"json".equals(ct.get().getSubtype())
        && !ct.get().getSubtype().endsWith("+json")) {
      throw GlmException.invalid(
          "Content-Type must be application/json, got '"
              + ct.get().getType()
              + "/"
              + ct.get().getSubtype()
              + "'",
          null);
    }
  }

  private void checkAllowed(Principal p, ApiCall chat, ServerRequest req) {
    if (p.getAllowedModelsCount() > 0 && !p.getAllowedModelsList().contains(chat.model())) {
      throw new GlmException(
          new GlmError.PermissionDenied(
              "this API key may not use model '"
                  + chat.model().replaceAll("[^\\x20-\\x7e]", "?")
                  + "'",
              "1220"));
    }
    picker.checkModel(chat.model());
    timing(req).model(chat.model());
    if (accounts.insufficient(p.getTenantId())) {
      throw new GlmException(
          new GlmError.InsufficientBalance("the account balance is insufficient; please top up"));
    }
    Integer maxTokens = chat.maxTokens();
    int ctx = contextLength(chat.model());
    if (ctx > 0 && chat.generates() && maxTokens != null && maxTokens >= ctx) {
      throw new GlmException(
          new GlmError.ContextLengthExceeded(
              "max_tokens "
                  + maxTokens
                  + " leaves no room for the prompt in the model's context of "
                  + ctx
                  + " tokens"));
    }
  }

  /** The model's context length as its workers report it; 0 when no worker has said yet. */
  private int contextLength(String model) {
    for (WorkerEndpoint w : picker.workers()) {
      var info = w.modelInfo();
      if (info != null && info.getId().equals(model) && info.getContextLength() > 0) {
        return info.getContextLength();
      }
    }
    return 0;
  }

  /**
   * What a call will cost at most: its prompt tokens (an upper bound, or the worker's exact count)
   * and the max_tokens every worker request carries. A call without max_tokens gets the default,
   * capped at what the context leaves after the prompt, and it is always sent: the worker never
   * generates more than the reservation covers. When the bound leaves too little room, the worker's
   * tokenizer counts the prompt exactly (one Tokenize call, long prompts only).
   */
  private record Budget(long promptTokens, int maxTokens, boolean send) {}

  private Mono<Budget> budget(ApiCall call) {
    long bound = call.promptTokenBound();
    if (!call.generates()) {
      return Mono.just(new Budget(bound, 0, false));
    }
    if (call.maxTokens() != null) {
      return Mono.just(new Budget(bound, call.maxTokens(), false));
    }
    int def = props.defaultMaxTokens();
    int ctx = contextLength(call.model());
    if (ctx <= 0 || bound + def <= ctx) {
      return Mono.just(new Budget(bound, def, true));
    }
    List<GenerateRequest> prompts = call.prompts();
    if (inference == null || prompts.size() != 1 || !prompts.get(0).hasChat()) {
      // no exact count to be had: the bound caps it where it can, else the worker decides
      int room = (int) Math.max(0, ctx - bound);
      return Mono.just(new Budget(bound, room >= 1 ? Math.min(def, room) : def, true));
    }
    return inference
        .tokenize(
            TokenizeRequest.newBuilder()
                .setModel(call.model())
                .setChat(prompts.get(0).getChat())
                .build(),
            props.billing().timeout())
        .map(
            t -> {
              int exact = t.getNumTokens();
              if (exact >= ctx) {
                throw new GlmException(
                    new GlmError.ContextLengthExceeded(
                        "the prompt has "
                            + exact
                            + " tokens; this model's context is "
                            + ctx
                            + " tokens"));
              }
              return new Budget(exact, Math.min(def, ctx - exact), true);
            });
  }

  private Mono<Admitted> limits(ServerRequest req, Dialect d, Principal p, ApiCall call) {
    return budget(call).flatMap(b -> limits(req, d, p, call, b));
  }

  private Mono<Admitted> limits(
      ServerRequest req, Dialect d, Principal p, ApiCall call, Budget budget) {
    String internalId = UUID.randomUUID().toString();
    int maxTokens = budget.maxTokens();
    List<GenerateRequest> generates =
        generateRequests(internalId, p, call, budget.send() ? maxTokens : 0);
    // every choice of every prompt may run to max_tokens
    long completion = call.generates() ? (long) maxTokens * call.n() * generates.size() : 0;
    long tokens = budget.promptTokens() + completion;
    RateLimiter.Request lr =
        new RateLimiter.Request(
            p.getKeyId(),
            p.getKeyLimits(),
            p.getTenantId(),
            p.getTenantLimits(),
            tokens,
            internalId,
            props.requestTimeout().plus(Duration.ofSeconds(30)));
    // a client that goes away during admit or reserve cancels this chain: what it already holds
    // (the lease, reservations made or in flight) goes back at once instead of after its TTL
    AtomicBoolean leased = new AtomicBoolean();
    AtomicBoolean handedOver = new AtomicBoolean();
    return limiter
        .admit(lr)
        .doOnNext(a -> leased.set(a.admitted()))
        .flatMap(
            a -> {
              if (a.headers() != null) {
                req.exchange().getAttributes().put(Responses.RATE_LIMIT_ATTR, a.headers());
              }
              if (!a.admitted()) {
                metrics.rateLimited(a.denied());
                return Mono.error(new GlmException(a.denied()));
              }
              Admitted adm =
                  new Admitted(
                      p,
                      call,
                      call.requestId() != null ? call.requestId() : d.newId(),
                      generates,
                      affinity(p, call),
                      lr,
                      false,
                      timeout(req),
                      timing(req),
                      promptEach(budget.promptTokens(), generates.size()),
                      maxTokens * call.n());
              if (billing == null || adm.holdIds().isEmpty()) {
                return Mono.just(adm);
              }
              return reserve(adm).onErrorResume(e -> limiter.release(lr, 0).then(Mono.error(e)));
            })
        .doOnNext(a -> handedOver.set(true))
        .doOnCancel(
            () -> {
              if (handedOver.get()) {
                return; // the caller owns it now and finishes it
              }
              if (leased.get()) {
                limiter.release(lr, 0).onErrorResume(e -> Mono.empty()).subscribe();
              }
              if (billing != null) {
                for (String id : holdIds(generates, call, internalId)) {
                  billing.release(id, p.getTenantId()).subscribe();
                }
              }
            });
  }

  /**
   * Reserves each worker request's prompt and max completion with billing; when one is refused (or
   * fails), releases those already held and fails.
   */
  private Mono<Admitted> reserve(Admitted adm) {
    Principal p = adm.principal();
    int promptEach = adm.promptEach();
    int maxCompletionTokens = adm.maxCompletion();
    List<String> held = new ArrayList<>();
    return Flux.fromIterable(adm.holdIds())
        .concatMap(
            id ->
                billing
                    .reserve(
                        ReserveRequest.newBuilder()
                            .setRequestId(id)
                            .setTenantId(p.getTenantId())
                            .setModel(adm.call().model())
                            .setPromptTokens(promptEach)
                            .setMaxTokens(maxCompletionTokens)
                            .build())
                    .flatMap(
                        r -> {
                          if (!r.getGranted()) {
                            return Mono.error(
                                new GlmException(
                                    new GlmError.InsufficientBalance(
                                        adm.call().generates()
                                            ? "the account balance cannot cover this call "
                                                + "(prompt + max_tokens for every choice); please"
                                                + " top up or lower max_tokens or n"
                                            : "the account balance cannot cover this call (its"
                                                + " inputs' tokens, counted high: one per UTF-8"
                                                + " byte plus 2 per input); please top up or"
                                                + " send fewer inputs")));
                          }
                          held.add(id);
                          return Mono.just(id);
                        }))
        .then(
            Mono.just(
                new Admitted(
                    p,
                    adm.call(),
                    adm.responseId(),
                    adm.generates(),
                    adm.affinity(),
                    adm.lease(),
                    true,
                    adm.timeout(),
                    adm.timing(),
                    adm.promptEach(),
                    adm.maxCompletion())))
        .onErrorResume(
            e ->
                Flux.fromIterable(List.copyOf(held))
                    .concatMap(
                        id -> billing.release(id, p.getTenantId()).onErrorResume(x -> Mono.empty()))
                    .then(Mono.error(e)));
  }

  /** As {@link Admitted#holdIds()}, before the Admitted exists. */
  private static List<String> holdIds(
      List<GenerateRequest> generates, ApiCall call, String leaseId) {
    if (generates.isEmpty()) {
      return call.billed() ? List.of(leaseId) : List.of();
    }
    return generates.stream().map(GenerateRequest::getRequestId).toList();
  }

  /** Each worker request's share of the prompt tokens, rounded up. */
  private static int promptEach(long promptTokens, int size) {
    int n = Math.max(1, size); // tokenizer calls have no worker request
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (promptTokens + n - 1) / n));
  }

  /**
   * A retry of worker request {@code failed} as {@code next} (its own request id): the hold moves
   * to the new id (released for the old one: should that attempt have run, its usage is still
   * billed when the worker reports it). Refused like the first reservation when the balance no
   * longer covers it.
   */
  public Mono<Void> retry(Admitted a, String failed, String next) {
    if (!a.reserved()) {
      return Mono.empty();
    }
    String tenant = a.principal().getTenantId();
    return billing
        .release(failed, tenant)
        .then(
            billing.reserve(
                ReserveRequest.newBuilder()
                    .setRequestId(next)
                    .setTenantId(tenant)
                    .setModel(a.call().model())
                    .setPromptTokens(a.promptEach())
                    .setMaxTokens(a.maxCompletion())
                    .build()))
        .flatMap(
            r ->
                r.getGranted()
                    ? Mono.<Void>empty()
                    : Mono.error(
                        new GlmException(
                            new GlmError.InsufficientBalance(
                                "the account balance cannot cover this call; please top up"))));
  }

  /** The call's timing (from the metrics filter; a fresh one when called outside it). */
  private static RequestTiming timing(ServerRequest req) {
    RequestTiming t = req.exchange().getAttribute(RequestTiming.ATTR);
    if (t == null) {
      t = new RequestTiming(System.nanoTime());
      req.exchange().getAttributes().put(RequestTiming.ATTR, t);
    }
    return t;
  }

  /**
   * The deadline propagated to the worker: glm.gateway.request-timeout, shortened by the client's
   * own timeout when it sends one (the OpenAI SDKs send X-Stainless-Timeout, seconds).
   */
  private Duration timeout(ServerRequest req) {
    Duration max = props.requestTimeout();
    String h = req.headers().firstHeader("X-Stainless-Timeout");
    if (h != null) {
      try {
        double s = Double.parseDouble(h.strip());
        if (s > 0 && s * 1000 < max.toMillis()) {
          return Duration.ofMillis((long) (s * 1000));
        }
      } catch (NumberFormatException e) {
        // not a number: keep the gateway's own deadline
      }
    }
    return max;
  }

  /** Ends the call's lease and, when it never reached a worker, its reservations. */
  public Mono<Void> finish(Admitted a, long actualTokens, boolean reachedWorker) {
    List<String> ids = a.holdIds();
    boolean[] reached = new boolean[ids.size()];
    java.util.Arrays.fill(reached, reachedWorker);
    return finish(a, actualTokens, reached, ids.toArray(String[]::new));
  }

  /**
   * Ends the call's lease and releases the reservation of each worker request that never reached a
   * worker ({@code reached[i]} false).
   */
  public Mono<Void> finish(Admitted a, long actualTokens, boolean[] reached) {
    return finish(a, actualTokens, reached, a.holdIds().toArray(String[]::new));
  }

  /**
   * As {@link #finish(Admitted, long, boolean[])}, where worker request {@code i} last ran as
   * {@code ids[i]} (a retry has its own id).
   */
  public Mono<Void> finish(Admitted a, long actualTokens, boolean[] reached, String[] ids) {
    Mono<Void> m = limiter.release(a.lease(), actualTokens).onErrorResume(e -> Mono.empty());
    if (a.reserved()) {
      for (int i = 0; i < ids.length; i++) {
        if (i >= reached.length || !reached[i]) {
          m = m.then(billing.release(ids[i], a.principal().getTenantId()).then());
        }
      }
    }
    return m;
  }

  private Mono<byte[]> body(ServerRequest req) {
    long max = props.maxBodySize().toBytes();
    long cl = req.headers().contentLength().orElse(-1);
    if (cl > max) {
      return Mono.error(tooLarge(max));
    }
    return DataBufferUtils.join(req.exchange().getRequest().getBody(), (int) max)
        .map(
            buf -> {
              byte[] b = new byte[buf.readableByteCount()];
              buf.read(b);
              DataBufferUtils.release(buf);
              return b;
            })
        .onErrorMap(DataBufferLimitException.class, e -> tooLarge(max))
        .defaultIfEmpty(new byte[0]);
  }

  private static GlmException tooLarge(long max) {
    return new GlmException(
        new GlmError.PayloadTooLarge("request body exceeds the limit of " + max + " bytes"));
  }

  /**
   * The call's worker requests with ids: the lease's id for the first, suffixed for more; with
   * {@code maxTokens} > 0 each carries it (the gateway's default the reservation covers).
   */
  private static List<GenerateRequest> generateRequests(
      String internalId, Principal p, ApiCall call, int maxTokens) {
    List<GenerateRequest> out = new ArrayList<>();
    List<GenerateRequest> prompts = call.prompts();
    for (int i = 0; i < prompts.size(); i++) {
      GenerateRequest.Builder g =
          prompts.get(i).toBuilder()
              .setRequestId(i == 0 ? internalId : internalId + "-" + i)
              .setTenantId(p.getTenantId())
              .setKeyId(p.getKeyId());
      if (maxTokens > 0) {
        g.getSamplingBuilder().setMaxTokens(maxTokens);
      }
      if (call.userId() != null) {
        g.setUserId(call.userId());
      }
      out.add(g.build());
    }
    return out;
  }

  private long affinity(Principal p, ApiCall c) {
    String text =
        p.getTenantId() + '\u0000' + c.affinityText(props.routing().affinityPrefixChars());
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    long h = 0xcbf29ce484222325L;
    for (byte b : bytes) {
      h ^= b;
      h *= 0x100000001b3L;
    }
    return h;
  }
}
