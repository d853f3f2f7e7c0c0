package org.glmmaas.worker.api;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.proto.common.v1.ErrorReason;
import org.glmmaas.proto.inference.v1.Accepted;
import org.glmmaas.proto.inference.v1.ChoiceFinish;
import org.glmmaas.proto.inference.v1.Delta;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.Timings;
import org.glmmaas.proto.inference.v1.TokenLogprob;
import org.glmmaas.proto.inference.v1.ToolCallDelta;
import org.glmmaas.proto.inference.v1.TopLogprob;
import org.glmmaas.proto.inference.v1.Usage;
import org.glmmaas.worker.chat.ChoiceOutput;
import org.glmmaas.worker.chat.OutputEvent;
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
  private final ChoiceOutput[] choices;
  private final ChoiceFinish[] finishes;
  private final FinishInfo[] finishInfos;
  private int numFinished;
  private boolean accepted;
  private List<GenerateResponse> echo;
  private volatile boolean sentDelta;
  private volatile boolean terminated;

  /**
   * @param choices each choice's output processing (reasoning, tool calls), by choice index
   */
  GenerateStream(
      ServerCallStreamObserver<GenerateResponse> call,
      GenerateRequest request,
      Tokenizer tokenizer,
      String workerId,
      ChoiceOutput[] choices) {
    this.call = call;
    this.request = request;
    this.tokenizer = tokenizer;
    this.workerId = workerId;
    this.choices = choices;
    this.finishes = new ChoiceFinish[choices.length];
    this.finishInfos = new FinishInfo[choices.length];
  }

  /** The sink of choice {@code index}. */
  RequestOutputSink choice(int index) {
    return new RequestOutputSink() {
      @Override
      public void onOutput(RequestOutput o) {
        GenerateStream.this.onOutput(index, o);
      }

      @Override
      public void onScheduled(Duration queued) {
        GenerateStream.this.onScheduled(queued);
      }
    };
  }

  /**
   * Holds the echoed prompt text back as every choice's first delta (completions {@code echo}); it
   * follows {@code Accepted}, so the gateway's first-token timeout still starts at prefill.
   */
  void echo(String promptText) {
    List<GenerateResponse> e = new ArrayList<>(choices.length);
    for (int i = 0; i < choices.length; i++) {
      e.add(
          GenerateResponse.newBuilder()
              .setDelta(Delta.newBuilder().setChoiceIndex(i).setText(promptText))
              .build());
    }
    echo = e;
    sentDelta = true;
  }

  /**
   * The first choice scheduled for prefill: tells the client once (n choices send one), before any
   * delta.
   */
  @Override
  public void onScheduled(Duration queued) {
    if (accepted || terminated) {
      return;
    }
    accepted = true;
    queue.add(
        GenerateResponse.newBuilder()
            .setAccepted(Accepted.newBuilder().setQueuedMs(Math.max(0, queued.toMillis())))
            .build());
    flushEcho();
    drain();
  }

  private void flushEcho() {
    if (echo != null) {
      queue.addAll(echo);
      echo = null;
    }
  }

  /** Messages waiting for the client (for tests and diagnostics). */
  int numBuffered() {
    return queue.size();
  }

  @Override
  public void onOutput(RequestOutput o) {
    onOutput(0, o);
  }

  private void onOutput(int index, RequestOutput o) {
    if (terminated) {
      return;
    }
    flushEcho();
    ChoiceOutput choice = choices[index];
    List<OutputEvent> events = new ArrayList<>(choice.push(o.text(), o.newTokenIds().length));
    FinishInfo f = o.finish();
    if (f != null) {
      events.addAll(choice.finish());
    }
    boolean hasTokens = o.newTokenIds().length > 0;
    if (!events.isEmpty()
        || (hasTokens
            && (request.getReturnTokenIds()
                || request.getSampling().getLogprobs()
                || request.getSampling().getTopLogprobs() > 0))) {
      queue.add(GenerateResponse.newBuilder().setDelta(delta(index, o, events)).build());
      sentDelta = true;
    }
    if (f != null) {
      finishes[index] = choiceFinish(index, f, choice);
      finishInfos[index] = f;
      numFinished++;
      if (f.reason() == org.glmmaas.worker.scheduler.FinishReason.ERROR
          && !sentDelta
          && choices.length == 1) {
        terminated = true;
        queue.add(
            new GlmStatusException(
                    ErrorReason.INTERNAL,
                    f.errorMessage() == null ? "the request failed" : f.errorMessage())
                .toStatus());
      } else if (numFinished == choices.length) {
        terminated = true;
        queue.add(GenerateResponse.newBuilder().setFinished(finished()).build());
        queue.add(COMPLETE);
      }
    }
    drain();
  }

  private static ChoiceFinish choiceFinish(int index, FinishInfo f, ChoiceOutput choice) {
    org.glmmaas.proto.inference.v1.FinishReason reason =
        org.glmmaas.proto.inference.v1.FinishReason.valueOf(f.reason().name());
    if (choice.numToolCalls() > 0 && f.reason() == org.glmmaas.worker.scheduler.FinishReason.STOP) {
      reason = org.glmmaas.proto.inference.v1.FinishReason.TOOL_CALLS;
    }
    ChoiceFinish.Builder b =
        ChoiceFinish.newBuilder()
            .setIndex(index)
            .setFinishReason(reason)
            .setCompletionTokens(f.numCompletionTokens())
            .setReasoningTokens(choice.numReasoningTokens());
    if (f.matchedStop() != null) {
      b.setMatchedStop(f.matchedStop());
    }
    return b.build();
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

  private Delta delta(int index, RequestOutput o, List<OutputEvent> events) {
    Delta.Builder d = Delta.newBuilder().setChoiceIndex(index);
    StringBuilder text = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    for (OutputEvent e : events) {
      switch (e) {
        case OutputEvent.Text t -> text.append(t.text());
        case OutputEvent.Reasoning r -> reasoning.append(r.text());
        case OutputEvent.CallStart c ->
            d.addToolCalls(
                ToolCallDelta.newBuilder().setIndex(c.index()).setId(c.id()).setName(c.name()));
        case OutputEvent.CallArguments a -> {
          int last = d.getToolCallsCount() - 1;
          if (last >= 0 && d.getToolCalls(last).getIndex() == a.index()) {
            ToolCallDelta prev = d.getToolCalls(last);
            d.setToolCalls(
                last, prev.toBuilder().setArguments(prev.getArguments() + a.arguments()));
          } else {
            d.addToolCalls(
                ToolCallDelta.newBuilder().setIndex(a.index()).setArguments(a.arguments()));
          }
        }
      }
    }
    d.setText(text.toString()).setReasoningText(reasoning.toString());
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

  private Finished finished() {
    FinishInfo f = finishInfos[0];
    int completion = 0;
    int reasoning = 0;
    int preemptions = 0;
    Duration total = Duration.ZERO;
    for (int i = 0; i < finishInfos.length; i++) {
      completion += finishInfos[i].numCompletionTokens();
      reasoning += finishes[i].getReasoningTokens();
      preemptions += finishInfos[i].timings().numPreemptions();
      if (finishInfos[i].timings().total().compareTo(total) > 0) {
        total = finishInfos[i].timings().total();
      }
    }
    RequestTimings t = f.timings();
    Finished.Builder b =
        Finished.newBuilder()
            .setFinishReason(finishes[0].getFinishReason())
            .setUsage(
                Usage.newBuilder()
                    .setPromptTokens(f.numPromptTokens())
                    .setCachedTokens(f.numCachedTokens())
                    .setCompletionTokens(completion)
                    .setTotalTokens(f.numPromptTokens() + completion)
                    .setReasoningTokens(reasoning))
            .setTimings(
                Timings.newBuilder()
                    .setQueueMs(ms(t.queue()))
                    .setPrefillMs(ms(t.prefill()))
                    .setDecodeMs(ms(t.decode()))
                    .setTtftMs(ms(t.timeToFirstToken()))
                    .setNumPreemptions(preemptions)
                    .setTotalMs(ms(total)))
            .setWorkerId(workerId);
    for (ChoiceFinish c : finishes) {
      b.addChoices(c);
    }
    if (finishes[0].getMatchedStop().length() > 0) {
      b.setMatchedStop(finishes[0].getMatchedStop());
    }
    for (FinishInfo i : finishInfos) {
      if (i.errorMessage() != null) {
        b.setErrorMessage(i.errorMessage());
        break;
      }
    }
    return b.build();
  }

  private static double ms(Duration d) {
    return d.toNanos() / 1e6;
  }
}
