package org.glmmaas.worker.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.IntPredicate;
import org.glmmaas.worker.grammar.TokenConstraint;
import org.glmmaas.worker.kvcache.BlockTable;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.sample.SamplingConfig;
import org.glmmaas.worker.text.StreamDecoder;

/**
 * One generation request as the scheduler tracks it: its tokens (prompt, then generated), how many
 * of them the engine has computed, its KV block table, status and timings. Mutated only on the
 * engine thread, except {@link #cancel}, which any thread may call.
 */
public final class Request {

  private final String requestId;
  private final int numPromptTokens;
  private final SamplingConfig sampling;
  private final Sampler sampler;
  private final StreamDecoder decoder;
  private final IntPredicate endOfGeneration;
  private final int priority;
  private final Instant arrivalTime;
  private final Instant deadline;
  private final RequestMetadata metadata;
  private final RequestOutputSink sink;
  private final BlockTable blockTable;

  private int[] tokens;
  private int numTokens;
  long arrivalSeq;
  int numComputedTokens;
  int numCachedTokens = -1;
  int numPreemptions;
  boolean consumedEngineWork;
  RequestStatus status = RequestStatus.WAITING;
  Instant firstScheduled;
  Instant prefillEnd;
  Instant firstToken;
  Instant lastToken;
  private volatile FinishReason cancelReason;
  private ChoiceGroup group;
  private int choiceIndex;
  private TokenConstraint constraint;
  private long[] maskWords;

  /**
   * @param promptTokenIds the prompt (not empty)
   * @param sampling validated parameters; {@code maxTokens} must be >= 1
   * @param sampler this request's sampler (already fed the prompt tokens if it penalises them)
   * @param decoder this request's stream decoder
   * @param endOfGeneration the model's end-of-generation ids
   * @param priority lower runs first
   * @param arrivalTime when the request arrived
   * @param deadline when it must end, or null
   */
  public Request(
      String requestId,
      int[] promptTokenIds,
      SamplingConfig sampling,
      Sampler sampler,
      StreamDecoder decoder,
      IntPredicate endOfGeneration,
      int priority,
      Instant arrivalTime,
      Instant deadline,
      RequestMetadata metadata,
      RequestOutputSink sink) {
    this.requestId = Objects.requireNonNull(requestId, "requestId");
    if (promptTokenIds.length == 0) {
      throw new IllegalArgumentException("the prompt is empty");
    }
    if (sampling.maxTokens() < 1) {
      throw new IllegalArgumentException("max_tokens must be >= 1, got " + sampling.maxTokens());
    }
    this.numPromptTokens = promptTokenIds.length;
    this.tokens =
        Arrays.copyOf(promptTokenIds, promptTokenIds.length + Math.min(sampling.maxTokens(), 256));
    this.numTokens = promptTokenIds.length;
    this.sampling = sampling;
    this.sampler = Objects.requireNonNull(sampler, "sampler");
    this.decoder = Objects.requireNonNull(decoder, "decoder");
    this.endOfGeneration = Objects.requireNonNull(endOfGeneration, "endOfGeneration");
    this.priority = priority;
    this.arrivalTime = Objects.requireNonNull(arrivalTime, "arrivalTime");
    this.deadline = deadline;
    this.metadata = Objects.requireNonNull(metadata, "metadata");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.blockTable = new BlockTable(metadata.tenantId());
  }

  public String requestId() {
    return requestId;
  }

  public int numPromptTokens() {
    return numPromptTokens;
  }

  /** Prompt plus generated tokens so far. */
  public int numTokens() {
    return numTokens;
  }

  public int numOutputTokens() {
    return numTokens - numPromptTokens;
  }

  /** Tokens whose K/V the engine holds for this request. */
  public int numComputedTokens() {
    return numComputedTokens;
  }

  /** Prompt tokens served from the prefix cache at first admission (0 before admission). */
  public int numCachedTokens() {
    return Math.max(0, numCachedTokens);
  }

  public int numPreemptions() {
    return numPreemptions;
  }

  public RequestStatus status() {
    return status;
  }

  public int priority() {
    return priority;
  }

  public Instant arrivalTime() {
    return arrivalTime;
  }

  public Instant deadline() {
    return deadline;
  }

  public RequestMetadata metadata() {
    return metadata;
  }

  public SamplingConfig sampling() {
    return sampling;
  }

  public BlockTable blockTable() {
    return blockTable;
  }

  /** The generated token ids so far. */
  public int[] outputTokenIds() {
    return Arrays.copyOfRange(tokens, numPromptTokens, numTokens);
  }

  /**
   * Makes this request choice {@code index} of {@code group} (before it is submitted). Choice 0
   * owns the prompt; the others fork from it (same prompt tokens).
   */
  public void joinGroup(ChoiceGroup group, int index) {
    if (index < 0 || index >= group.numChoices()) {
      throw new IllegalArgumentException("choice index " + index + " out of range");
    }
    this.group = group;
    this.choiceIndex = index;
    if (index == 0) {
      group.setParent(this);
    }
  }

  /** The group of choices this request belongs to, or null (n = 1). */
  public ChoiceGroup group() {
    return group;
  }

  public int choiceIndex() {
    return choiceIndex;
  }

  /**
   * Constrains every generated token (constrained decoding): the sampler draws only among the
   * tokens {@code constraint} allows, which then advances; end of generation is allowed only where
   * the constraint is complete. Set before the request is submitted.
   */
  public void constrain(TokenConstraint constraint) {
    if (status != RequestStatus.WAITING || numOutputTokens() > 0) {
      throw new IllegalStateException("constrain a request before it is submitted");
    }
    this.constraint = constraint;
  }

  /** The constraint on its tokens, or null. */
  public TokenConstraint constraint() {
    return constraint;
  }

  long[] maskWords(int vocabSize) {
    if (maskWords == null) {
      maskWords = new long[TokenConstraint.wordsFor(vocabSize)];
    }
    return maskWords;
  }

  /** Asks the scheduler to end this request at its next step (any thread; first call wins). */
  public void cancel(FinishReason reason) {
    if (cancelReason == null) {
      cancelReason = reason;
    }
  }

  FinishReason cancelReason() {
    return cancelReason;
  }

  int[] tokenArray() {
    return tokens;
  }

  Sampler sampler() {
    return sampler;
  }

  StreamDecoder decoder() {
    return decoder;
  }

  boolean isEndOfGeneration(int tokenId) {
    return endOfGeneration.test(tokenId);
  }

  RequestOutputSink sink() {
    return sink;
  }

  void appendToken(int tokenId) {
    if (numTokens == tokens.length) {
      tokens = Arrays.copyOf(tokens, tokens.length * 2);
    }
    tokens[numTokens++] = tokenId;
  }

  RequestTimings timings(Instant end) {
    Instant scheduled = firstScheduled == null ? end : firstScheduled;
    Instant prefilled = prefillEnd == null ? end : prefillEnd;
    Instant last = lastToken == null ? prefilled : lastToken;
    return new RequestTimings(
        Duration.between(arrivalTime, scheduled),
        Duration.between(scheduled, prefilled),
        Duration.between(prefilled, last).isNegative()
            ? Duration.ZERO
            : Duration.between(prefilled, last),
        firstToken == null ? Duration.ZERO : Duration.between(arrivalTime, firstToken),
        Duration.between(arrivalTime, end),
        numPreemptions);
  }
}
