package org.glmmaas.worker.chat;

import java.util.Set;
import java.util.function.Consumer;

/**
 * Recognises a model family's tool-call markup in generated text, incrementally. Pluggable: one
 * implementation per family, named after it ({@link #family()}); {@link ToolCallParsers} picks one
 * from the model's chat template.
 */
public interface ToolCallParser {

  /** The model family whose markup this parses, e.g. "glm-4-chat". */
  String family();

  /**
   * One choice's parse.
   *
   * @param toolNames the functions offered (calls to other names are left as text where the
   *     family's markup cannot tell them from text)
   * @param parallel false: at most one call (later calls are dropped)
   */
  Session newSession(Set<String> toolNames, boolean parallel);

  /**
   * The text the grammar forces before a call's arguments (JSON) to call {@code name}, and the text
   * after them.
   */
  String callPrefix(String name);

  String callSuffix();

  /** One choice's incremental parse. Not thread-safe. */
  interface Session {

    /** Takes the next generated text; emits what is known so far. */
    void push(String text, Consumer<OutputEvent> out);

    /** The output ended: emits what was held back. */
    void finish(Consumer<OutputEvent> out);

    /** Calls recognised so far. */
    int numCalls();
  }
}
