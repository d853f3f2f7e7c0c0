package org.glmmaas.worker.chat;

/** What a choice's output text turns into: content, reasoning, or tool-call fragments. */
public sealed interface OutputEvent {

  /** Answer text. */
  record Text(String text) implements OutputEvent {}

  /** Reasoning text (inside {@code <think>…</think>}). */
  record Reasoning(String text) implements OutputEvent {}

  /** A tool call begins: its index within the choice, id and function name. */
  record CallStart(int index, String id, String name) implements OutputEvent {}

  /** The next piece of a call's arguments (JSON object text, concatenated in order). */
  record CallArguments(int index, String arguments) implements OutputEvent {}
}
