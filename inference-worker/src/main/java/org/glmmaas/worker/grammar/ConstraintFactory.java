package org.glmmaas.worker.grammar;

import java.util.List;

/**
 * Builds {@link TokenConstraint}s over one model's vocabulary. One instance per loaded model;
 * thread-safe; compiled grammars (and their per-state token-mask caches) are cached per schema, so
 * a schema seen before costs nothing to compile again.
 *
 * <p>Methods that take a schema throw {@link GrammarException} naming the construct when the schema
 * is not valid JSON or uses a construct the engine does not support; the caller attaches the
 * request parameter it came from ({@link GrammarException#atParam}).
 *
 * <p>A model's factory is {@code TextModel.constraints()}; the scheduler applies a request's
 * constraint ({@code Request}'s constraint) to every step of that sequence.
 */
public interface ConstraintFactory {

  /** Any JSON object ({@code response_format: {type: json_object}}). */
  TokenConstraint jsonObject();

  /** A JSON value valid against {@code schemaJson} (a JSON Schema document). */
  TokenConstraint jsonSchema(String schemaJson);

  /** Exactly the text {@code literal} (byte-exact; may span or split tokens). */
  TokenConstraint literal(String literal);

  /** Each part in turn: the next starts where the previous one is complete. */
  TokenConstraint sequence(List<TokenConstraint> parts);

  /** Any one of the alternatives (decided by the tokens generated, not up front). */
  TokenConstraint anyOf(List<TokenConstraint> alternatives);

  /**
   * Computes the token masks of {@code c}'s current position now, on the calling thread (e.g. at a
   * request's admission) instead of on the engine thread at the first step. Optional.
   */
  default void prime(TokenConstraint c) {}

  /**
   * A forced tool call: {@code prefixLiteral}, then a JSON value valid against {@code schemaJson},
   * then {@code suffixLiteral}; empty literals are skipped.
   */
  default TokenConstraint literalThenJson(
      String prefixLiteral, String schemaJson, String suffixLiteral) {
    return sequence(
        List.of(literal(prefixLiteral), jsonSchema(schemaJson), literal(suffixLiteral)));
  }
}
