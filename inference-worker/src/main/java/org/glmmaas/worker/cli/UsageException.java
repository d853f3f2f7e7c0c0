package org.glmmaas.worker.cli;

/** A command line the command cannot accept: an unknown option, a missing or bad value. */
public class UsageException extends RuntimeException {

  public UsageException(String message) {
    super(message);
  }
}
