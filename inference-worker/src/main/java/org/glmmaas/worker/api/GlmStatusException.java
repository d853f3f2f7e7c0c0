package org.glmmaas.worker.api;

import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.glmmaas.proto.common.v1.ErrorReason;

/**
 * An error of the shared taxonomy, mapped once to a gRPC status carrying a google.rpc.ErrorInfo
 * (domain "glm-maas", reason = the ErrorReason name).
 */
public final class GlmStatusException extends RuntimeException {

  public static final String DOMAIN = "glm-maas";

  private final ErrorReason reason;
  private final java.util.Map<String, String> metadata;

  public GlmStatusException(ErrorReason reason, String message) {
    this(reason, message, java.util.Map.of());
  }

  /**
   * @param metadata ErrorInfo metadata, e.g. {@code param}: the request field at fault (the gateway
   *     names it in its 400)
   */
  public GlmStatusException(
      ErrorReason reason, String message, java.util.Map<String, String> metadata) {
    super(message);
    this.reason = reason;
    this.metadata = java.util.Map.copyOf(metadata);
  }

  /** INVALID_REQUEST naming the request field at fault ({@code param} metadata). */
  public static GlmStatusException invalidParam(
      String param, String message, java.util.Map<String, String> extra) {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>(extra);
    m.put("param", param);
    return new GlmStatusException(ErrorReason.INVALID_REQUEST, message, m);
  }

  /** INVALID_REQUEST naming the request field at fault ({@code param} metadata). */
  public static GlmStatusException invalidParam(String param, String message) {
    return invalidParam(param, message, java.util.Map.of());
  }

  public java.util.Map<String, String> metadata() {
    return metadata;
  }

  public ErrorReason reason() {
    return reason;
  }

  public static GlmStatusException invalid(String message) {
    return new GlmStatusException(ErrorReason.INVALID_REQUEST, message);
  }

  public StatusRuntimeException toStatus() {
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(code(reason).getNumber())
            .setMessage(getMessage())
            .addDetails(
                com.google.protobuf.Any.pack(
                    ErrorInfo.newBuilder()
                        .setReason(reason.name())
                        .setDomain(DOMAIN)
                        .putAllMetadata(metadata)
                        .build()))
            .build();
    return StatusProto.toStatusRuntimeException(status);
  }

  static Code code(ErrorReason reason) {
    return switch (reason) {
      case INVALID_REQUEST, CONTEXT_LENGTH_EXCEEDED -> Code.INVALID_ARGUMENT;
      case UNAUTHENTICATED -> Code.UNAUTHENTICATED;
      case PERMISSION_DENIED -> Code.PERMISSION_DENIED;
      case MODEL_NOT_FOUND -> Code.NOT_FOUND;
      case RATE_LIMITED, INSUFFICIENT_BALANCE, OVERLOADED -> Code.RESOURCE_EXHAUSTED;
      case UNAVAILABLE -> Code.UNAVAILABLE;
      default -> Code.INTERNAL;
    };
  }
}
