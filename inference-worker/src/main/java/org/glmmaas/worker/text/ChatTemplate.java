package org.glmmaas.worker.text;

import java.util.List;

/** A model's chat template (Jinja, from {@code tokenizer.chat_template}, or the GLM-4 fallback). */
public interface ChatTemplate {

  /**
   * Renders a chat, remembering which chars are user data.
   *
   * @throws TemplateException when the template fails to render (a clear message, never a crash)
   */
  RenderedChat render(ChatInput input, boolean addGenerationPrompt);

  /** The template's source text ("" when it has none). */
  default String source() {
    return "";
  }

  /**
   * @throws TemplateException when the template fails to render (a clear message, never a crash)
   */
  default String render(List<ChatTurn> messages, boolean addGenerationPrompt) {
    return render(ChatInput.of(messages), addGenerationPrompt).text();
  }
}
