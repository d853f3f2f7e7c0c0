package org.glmmaas.worker.scheduler;

import java.nio.FloatBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import org.glmmaas.worker.engine.ForwardBatch;
import org.glmmaas.worker.grammar.TokenConstraint;
import org.glmmaas.worker.kvcache.BlockTable;
import org.glmmaas.worker.kvcache.KvCacheManager;
import org.glmmaas.worker.kvcache.PrefixHit;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.scheduler.SchedulerOutput.ScheduledRequest;

/**
 * Iteration-level continuous batching (vLLM v1 style): every {@link #schedule()} re-forms the batch
 * under {@code maxNumBatchedTokens} and {@code maxNumSeqs}. Running sequences decode one token each
 * first, then unfinished prefills continue in chunks, then waiting requests are admitted (priority,
 * then FCFS) while the budget and KV blocks last. When blocks run out, the newest running sequence
 * is preempted: its blocks are freed and it is recomputed later. {@link #update} samples the new
 * tokens, applies stop conditions, and hands outputs to each request's sink. Single-threaded: the
 * engine thread calls everything.
 */
public final class Scheduler {

  private final SchedulerConfig config;
  private final KvCacheManager kvCache;
  private final Clock clock;
  private final int vocabSize;
  private final SchedulerObserver observer;
  private final FinishListener finishListener;
  private final PriorityQueue<Request> waiting =
      new PriorityQueue<>(
          Comparator.comparingInt(Request::priority).thenComparingLong(r -> r.arrivalSeq));

  /** In admission order: the last is the newest. */
  private final List<Request> running = new ArrayList<>();

  /** Choices waiting for their choice 0 to finish its prompt, then fork from it. */
  private final List<Request> pendingForks = new ArrayList<>();

  private long nextArrivalSeq;
  private long numPreemptionsTotal;

  /**
   * Called once per finished request, just before its sink gets the last output (usage publishing).
   */
  @FunctionalInterface
  public interface FinishListener {
    void onFinished(Request request, FinishInfo finish, Instant end);
  }

  public Scheduler(
      SchedulerConfig config,
      KvCacheManager kvCache,
      Clock clock,
      int vocabSize,
      SchedulerObserver observer,
      FinishListener finishListener) {
    this.config = config;
    this.kvCache = kvCache;
    this.clock = clock;
    this.vocabSize = vocabSize;
    this.observer = observer == null ? SchedulerObserver.NONE : observer;
    this.finishListener = finishListener == null ? (r, f, e) -> {} : finishListener;
    int capacity = kvCache.pool().numBlocks() * kvCache.blockSize();
    if (config.maxModelLen() > capacity) {
      throw new IllegalArgumentException(
          "max-model-len "
              + config.maxModelLen()
              + " exceeds the KV pool's capacity of "
              + capacity
              + " tokens; raise kv-cache.memory");
    }
  }

  public SchedulerConfig config() {
    return config;
  }

  public KvCacheManager kvCache() {
    return kvCache;
  }

  /**
   * Queues a request. One that cannot fit max-model-len (callers validate first) ends at once with
   * ERROR.
   */
  public void add(Request request) {
    request.arrivalSeq = nextArrivalSeq++;
    if (request.numPromptTokens() + request.sampling().maxTokens() > config.maxModelLen()) {
      request.status = RequestStatus.WAITING;
      finish(
          request,
          FinishReason.ERROR,
          null,
          "prompt ("
              + request.numPromptTokens()
              + " tokens) + max_tokens ("
              + request.sampling().maxTokens()
              + ") exceeds max-model-len "
              + config.maxModelLen(),
          new int[0],
          List.of(),
          "",
          clock.instant());
      return;
    }
    request.status = RequestStatus.WAITING;
    Request parent = request.group() == null ? null : request.group().parent();
    if (parent != null
        && parent != request
        && parent.prefillEnd == null
        && parent.status != RequestStatus.FINISHED) {
      pendingForks.add(request);
      return;
    }
    waiting.add(request);
  }

  /**
   * Choice 0's prompt is computed: its other choices share its full prompt blocks and join the
   * queue (or, when {@code share} is false, join it to compute the prompt themselves).
   */
  private void releaseForks(Request parent, boolean share) {
    if (pendingForks.isEmpty()) {
      return;
    }
    for (Iterator<Request> it = pendingForks.iterator(); it.hasNext(); ) {
      Request child = it.next();
      if (child.group() != parent.group()) {
        continue;
      }
      it.remove();
      if (share) {
        int numShared =
            Math.min(
                parent.numComputedTokens / kvCache.blockSize(),
                (child.numPromptTokens() - 1) / kvCache.blockSize());
        kvCache.fork(parent.blockTable(), child.blockTable(), numShared);
        child.numComputedTokens = numShared * kvCache.blockSize();
      }
      waiting.add(child);
    }
  }

