package org.glmmaas.worker.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/** Carries the W3C trace id of an incoming call's {@code traceparent} header into its Context. */
public final class TraceContext implements ServerInterceptor {

  static final Metadata.Key<String> TRACEPARENT =
      Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<String> TRACE_ID = Context.key("glm-trace-id");

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String traceId = traceId(headers.get(TRACEPARENT));
    return Contexts.interceptCall(
        Context.current().withValue(TRACE_ID, traceId), call, headers, next);
  }

  /** The trace id of a "00-<32 hex>-<16 hex>-<2 hex>" header, or "" when absent or malformed. */
  static String traceId(String traceparent) {
    if (traceparent == null) {
      return "";
    }
    String[] parts = traceparent.trim().split("-");
    if (parts.length < 4
        || parts[1].length() != 32
        || !parts[1].matches("[0-9a-f]{32}")
        || parts[1].equals("00000000000000000000000000000000")) {
      return "";
    }
    return parts[1];
  }

  static String currentTraceId() {
    String id = TRACE_ID.get();
    return id == null ? "" : id;
  }
}
