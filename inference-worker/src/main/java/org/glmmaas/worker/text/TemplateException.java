package org.glmmaas.worker.text;

/** A chat template that cannot render these messages; the message says why. */
public class TemplateException extends IllegalArgumentException {

  public TemplateException(String message, Throwable cause) {
    super(message, cause);
  }
}