  public int numRunning() {
    return running.size();
  }

  public int numWaiting() {
    return waiting.size();
  }

  public boolean hasWork() {
    return !running.isEmpty() || !waiting.isEmpty() || !pendingForks.isEmpty();
  }

  public long numPreemptionsTotal() {
    return numPreemptionsTotal;
  }

  /** Forms the next step. Cancelled and expired requests leave first. */
  public SchedulerOutput schedule() {
    Instant now = clock.instant();
    dropCancelledAndExpired(now);
    long queries = kvCache.numQueries();
    long hits = kvCache.numHits();

    List<ScheduledRequest> plan = new ArrayList<>();
    int budget = config.maxNumBatchedTokens();
    int numPreempted = 0;

    // Running sequences: decodes first, so a long prefill never stalls them; then prefill chunks.
    List<Request> order = new ArrayList<>(running.size());
    for (Request r : running) {
      if (r.numTokens() - r.numComputedTokens == 1) {
        order.add(r);
      }
    }
    for (Request r : running) {
      if (r.numTokens() - r.numComputedTokens != 1) {
        order.add(r);
      }
    }
    List<Request> scheduledNow = new ArrayList<>();
    for (int i = 0; i < order.size() && budget > 0; i++) {
      Request r = order.get(i);
      if (r.status != RequestStatus.RUNNING) {
        continue; // preempted earlier in this loop
      }
      int numNew = Math.min(r.numTokens() - r.numComputedTokens, budget);
      boolean allocated;
      while (!(allocated =
          kvCache.allocateSlots(r.blockTable(), r.numComputedTokens, numNew, PrefixHit.NONE))) {
        Request victim = newestNotScheduled(scheduledNow);
        preempt(victim, now);
        numPreempted++;
        if (victim == r) {
          break;
        }
      }
      if (!allocated) {
        continue;
      }
      scheduledNow.add(r);
      plan.add(new ScheduledRequest(r, numNew, -1));
      budget -= numNew;
    }

    if (numPreempted == 0) {
      budget = admitWaiting(plan, scheduledNow, budget, now);
    }
    observer.onPrefixLookup(kvCache.numQueries() - queries, kvCache.numHits() - hits);
    return new SchedulerOutput(
        plan.isEmpty() ? List.of() : withLogitRows(plan), buildBatch(plan), numPreempted);
  }

  private int admitWaiting(
      List<ScheduledRequest> plan, List<Request> scheduledNow, int budget, Instant now) {
    while (budget > 0 && running.size() < config.maxNumSeqs() && !waiting.isEmpty()) {
      Request r = waiting.peek();
      PrefixHit hit =
          r.numComputedTokens == 0
              ? kvCache.findCachedPrefix(r.blockTable().salt(), r.tokenArray(), r.numTokens())
              : PrefixHit.NONE;
      // a forked choice arrives with its shared prompt blocks already attached
      int computed = r.numComputedTokens == 0 ? hit.numCachedTokens() : r.numComputedTokens;
      int numNew = Math.min(r.numTokens() - computed, budget);
      if (!kvCache.allocateSlots(r.blockTable(), computed, numNew, hit)) {
        break; // FCFS: no one overtakes the head of the queue for blocks
      }
      waiting.poll();
      r.numComputedTokens = computed;
      if (r.numCachedTokens < 0) {
        r.numCachedTokens = Math.min(computed, r.numPromptTokens());
      }
      if (r.firstScheduled == null) {
        r.firstScheduled = now;
        r.sink().onScheduled(java.time.Duration.between(r.arrivalTime(), now));
      }
      r.status = RequestStatus.RUNNING;
      running.add(r);
      scheduledNow.add(r);
      plan.add(new ScheduledRequest(r, numNew, -1));
      budget -= numNew;
    }
    return budget;
  }

  /**
   * The preemption victim: among running requests not yet scheduled in this step, the one of the
   * lowest priority (largest number: batch lines before interactive calls), the newest of those.
   */
  private Request newestNotScheduled(List<Request> scheduledNow) {
    Request victim = null;
    for (int i = running.size() - 1; i >= 0; i--) {
      Request r = running.get(i);
      if (!scheduledNow.contains(r) && (victim == null || r.priority() > victim.priority())) {
        victim = r;
      }
    }
    if (victim == null) {
      throw new IllegalStateException("no request left to preempt");
    }
    return victim;
  }

