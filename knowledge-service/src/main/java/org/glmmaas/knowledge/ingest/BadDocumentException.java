package org.glmmaas.knowledge.ingest;

/** A document refused at upload: the message says why and is shown to the client (4xx). */
public final class BadDocumentException extends RuntimeException {

  /** Too large (413) rather than malformed (400). */
  private final boolean tooLarge;

  public BadDocumentException(String message) {
    this(message, false);
  }

  public BadDocumentException(String message, boolean tooLarge) {
    super(message, null, false, false);
    this.tooLarge = tooLarge;
  }

  public boolean tooLarge() {
    return tooLarge;
  }
}
