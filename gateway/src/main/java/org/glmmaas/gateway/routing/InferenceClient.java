package org.glmmaas.gateway.routing;

import com.google.rpc.ErrorInfo;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.DetokenizeRequest;
import org.glmmaas.proto.inference.v1.DetokenizeResponse;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.TokenizeRequest;
import org.glmmaas.proto.inference.v1.TokenizeResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Schedulers;

/**
 * Runs Generate on a picked worker. A worker that fails before its first delta is replaced by
 * another (up to {@code maxAttempts} workers); after the first delta the error goes to the caller.
 * Cancelling the returned Flux cancels the gRPC call at once, so the worker frees its KV blocks.
 *
 * <p>A worker sends {@code Accepted} when its scheduler begins the call's prefill. Until then the
 * call is queued behind others (busy, not broken): it is bounded by {@code queueTimeout} and then
 * retried elsewhere without quarantining the worker. From {@code Accepted} on, no token within
 * {@code firstTokenTimeout} means a stalled worker: retried elsewhere, the worker quarantined. A
 * worker not known to send {@code Accepted} gets the first-token timeout from the send. {@code
 * Accepted} itself never reaches the caller.
 *
 * <p>A stuck engine is told from a busy one by progress: a call that reaches the queue timeout on a
 * worker that accepted nothing and streamed nothing for any of this gateway's calls since it was
 * sent has hit an engine that stopped, and that worker is quarantined too. Once streaming, a call
 * that gets no token for {@code stallTimeout} while it is asking for more is cut (the error goes to
 * the caller, whose tokens so far are billed from what was forwarded) and its worker quarantined.
 */
public final class InferenceClient {

  private static final Logger log = LoggerFactory.getLogger(InferenceClient.class);

  private final WorkerPicker picker;
  private final int maxAttempts;
  private final Duration firstTokenTimeout;
  private final Duration queueTimeout;
  private final Duration quarantine;
  private final Duration stallTimeout;

  public InferenceClient(WorkerPicker picker, int maxAttempts) {
    this(picker, maxAttempts, Duration.ofSeconds(30), Duration.ofSeconds(10));
  }

  /** As the five-argument constructor with a queue timeout of 2 minutes. */
  public InferenceClient(
      WorkerPicker picker, int maxAttempts, Duration firstTokenTimeout, Duration quarantine) {
    this(picker, maxAttempts, firstTokenTimeout, Duration.ofMinutes(2), quarantine);
  }

  /**
   * As the six-argument constructor with a mid-stream stall timeout equal to the first-token one.
   */
  public InferenceClient(
      WorkerPicker picker,
      int maxAttempts,
      Duration firstTokenTimeout,
      Duration queueTimeout,
      Duration quarantine) {
    this(picker, maxAttempts, firstTokenTimeout, queueTimeout, quarantine, firstTokenTimeout);
  }

  /**
   * @param firstTokenTimeout a call with no token this long after the worker accepted it (or, for a
   *     worker that never sends {@code Accepted}, after the send) is cancelled and retried
   *     elsewhere, and its worker quarantined for {@code quarantine}
   * @param queueTimeout a call the worker has not accepted after this long is cancelled and retried
   *     elsewhere; its worker is not quarantined unless it made no progress at all meanwhile (zero:
   *     no limit)
   * @param stallTimeout a streaming call that asked for more and got no token for this long is cut
   *     and its worker quarantined (zero: no limit)
   */
  public InferenceClient(
      WorkerPicker picker,
      int maxAttempts,
      Duration firstTokenTimeout,
      Duration queueTimeout,
      Duration quarantine,
      Duration stallTimeout) {
    this.stallTimeout = stallTimeout;
    this.picker = picker;
    this.maxAttempts = Math.max(1, maxAttempts);
    this.firstTokenTimeout = firstTokenTimeout;
    this.queueTimeout = queueTimeout;
    this.quarantine = quarantine;
  }

  public WorkerPicker picker() {
    return picker;
  }

  /**
   * What the caller does between attempts. Each attempt runs under its own request id (the usage
   * event's idempotency key), so a retried call bills every attempt that ran instead of dropping
   * the later one as a duplicate.
   */
  public interface Attempts {
    /**
     * Before {@code next} (the retry of {@code failed}, with its own request id) runs: e.g. move
     * the reservation to it. An error ends the call with it.
     */
    reactor.core.publisher.Mono<Void> retrying(GenerateRequest failed, GenerateRequest next);

