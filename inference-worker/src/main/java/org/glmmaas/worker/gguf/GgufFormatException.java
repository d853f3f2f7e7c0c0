package org.glmmaas.worker.gguf;

/** A file that is not valid GGUF v2/v3, with the byte offset where reading failed. */
public class GgufFormatException extends RuntimeException {

  public GgufFormatException(String message) {
    super(message);
  }
}
