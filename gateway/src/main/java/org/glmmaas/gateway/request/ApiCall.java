package org.glmmaas.gateway.request;

import java.util.List;
import org.glmmaas.proto.inference.v1.GenerateRequest;

/** What admission needs of a parsed call, whatever its endpoint. */
public interface ApiCall {

  /** Model id as the client named it. */
  String model();

  /** Answer as server-sent events. */
  boolean stream();

  /** The client's own request id (used as the response id), or null. */
  String requestId();

  /** End-user id the client passed (BigModel user_id, OpenAI user), or null. */
  String userId();

  /** Choices generated per prompt, at least 1. */
  int n();

  /** The client's max_tokens per choice, or null for the gateway's default. */
  Integer maxTokens();

  /** Prompt tokens of all prompts together, estimated high before the worker counts them. */
  int promptTokenBound();

  /**
   * What the workers get, one per prompt, without request/tenant/key ids (admission adds them).
   * Empty for calls that generate nothing.
   */
  List<GenerateRequest> prompts();

  /** Text hashed with the tenant for prefix affinity: the start of the (first) prompt. */
  String affinityText(int budgetChars);

  /** False for calls that only tokenize or embed: no max_tokens checks, no completion tokens. */
  default boolean generates() {
    return true;
  }

  /**
   * Whether billing holds a reservation before the call reaches a worker: every generating call,
   * and embeddings (their prompt tokens, bounded from above); not the tokenizer endpoints (free).
   */
  default boolean billed() {
    return generates();
  }
}
