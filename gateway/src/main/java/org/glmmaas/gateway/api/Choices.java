package org.glmmaas.gateway.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.glmmaas.gateway.dialect.Dialect.ChoiceResult;
import org.glmmaas.gateway.dialect.Dialect.ChunkDelta;
import org.glmmaas.proto.inference.v1.ChoiceFinish;
import org.glmmaas.proto.inference.v1.Delta;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.TokenLogprob;
import org.glmmaas.proto.inference.v1.ToolCall;
import org.glmmaas.proto.inference.v1.ToolCallDelta;

/**
 * The choices of one worker stream as they arrive: text, reasoning, tool calls assembled from their
 * fragments, logprobs. Turns each delta into what to stream now and, at the end, into whole
 * choices. Applies two response options: {@code parallel_tool_calls: false} (a choice keeps only
 * its first call) and BigModel without {@code tool_stream} (tool calls are held back and streamed
 * whole, just before the finish).
 */
final class Choices {

  private static final String ID_CHARS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  private final int n;
  private final boolean logprobs;
  private final boolean singleToolCall;
  private final boolean wholeToolCalls;
  private final Map<Integer, State> states = new TreeMap<>();

  /**
   * @param n choices asked for (each gets a result even if it generated nothing)
   * @param logprobs keep logprobs (the client asked for them)
   * @param singleToolCall parallel_tool_calls false: calls after a choice's first are dropped
   * @param wholeToolCalls stream each tool call whole at the end instead of in fragments
   */
  Choices(int n, boolean logprobs, boolean singleToolCall, boolean wholeToolCalls) {
    this.n = n;
    this.logprobs = logprobs;
    this.singleToolCall = singleToolCall;
    this.wholeToolCalls = wholeToolCalls;
    for (int i = 0; i < n; i++) {
      states.put(i, new State());
    }
  }

  private static final class State {
    final StringBuilder content = new StringBuilder();
    final StringBuilder reasoning = new StringBuilder();
    final List<ToolCall.Builder> calls = new ArrayList<>();
    final List<TokenLogprob> logprobs = new ArrayList<>();
  }

  /** Takes a delta; returns what to stream for it (possibly empty: nothing to send). */
  ChunkDelta accept(Delta d) {
    State s = states.computeIfAbsent(d.getChoiceIndex(), i -> new State());
    s.content.append(d.getText());
    s.reasoning.append(d.getReasoningText());
    List<ToolCallDelta> fragments = new ArrayList<>(d.getToolCallsCount());
    for (ToolCallDelta f : d.getToolCallsList()) {
      ToolCallDelta kept = toolFragment(s, f);
      if (kept != null && !wholeToolCalls) {
        fragments.add(kept);
      }
    }
    List<TokenLogprob> lps = null;
    if (logprobs) {
      lps = d.getLogprobsList();
      s.logprobs.addAll(lps);
    }
    return new ChunkDelta(d.getChoiceIndex(), d.getText(), d.getReasoningText(), fragments, lps);
  }

  /** Records a fragment; returns it as streamed (with an id when the worker gave none), or null. */
  private ToolCallDelta toolFragment(State s, ToolCallDelta f) {
    int i = f.getIndex();
    if (i < 0 || (singleToolCall && i > 0)) {
      return null;
    }
    while (s.calls.size() <= i) {
      s.calls.add(null);
    }
    ToolCall.Builder c = s.calls.get(i);
    ToolCallDelta.Builder out = f.toBuilder();
    if (c == null) {
      c = ToolCall.newBuilder().setId(f.getId().isEmpty() ? newCallId() : f.getId());
      s.calls.set(i, c);
      out.setId(c.getId());
    } else {
      out.clearId();
    }
    if (!f.getName().isEmpty()) {
      c.setName(c.getName() + f.getName());
    }
    c.setArguments(c.getArguments() + f.getArguments());
    return out.build();
  }

  /** With whole tool calls: one chunk per choice that made calls, each call whole. */
  List<ChunkDelta> flush() {
    if (!wholeToolCalls) {
      return List.of();
    }
    List<ChunkDelta> out = new ArrayList<>();
    for (var e : states.entrySet()) {
      List<ToolCall> calls = calls(e.getValue());
      if (calls.isEmpty()) {
        continue;
      }
      List<ToolCallDelta> whole = new ArrayList<>(calls.size());
      for (int i = 0; i < calls.size(); i++) {
        ToolCall c = calls.get(i);
        whole.add(
            ToolCallDelta.newBuilder()
                .setIndex(i)
                .setId(c.getId())
                .setName(c.getName())
                .setArguments(c.getArguments())
                .build());
      }
      out.add(new ChunkDelta(e.getKey(), "", "", whole, logprobs ? List.of() : null));
    }
    return out;
  }

  /** Every choice, whole, with its finish from {@code f} (per choice when the worker gives it). */
  List<ChoiceResult> results(Finished f) {
    Map<Integer, FinishReason> finishes = new TreeMap<>();
    for (ChoiceFinish c : f.getChoicesList()) {
      finishes.put(c.getIndex(), c.getFinishReason());
      states.computeIfAbsent(c.getIndex(), i -> new State());
    }
    List<ChoiceResult> out = new ArrayList<>(states.size());
    for (var e : states.entrySet()) {
      State s = e.getValue();
      FinishReason reason = finishes.getOrDefault(e.getKey(), f.getFinishReason());
      List<ToolCall> calls = calls(s);
      if (reason == FinishReason.TOOL_CALLS && calls.isEmpty()) {
        reason = FinishReason.STOP; // every call was dropped (there were none to keep)
      }
      out.add(
          new ChoiceResult(
              e.getKey(),
              s.content.toString(),
              s.reasoning.toString(),
              calls,
              logprobs ? List.copyOf(s.logprobs) : null,
              reason));
    }
    return out;
  }

  int n() {
    return n;
  }

  private static List<ToolCall> calls(State s) {
    List<ToolCall> out = new ArrayList<>(s.calls.size());
    for (ToolCall.Builder b : s.calls) {
      if (b != null) {
        out.add(b.build());
      }
    }
    return out;
  }

  /** "call_" and 24 letters and digits, as OpenAI's ids look. */
  static String newCallId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    StringBuilder sb = new StringBuilder("call_");
    for (int i = 0; i < 24; i++) {
      sb.append(ID_CHARS.charAt(r.nextInt(ID_CHARS.length())));
    }
    return sb.toString();
  }
}