  private void preempt(Request r, Instant now) {
    running.remove(r);
    kvCache.free(r.blockTable());
    r.numComputedTokens = 0;
    r.numPreemptions++;
    numPreemptionsTotal++;
    r.status = RequestStatus.PREEMPTED;
    waiting.add(r);
    observer.onPreemption();
  }

  private static List<ScheduledRequest> withLogitRows(List<ScheduledRequest> plan) {
    List<ScheduledRequest> out = new ArrayList<>(plan.size());
    int logitIndex = 0;
    for (ScheduledRequest s : plan) {
      Request r = s.request();
      boolean completes = r.numComputedTokens + s.numNewTokens() == r.numTokens();
      out.add(new ScheduledRequest(r, s.numNewTokens(), completes ? logitIndex++ : -1));
    }
    return out;
  }

  private ForwardBatch buildBatch(List<ScheduledRequest> plan) {
    if (plan.isEmpty()) {
      return null;
    }
    int numTokens = 0;
    for (ScheduledRequest s : plan) {
      numTokens += s.numNewTokens();
    }
    int blockSize = kvCache.blockSize();
    int[] tokenIds = new int[numTokens];
    int[] seqIndex = new int[numTokens];
    int[] positions = new int[numTokens];
    int[] slots = new int[numTokens];
    int[][] tables = new int[plan.size()][];
    List<Integer> logitRows = new ArrayList<>();
    int row = 0;
    for (int seq = 0; seq < plan.size(); seq++) {
      ScheduledRequest s = plan.get(seq);
      Request r = s.request();
      BlockTable table = r.blockTable();
      tables[seq] = table.blockIds();
      int[] toks = r.tokenArray();
      for (int k = 0; k < s.numNewTokens(); k++) {
        int pos = r.numComputedTokens + k;
        tokenIds[row] = toks[pos];
        seqIndex[row] = seq;
        positions[row] = pos;
        slots[row] = table.slot(pos, blockSize);
        row++;
      }
      if (r.numComputedTokens + s.numNewTokens() == r.numTokens()) {
        logitRows.add(row - 1);
      }
    }
    return new ForwardBatch(
        tokenIds,
        seqIndex,
        positions,
        slots,
        tables,
        logitRows.stream().mapToInt(Integer::intValue).toArray());
  }

  /**
   * Applies a step's logits: advances computed counts, registers full blocks in the prefix cache,
   * samples, checks stops, and hands outputs to the requests' sinks.
   *
   * @return the outputs of this step (also delivered to the sinks)
   */
  public List<RequestOutput> update(SchedulerOutput out, FloatBuffer logits) {
    Instant now = clock.instant();
    List<RequestOutput> outputs = new ArrayList<>();
    for (ScheduledRequest s : out.scheduled()) {
      Request r = s.request();
      if (r.status != RequestStatus.RUNNING) {
        continue;
      }
      r.consumedEngineWork = true;
      r.numComputedTokens += s.numNewTokens();
      kvCache.cacheFullBlocks(r.blockTable(), r.tokenArray(), r.numComputedTokens);
      if (r.prefillEnd == null && r.numComputedTokens >= r.numPromptTokens()) {
        r.prefillEnd = now;
        releaseForks(r, true);
      }
      if (s.logitIndex() < 0) {
        continue;
      }
      outputs.add(sampleAndCheck(r, logits, s.logitIndex() * vocabSize, now));
    }
    return outputs;
  }

  private RequestOutput sampleAndCheck(Request r, FloatBuffer logits, int offset, Instant now) {
    TokenConstraint constraint = r.constraint();
    Sampler.Sample sample;
    if (constraint == null) {
      sample = r.sampler().sample(logits, offset);
    } else {
      long[] mask = r.maskWords(vocabSize);
      constraint.fillNextTokenBitmask(mask);
      sample = r.sampler().sample(logits, offset, mask, vocabSize);
    }
    int token = sample.tokenId();
    if (r.firstToken == null) {
      r.firstToken = now;
      observer.onFirstToken(java.time.Duration.between(r.arrivalTime(), now));
    } else if (r.lastToken != null) {
      observer.onInterToken(java.time.Duration.between(r.lastToken, now));
    }
    r.lastToken = now;
    r.appendToken(token);
    r.sampler().accept(token, true);
    if (constraint != null) {
      constraint.accept(token);
    }
    FinishReason reason = null;
    String matchedStop = null;
    String text = "";
    if ((!r.sampling().ignoreEos() || constraint != null) && r.isEndOfGeneration(token)) {
      // under a constraint end of generation comes only where the grammar is complete: it ends
      reason = FinishReason.STOP;
    } else {
      text = r.decoder().push(token);
      if (r.decoder().stopped()) {
        reason = FinishReason.STOP;
        matchedStop = r.decoder().matchedStop();
      }
    }
    if (reason == null
        && (r.numOutputTokens() >= r.sampling().maxTokens()
            || r.numTokens() >= config.maxModelLen())) {
      reason = FinishReason.LENGTH;
    }
    int[] ids = {token};
    List<Sampler.Sample> samples = List.of(sample);
    if (reason == null) {
      RequestOutput o = new RequestOutput(r.requestId(), ids, samples, text, null);
      deliver(r, o);
      return o;
    }
    text = text + r.decoder().flush();
    return finish(r, reason, matchedStop, null, ids, samples, text, now);
  }

