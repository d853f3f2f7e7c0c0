package org.glmmaas.auth;

/** A refused admin operation; the admin API maps {@link Kind} to 400/404/409. */
public final class DomainException extends RuntimeException {

  /** Why. */
  public enum Kind {
    INVALID_REQUEST,
    NOT_FOUND,
    CONFLICT
  }

  private final Kind kind;

  public DomainException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  public static DomainException notFound(String what, String id) {
    return new DomainException(Kind.NOT_FOUND, what + " '" + id + "' not found");
  }

  public static DomainException invalid(String message) {
    return new DomainException(Kind.INVALID_REQUEST, message);
  }
}