    Attempts NONE = (failed, next) -> reactor.core.publisher.Mono.empty();
  }

  /** The request id of attempt {@code n} (1-based) of request {@code base}. */
  public static String attemptId(String base, int n) {
    return n <= 1 ? base : base + "-a" + n;
  }

  /** Streams the worker's responses; errors are {@link GlmException}s. */
  public Flux<GenerateResponse> generate(GenerateRequest req, long affinity, Duration timeout) {
    return generate(req, affinity, timeout, Attempts.NONE);
  }

  /** As {@link #generate(GenerateRequest, long, Duration)}, telling {@code attempts} of retries. */
  public Flux<GenerateResponse> generate(
      GenerateRequest req, long affinity, Duration timeout, Attempts attempts) {
    Deadline deadline = Deadline.after(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
    return attempt(req, req.getRequestId(), affinity, deadline, new HashSet<>(), 1, attempts);
  }

  private Flux<GenerateResponse> attempt(
      GenerateRequest req,
      String baseId,
      long affinity,
      Deadline deadline,
      Set<WorkerEndpoint> excluded,
      int n,
      Attempts attempts) {
    return Flux.defer(
        () -> {
          WorkerEndpoint w = picker.pick(req.getModel(), affinity, excluded);
          AtomicBoolean started = new AtomicBoolean();
          return call(w, req, deadline)
              .handle(
                  (GenerateResponse r,
                      reactor.core.publisher.SynchronousSink<GenerateResponse> s) -> {
                    if (!started.get()
                        && r.hasFinished()
                        && (r.getFinished().getFinishReason() == FinishReason.ERROR
                            || r.getFinished().getFinishReason() == FinishReason.ABORTED)) {
                      s.error(
                          new WorkerFailed(
                              r.getFinished().getFinishReason().name()
                                  + ": "
                                  + r.getFinished().getErrorMessage()));
                      return;
                    }
                    started.set(true);
                    s.next(r);
                  })
              .onErrorResume(
                  t -> {
                    GlmError mapped = map(t);
                    boolean retry =
                        !started.get()
                            && mapped.retryable()
                            && n < maxAttempts
                            && !deadline.isExpired();
                    if (retry) {
                      log.warn(
                          "worker {} failed before the first token ({}); trying another",
                          w.address(),
                          t.toString());
                      excluded.add(w);
                      GenerateRequest next =
                          req.toBuilder().setRequestId(attemptId(baseId, n + 1)).build();
                      return attempts
                          .retrying(req, next)
                          .thenMany(
                              attempt(next, baseId, affinity, deadline, excluded, n + 1, attempts));
                    }
                    return Flux.error(new GlmException(mapped));
                  });
        });
  }

  // phases of one call
  private static final int SENT = 0; // waiting for Accepted (or, from an old worker, a token)
  private static final int ACCEPTED = 3; // prefill begun: waiting for the first token
  private static final int STREAMING = 1;
  private static final int GAVE_UP = 2; // a timeout fired
  private static final int DONE = 4; // ended: completed, failed or cancelled

  private Flux<GenerateResponse> call(WorkerEndpoint w, GenerateRequest req, Deadline deadline) {
    return Flux.create(
        sink -> {
          AtomicInteger phase = new AtomicInteger(SENT);
          long sentNanos = System.nanoTime();
          // demand the caller asked for and no token has answered yet; and when a token (or,
          // after a pause in demand, the demand) last came: a stream is stalled only while asking
          AtomicLong outstanding = new AtomicLong();
          AtomicLong lastToken = new AtomicLong(sentNanos);
          AtomicReference<Disposable> timer =
              new AtomicReference<>(reactor.core.Disposables.disposed());
          AtomicBoolean released = new AtomicBoolean();
          Runnable release =
              () -> {
                if (released.compareAndSet(false, true)) {
                  w.release();
                }
              };
          w.acquire();
          ClientCallStreamObserver<?>[] holder = new ClientCallStreamObserver<?>[1];
          // gives up when still in phase `from` after `after`; each timer checks its own phase, so
          // one left over from an earlier phase does nothing
          // the first-token timer, left running once tokens flow, becomes the stall watch
          @SuppressWarnings("unchecked")
          java.util.function.Consumer<Long>[] watch = new java.util.function.Consumer[1];
          watch[0] =
              afterNanos ->
                  timer.set(
                      Schedulers.parallel()
                          .schedule(
                              () -> {
                                if (phase.get() != STREAMING) {
                                  return;
                                }
                                long now = System.nanoTime();
                                long idle = now - lastToken.get();
                                long limit = stallTimeout.toNanos();
                                if (outstanding.get() <= 0 || idle < limit) {
                                  watch[0].accept(outstanding.get() <= 0 ? limit : limit - idle);
                                  return;
                                }
                                if (!phase.compareAndSet(STREAMING, GAVE_UP)) {
                                  return;
                                }
                                w.quarantine(quarantine);
                                log.warn(
                                    "worker {} sent no token for {} ms in the middle of a stream;"
                                        + " the call is cut and the worker quarantined for {} s",
                                    w.address(),
                                    idle / 1_000_000,
                                    quarantine.toSeconds());
                                holder[0].cancel("stalled mid-stream", null);
                                release.run();
                                sink.error(new StreamStalled());
                              },
                              Math.max(1, afterNanos),
                              TimeUnit.NANOSECONDS));
          java.util.function.BiConsumer<Integer, Duration> arm =
              (from, after) -> {
                if (after.isZero()) {
                  return;
                }
                boolean queueing = from == SENT && w.sendsAccepted();
                timer.set(
                    Schedulers.parallel()
                        .schedule(
                            () -> {
                              if (phase.get() == STREAMING && !stallTimeout.isZero()) {
                                long idle = System.nanoTime() - lastToken.get();
                                watch[0].accept(stallTimeout.toNanos() - idle);
                                return;
                              }
                              if (!phase.compareAndSet(from, GAVE_UP)) {
                                return;
                              }
                              RuntimeException why;
                              if (queueing && !w.progressedSince(sentNanos)) {
                                // queued the whole time on a worker that began nothing and sent
                                // nothing for any call: not busy, its engine has stopped
                                why = new FirstTokenTimeout();
                                w.quarantine(quarantine);
                                log.warn(
                                    "worker {} did not begin the request within the queue timeout"
                                        + " of {} ms and made no progress on any call meanwhile;"
                                        + " its engine looks stuck, quarantined for {} s",
                                    w.address(),
                                    after.toMillis(),
                                    quarantine.toSeconds());
                              } else if (queueing) {
                                why = new QueueTimeout();
                                log.warn(
                                    "worker {} did not begin the request within the queue timeout"
                                        + " of {} ms; trying another",
                                    w.address(),
                                    after.toMillis());
                              } else {
                                why = new FirstTokenTimeout();
                                w.quarantine(quarantine);
                                log.warn(
                                    "worker {} sent no token within the first-token timeout of {}"
                                        + " ms{}; quarantined for {} s",
                                    w.address(),
                                    after.toMillis(),
                                    from == ACCEPTED ? " after accepting the request" : "",
                                    quarantine.toSeconds());
                              }
                              holder[0].cancel(why.getMessage(), null);
                              release.run();
                              sink.error(why);
                            },
                            after.toMillis(),
                            TimeUnit.MILLISECONDS));
              };
          w.stub()
              .withDeadline(deadline)
              .generate(
                  req,
                  new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<GenerateRequest> call) {
                      call.disableAutoRequestWithInitial(0);
                      holder[0] = call;
                    }

                    @Override
                    public void onNext(GenerateResponse value) {
                      if (value.hasAccepted()) {
                        // for the gateway only: no bytes to the client; the first-token timeout
                        // starts now, queueing is over
                        w.sendsAccepted(true);
                        w.progress(System.nanoTime());
                        if (phase.compareAndSet(SENT, ACCEPTED)) {
                          timer.get().dispose();
                          arm.accept(ACCEPTED, firstTokenTimeout);
                        }
                        holder[0].request(1); // it consumed demand the caller never saw
                        return;
                      }
                      outstanding.decrementAndGet();
                      long now = System.nanoTime();
                      lastToken.set(now);
                      w.progress(now);
                      int p = phase.get();
                      if (p == STREAMING) {
                        sink.next(value);
                      } else if ((p == SENT || p == ACCEPTED)
                          && phase.compareAndSet(p, STREAMING)) {
                        if (stallTimeout.isZero()) {
                          timer.get().dispose();
                        } // else the running timer turns into the stall watch when it fires
                        sink.next(value);
                      }
                    }

                    @Override
                    public void onError(Throwable t) {
                      release.run();
                      if (phase.getAndSet(DONE) != GAVE_UP) {
                        timer.get().dispose();
                        sink.error(t);
                      }
                    }

                    @Override
                    public void onCompleted() {
                      release.run();
                      if (phase.getAndSet(DONE) != GAVE_UP) {
                        timer.get().dispose();
                        sink.complete();
                      }
                    }
                  });
          // an old worker (no Accepted) gets the first-token timeout from the send, as before
          arm.accept(SENT, w.sendsAccepted() ? queueTimeout : firstTokenTimeout);
          ClientCallStreamObserver<?> call = holder[0];
          // the call has started: demand and cancellation may now reach it
          sink.onRequest(
              k -> {
                long before = outstanding.getAndUpdate(o -> o + k < o ? Long.MAX_VALUE : o + k);
                if (before <= 0) {
                  lastToken.set(
                      System.nanoTime()); // asking again after a pause: the clock restarts
                }
                call.request((int) Math.min(k, Integer.MAX_VALUE));
              });
          sink.onCancel(
              () -> {
                if (phase.getAndUpdate(p -> p == GAVE_UP ? p : DONE) != GAVE_UP) {
                  timer.get().dispose();
                }
                call.cancel("the client went away", null);
                release.run();
              });
        },
        FluxSink.OverflowStrategy.BUFFER);
  }

  /** A worker that sent nothing within the first-token timeout: try another. */
  static final class FirstTokenTimeout extends RuntimeException {
    FirstTokenTimeout() {
      super("no first token within the timeout", null, false, false);
    }
  }

  /** A streaming call that got no token for the stall timeout while asking for more. */
  static final class StreamStalled extends RuntimeException {
    StreamStalled() {
      super("no token within the stall timeout", null, false, false);
    }
  }

  /** A worker that did not begin the call within the queue timeout: try another. */
  static final class QueueTimeout extends RuntimeException {
    QueueTimeout() {
      super("not begun within the queue timeout", null, false, false);
    }
  }

  /** A worker that ended with ERROR/ABORTED before producing anything: try another. */
  static final class WorkerFailed extends RuntimeException {
    WorkerFailed(String msg) {
      super(msg, null, false, false);
    }
  }

  /** The gateway's error for a worker-side failure (gRPC status + ErrorInfo reason). */
  static GlmError map(Throwable t) {
    if (t instanceof GlmException g) {
      return g.error();
    }
    if (t instanceof QueueTimeout) {
      return new GlmError.Unavailable(
          "the inference worker is busy and did not begin the request in time",
          Duration.ofSeconds(1));
    }
    if (t instanceof FirstTokenTimeout) {
      return new GlmError.Unavailable(
          "the inference worker did not start answering in time", Duration.ofSeconds(1));
    }
    if (t instanceof StreamStalled) {
      return new GlmError.Unavailable(
          "the inference worker stopped producing tokens in the middle of the answer",
          Duration.ofSeconds(1));
    }
    if (t instanceof WorkerFailed) {
      return new GlmError.Internal("the inference worker failed while serving the request");
    }
    Status st = Status.fromThrowable(t);
    ErrorInfo info = errorInfo(t);
    String reason = info == null ? null : info.getReason();
    String desc = st.getDescription() == null ? "" : st.getDescription();
    if (reason != null) {
      switch (reason) {
        case "INVALID_REQUEST":
          // the worker names the request field at fault (e.g. "response_format",
          // "tools[0].function.parameters", "suffix"): the 400 names it too
          String param = info.getMetadataOrDefault("param", "");
          String msg = desc.isEmpty() ? "invalid request" : desc;
          if (!param.isEmpty() && !msg.contains(param)) {
            msg = "'" + param + "': " + msg; // BigModel's body has no param: the message names it
          }
          return new GlmError.InvalidRequest(msg, param.isEmpty() ? null : param);
        case "CONTEXT_LENGTH_EXCEEDED":
          return new GlmError.ContextLengthExceeded(
              desc.isEmpty()
                  ? "the prompt plus max_tokens exceeds the model's context length"
                  : desc);
        case "MODEL_NOT_FOUND":
          return new GlmError.ModelNotFound(desc.isEmpty() ? "model not found" : desc);
        case "OVERLOADED", "RATE_LIMITED":
          return new GlmError.Overloaded(
              "the model is overloaded; retry shortly", Duration.ofSeconds(1));
        case "UNAVAILABLE":
          return new GlmError.Unavailable(
              "the inference worker is unavailable; retry shortly", Duration.ofSeconds(1));
        default:
          break;
      }
    }
    return switch (st.getCode()) {
      case INVALID_ARGUMENT ->
          new GlmError.InvalidRequest(desc.isEmpty() ? "invalid request" : desc, null);
      case RESOURCE_EXHAUSTED ->
          new GlmError.Overloaded("the model is overloaded; retry shortly", Duration.ofSeconds(1));
      case DEADLINE_EXCEEDED ->
          new GlmError.Unavailable(
              "the request did not finish before its " + "deadline", Duration.ofSeconds(1));
      case UNAVAILABLE, CANCELLED, UNKNOWN, ABORTED ->
          new GlmError.Unavailable(
              "the inference worker is unavailable; retry shortly", Duration.ofSeconds(1));
      default -> {
        log.warn("worker error {}: {}", st.getCode(), desc);
        yield new GlmError.Internal("the inference worker failed while serving the request");
      }
    };
  }

  private static ErrorInfo errorInfo(Throwable t) {
    try {
      com.google.rpc.Status s = StatusProto.fromThrowable(t);
      if (s == null) {
        return null;
      }
      for (var any : s.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          return any.unpack(ErrorInfo.class);
        }
      }
    } catch (Exception e) {
      return null;
    }
    return null;
  }

  /**
   * Tokenizes on a worker serving the request's model (the least loaded), within {@code timeout};
   * errors are {@link GlmException}s.
   */
  public reactor.core.publisher.Mono<TokenizeResponse> tokenize(
      TokenizeRequest req, Duration timeout) {
    return unary(
        req.getModel(),
        timeout,
        (w, obs) ->
            w.stub()
                .withDeadlineAfter(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)
                .tokenize(req, obs));
  }

  /**
   * Embeds on a worker serving the request's model (the least loaded), within {@code timeout};
   * errors are {@link GlmException}s (an input over the context is CONTEXT_LENGTH_EXCEEDED).
   */
  public reactor.core.publisher.Mono<org.glmmaas.proto.inference.v1.EmbedResponse> embed(
      org.glmmaas.proto.inference.v1.EmbedRequest req, Duration timeout) {
    return unary(
        req.getModel(),
        timeout,
        (w, obs) ->
            w.stub()
                .withDeadlineAfter(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)
                .embed(req, obs));
  }

  /** Turns token ids back into text on a worker serving the request's model. */
  public reactor.core.publisher.Mono<DetokenizeResponse> detokenize(
      DetokenizeRequest req, Duration timeout) {
    return unary(
        req.getModel(),
        timeout,
        (w, obs) ->
            w.stub()
                .withDeadlineAfter(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)
                .detokenize(req, obs));
  }

  private <T> reactor.core.publisher.Mono<T> unary(
      String model,
      Duration timeout,
      java.util.function.BiConsumer<WorkerEndpoint, io.grpc.stub.StreamObserver<T>> call) {
    return reactor.core.publisher.Mono.<T>create(
            sink -> {
              WorkerEndpoint w = picker.pick(model, 0, Set.of());
              w.acquire();
              call.accept(
                  w,
                  new io.grpc.stub.StreamObserver<T>() {
                    @Override
                    public void onNext(T value) {
                      w.release();
                      sink.success(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                      w.release();
                      sink.error(t);
                    }

                    @Override
                    public void onCompleted() {
                      // onNext completed the sink
                    }
                  });
            })
        .onErrorMap(t -> !(t instanceof GlmException), t -> new GlmException(map(t)));
  }
}
