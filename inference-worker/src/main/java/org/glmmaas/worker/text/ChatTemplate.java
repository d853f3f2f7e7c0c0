package org.glmmaas.worker.text;

import java.util.List;

/** A model's chat template (Jinja, from {@code tokenizer.chat_template}, or the GLM-4 fallback). */
public interface ChatTemplate {

  /**
   * @throws TemplateException when the template fails to render (a clear message, never a crash)
   */
  String render(List<ChatTurn> messages, boolean addGenerationPrompt);
}
