package org.glmmaas.worker.api;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.proto.common.v1.ErrorReason;
import org.glmmaas.proto.inference.v1.Delta;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.Timings;
import org.glmmaas.proto.inference.v1.TokenLogprob;
import org.glmmaas.proto.inference.v1.TopLogprob;
import org.glmmaas.proto.inference.v1.Usage;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.scheduler.FinishInfo;
import org.glmmaas.worker.scheduler.RequestOutput;
import org.glmmaas.worker.scheduler.RequestOutputSink;
import org.glmmaas.worker.scheduler.RequestTimings;
import org.glmmaas.worker.text.Tokenizer;

/**
 * One Generate call's outbound side. The engine thread hands outputs in (never blocking); they are
 * queued and written only while the transport says the client can take more ({@code isReady}), the
 * rest when {@code onReady} fires. A slow client therefore costs memory of its own queue, never
 * engine time.
 */
final class GenerateStream implements RequestOutputSink {

  private static final Object COMPLETE = new Object();

  private final ServerCallStreamObserver<GenerateResponse> call;
  private final GenerateRequest request;
  private final Tokenizer tokenizer;
  private final String workerId;
  private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();
  private volatile boolean sentDelta;
  private volatile boolean terminated;

  GenerateStream(
      ServerCallStreamObserver<GenerateResponse> call,
      GenerateRequest request,
      Tokenizer tokenizer,
      String workerId) {
    this.call = call;
    this.request = request;
    this.tokenizer = tokenizer;
    this.workerId = workerId;
  }

  /** Messages waiting for the client (for tests and diagnostics). */
  int numBuffered() {
    return queue.size();
  }

  @Override
  public void onOutput(RequestOutput o) {
    if (terminated) {
      return;
    }
    boolean hasTokens = o.newTokenIds().length > 0;
    if (!o.text().isEmpty()
        || (hasTokens
            && (request.getReturnTokenIds()
                || request.getSampling().getLogprobs()
                || request.getSampling().getTopLogprobs() > 0))) {
      queue.add(GenerateResponse.newBuilder().setDelta(delta(o)).build());
      sentDelta = true;
    }
    FinishInfo f = o.finish();
    if (f != null) {
      terminated = true;
      if (f.reason() == org.glmmaas.worker.scheduler.FinishReason.ERROR && !sentDelta) {
        queue.add(
            new GlmStatusException(
                    ErrorReason.INTERNAL,
                    f.errorMessage() == null ? "the request failed" : f.errorMessage())
                .toStatus());
      } else {
        queue.add(GenerateResponse.newBuilder().setFinished(finished(f)).build());
        queue.add(COMPLETE);
      }
    }
    drain();
  }

  /** Writes what the client can take now; called by the engine thread and by onReady. */
  void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    do {
      while (true) {
        if (call.isCancelled()) {
          queue.clear();
          break;
        }
        Object m = queue.peek();
        if (m == null || (m instanceof GenerateResponse && !call.isReady())) {
          break;
        }
        queue.poll();
        try {
          if (m instanceof GenerateResponse g) {
            call.onNext(g);
          } else if (m instanceof StatusRuntimeException e) {
            call.onError(e);
          } else {
            call.onCompleted();
          }
        } catch (RuntimeException e) {
          queue.clear(); // the call is gone (cancelled concurrently)
        }
      }
    } while (wip.decrementAndGet() != 0);
  }

  private Delta delta(RequestOutput o) {
    Delta.Builder d = Delta.newBuilder().setText(o.text());
    if (request.getReturnTokenIds()) {
      for (int id : o.newTokenIds()) {
        d.addTokenIds(id);
      }
    }
    if (request.getSampling().getLogprobs() || request.getSampling().getTopLogprobs() > 0) {
      for (Sampler.Sample s : o.samples()) {
        TokenLogprob.Builder t =
            TokenLogprob.newBuilder()
                .setTokenId(s.tokenId())
                .setToken(tokenizer.decode(new int[] {s.tokenId()}))
                .setLogprob(s.logprob())
                .setBytes(ByteString.copyFrom(tokenizer.tokenBytes(s.tokenId())));
        if (s.topLogprobs() != null) {
          for (Sampler.Alternative a : s.topLogprobs()) {
            t.addTopLogprobs(
                TopLogprob.newBuilder()
                    .setTokenId(a.tokenId())
                    .setToken(tokenizer.decode(new int[] {a.tokenId()}))
                    .setLogprob(a.logprob())
                    .setBytes(ByteString.copyFrom(tokenizer.tokenBytes(a.tokenId()))));
          }
        }
        d.addLogprobs(t);
      }
    }
    return d.build();
  }

  private Finished finished(FinishInfo f) {
    RequestTimings t = f.timings();
    Finished.Builder b =
        Finished.newBuilder()
            .setFinishReason(org.glmmaas.proto.inference.v1.FinishReason.valueOf(f.reason().name()))
            .setUsage(
                Usage.newBuilder()
                    .setPromptTokens(f.numPromptTokens())
                    .setCachedTokens(f.numCachedTokens())
                    .setCompletionTokens(f.numCompletionTokens())
                    .setTotalTokens(f.numPromptTokens() + f.numCompletionTokens()))
            .setTimings(
                Timings.newBuilder()
                    .setQueueMs(ms(t.queue()))
                    .setPrefillMs(ms(t.prefill()))
                    .setDecodeMs(ms(t.decode()))
                    .setTtftMs(ms(t.timeToFirstToken()))
                    .setNumPreemptions(t.numPreemptions())
                    .setTotalMs(ms(t.total())))
            .setWorkerId(workerId);
    if (f.matchedStop() != null) {
      b.setMatchedStop(f.matchedStop());
    }
    if (f.errorMessage() != null) {
      b.setErrorMessage(f.errorMessage());
    }
    return b.build();
  }

  private static double ms(Duration d) {
    return d.toNanos() / 1e6;
  }
}
