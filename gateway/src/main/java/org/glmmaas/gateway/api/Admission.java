package org.glmmaas.gateway.api;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
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
import org.glmmaas.gateway.routing.WorkerEndpoint;
import org.glmmaas.gateway.routing.WorkerPicker;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.SamplingParams;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import reactor.core.publisher.Mono;

/**
 * Everything between a chat call's arrival and the first worker: body (size-limited), credential,
 * parameters, model allow-list, account status, limits and the billing reservation — in that order,
 * so refusals cost no worker time. Each step fails with a {@link GlmException}.
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

  public Admission(
      GatewayProperties props,
      CachingAuthClient auth,
      ChatRequestParser parser,
      WorkerPicker picker,
      AccountStatuses accounts,
      RateLimiter limiter,
      BillingClient billing,
      GatewayMetrics metrics) {
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
   * @param chat the validated request
   * @param responseId id shown to the client
   * @param generate what the worker gets
   * @param affinity prefix-affinity hash (tenant + start of the conversation)
   * @param lease the rate-limit lease to release when the call ends
   * @param reserved whether billing holds a reservation for it
   * @param timeout the call's deadline: request-timeout, or less when the client asks for less
   * @param timing the call's timing for metrics (a detached one for calls outside a request)
   */
  public record Admitted(
      Principal principal,
      ChatRequest chat,
      String responseId,
      GenerateRequest generate,
      long affinity,
      RateLimiter.Request lease,
      boolean reserved,
      Duration timeout,
      RequestTiming timing) {}

  public Mono<Admitted> admit(ServerRequest req, Dialect d) {
    return body(req)
        .flatMap(
            body ->
                auth.authenticate(req.headers().firstHeader(HttpHeaders.AUTHORIZATION))
                    .map(
                        p -> {
                          checkContentType(req);
                          ChatRequest chat = parser.parse(body);
                          checkAllowed(p, chat, req);
                          return new Object[] {p, chat};
                        }))
        .flatMap(pc -> limits(req, d, (Principal) pc[0], (ChatRequest) pc[1]));
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

  private void checkAllowed(Principal p, ChatRequest chat, ServerRequest req) {
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
    for (WorkerEndpoint w : picker.workers()) {
      var info = w.modelInfo();
      if (info != null && info.getId().equals(chat.model()) && info.getContextLength() > 0) {
        int ctx = info.getContextLength();
        if (maxTokens != null && maxTokens >= ctx) {
          throw new GlmException(
              new GlmError.ContextLengthExceeded(
                  "max_tokens "
                      + maxTokens
                      + " leaves no room for the prompt in the model's context of "
                      + ctx
                      + " tokens"));
        }
        if (chat.estimatedPromptTokens() / 2 > ctx) {
          throw new GlmException(
              new GlmError.ContextLengthExceeded(
                  "the prompt is far longer than the model's context of " + ctx + " tokens"));
        }
        break;
      }
    }
  }

  private Mono<Admitted> limits(ServerRequest req, Dialect d, Principal p, ChatRequest chat) {
    String internalId = UUID.randomUUID().toString();
    int maxTokens = chat.maxTokens() != null ? chat.maxTokens() : props.defaultMaxTokens();
    long tokens = (long) chat.estimatedPromptTokens() + maxTokens;
    RateLimiter.Request lr =
        new RateLimiter.Request(
            p.getKeyId(),
            p.getKeyLimits(),
            p.getTenantId(),
            p.getTenantLimits(),
            tokens,
            internalId,
            props.requestTimeout().plus(Duration.ofSeconds(30)));
    return limiter
        .admit(lr)
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
                      chat,
                      chat.requestId() != null ? chat.requestId() : d.newId(),
                      generateRequest(internalId, p, chat),
                      affinity(p, chat),
                      lr,
                      false,
                      timeout(req),
                      timing(req));
              if (billing == null) {
                return Mono.just(adm);
              }
              return billing
                  .reserve(
                      ReserveRequest.newBuilder()
                          .setRequestId(internalId)
                          .setTenantId(p.getTenantId())
                          .setModel(chat.model())
                          .setPromptTokens(chat.estimatedPromptTokens())
                          .setMaxTokens(maxTokens)
                          .build())
                  .onErrorResume(e -> limiter.release(lr, 0).then(Mono.error(e)))
                  .flatMap(
                      r ->
                          r.getGranted()
                              ? Mono.just(
                                  new Admitted(
                                      adm.principal(),
                                      chat,
                                      adm.responseId(),
                                      adm.generate(),
                                      adm.affinity(),
                                      lr,
                                      true,
                                      adm.timeout(),
                                      adm.timing()))
                              : limiter
                                  .release(lr, 0)
                                  .then(
                                      Mono.error(
                                          new GlmException(
                                              new GlmError.InsufficientBalance(
                                                  "the account balance cannot cover this call "
                                                      + "(prompt + max_tokens); please top up or lower max_tokens")))));
            });
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

  /** Ends the call's lease and, when it never reached a worker, its reservation. */
  public Mono<Void> finish(Admitted a, long actualTokens, boolean reachedWorker) {
    Mono<Void> m = limiter.release(a.lease(), actualTokens).onErrorResume(e -> Mono.empty());
    if (a.reserved() && !reachedWorker) {
      m = m.then(billing.release(a.generate().getRequestId(), a.principal().getTenantId()).then());
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

  private GenerateRequest generateRequest(String internalId, Principal p, ChatRequest c) {
    ChatPrompt.Builder prompt = ChatPrompt.newBuilder();
    for (ChatRequest.Message m : c.messages()) {
      ChatMessage.Builder b = ChatMessage.newBuilder().setRole(m.role()).setContent(m.content());
      if (m.name() != null) {
        b.setName(m.name());
      }
      if (m.toolCallId() != null) {
        b.setToolCallId(m.toolCallId());
      }
      prompt.addMessages(b);
    }
    SamplingParams.Builder s = SamplingParams.newBuilder();
    if (c.temperature() != null) {
      s.setTemperature(c.temperature().floatValue());
    }
    if (c.topP() != null) {
      s.setTopP(c.topP().floatValue());
    }
    if (c.maxTokens() != null) {
      s.setMaxTokens(c.maxTokens());
    }
    if (c.seed() != null) {
      s.setSeed(c.seed());
    }
    if (c.doSample() != null) {
      s.setDoSample(c.doSample());
    }
    s.addAllStop(c.stop());
    GenerateRequest.Builder g =
        GenerateRequest.newBuilder()
            .setRequestId(internalId)
            .setModel(c.model())
            .setChat(prompt)
            .setSampling(s)
            .setTenantId(p.getTenantId())
            .setKeyId(p.getKeyId());
    if (c.userId() != null) {
      g.setUserId(c.userId());
    }
    return g.build();
  }

  private long affinity(Principal p, ChatRequest c) {
    int budget = props.routing().affinityPrefixChars();
    StringBuilder sb = new StringBuilder(p.getTenantId()).append('\u0000');
    for (ChatRequest.Message m : c.messages()) {
      if (budget <= 0) {
        break;
      }
      sb.append(m.role()).append('\u0000');
      String content = m.content();
      sb.append(content, 0, Math.min(content.length(), budget)).append('\u0000');
      budget -= content.length();
    }
    byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
    long h = 0xcbf29ce484222325L;
    for (byte b : bytes) {
      h ^= b;
      h *= 0x100000001b3L;
    }
    return h;
  }
}