  /** The engine failed on this step: every request of it ends with ERROR. */
  public List<RequestOutput> failStep(SchedulerOutput out, RuntimeException failure) {
    Instant now = clock.instant();
    List<RequestOutput> outputs = new ArrayList<>();
    String message = "engine failure: " + failure.getMessage();
    for (ScheduledRequest s : out.scheduled()) {
      Request r = s.request();
      if (r.status == RequestStatus.RUNNING) {
        r.consumedEngineWork = true;
        outputs.add(finish(r, FinishReason.ERROR, null, message, new int[0], List.of(), "", now));
      }
    }
    return outputs;
  }

  /** Ends every request with {@code reason} (drain timeout, shutdown). */
  public List<RequestOutput> abortAll(FinishReason reason) {
    Instant now = clock.instant();
    List<RequestOutput> outputs = new ArrayList<>();
    waiting.addAll(pendingForks);
    pendingForks.clear();
    for (Request r : new ArrayList<>(running)) {
      outputs.add(finish(r, reason, null, null, new int[0], List.of(), "", now));
    }
    while (!waiting.isEmpty()) {
      outputs.add(finish(waiting.peek(), reason, null, null, new int[0], List.of(), "", now));
    }
    return outputs;
  }

  private void dropCancelledAndExpired(Instant now) {
    List<Request> ended = new ArrayList<>();
    for (Request r : running) {
      if (endReason(r, now) != null) {
        ended.add(r);
      }
    }
    for (Iterator<Request> it = waiting.iterator(); it.hasNext(); ) {
      Request r = it.next();
      if (endReason(r, now) != null) {
        ended.add(r);
      }
    }
    for (Request r : pendingForks) {
      if (endReason(r, now) != null) {
        ended.add(r);
      }
    }
    for (Request r : ended) {
      finish(r, endReason(r, now), null, null, new int[0], List.of(), "", now);
    }
  }

  private static FinishReason endReason(Request r, Instant now) {
    FinishReason c = r.cancelReason();
    if (c != null) {
      return c;
    }
    if (r.deadline() != null && !now.isBefore(r.deadline())) {
      return FinishReason.DEADLINE_EXCEEDED;
    }
    return null;
  }

  private RequestOutput finish(
      Request r,
      FinishReason reason,
      String matchedStop,
      String error,
      int[] ids,
      List<Sampler.Sample> samples,
      String text,
      Instant now) {
    if (r.status == RequestStatus.RUNNING) {
      running.remove(r);
    } else if (!waiting.remove(r)) {
      pendingForks.remove(r);
    }
    kvCache.free(r.blockTable());
    if (r.group() != null && r.group().parent() == r) {
      releaseForks(r, false); // ended before its prompt was computed: the others compute it
    }
    r.status = RequestStatus.FINISHED;
    FinishInfo info =
        new FinishInfo(
            reason,
            matchedStop,
            error,
            r.numPromptTokens(),
            r.numCachedTokens(),
            r.numOutputTokens(),
            r.consumedEngineWork,
            r.timings(now));
    RequestOutput o = new RequestOutput(r.requestId(), ids, samples, text, info);
    // usage first: by the time a client sees its Finished, the event has been handed over
    if (r.group() == null) {
      finishListener.onFinished(r, info, now);
    } else {
      FinishInfo total = r.group().onFinished(r, info);
      if (total != null) {
        finishListener.onFinished(r.group().parent(), total, now);
      }
    }
    observer.onFinished(info);
    deliver(r, o);
    return o;
  }

  private static void deliver(Request r, RequestOutput o) {
    try {
      r.sink().onOutput(o);
    } catch (RuntimeException e) {
      // a broken sink must never take the engine loop down; the request's stream is gone anyway
      r.cancel(FinishReason.CANCELLED);
    }
  }
}
