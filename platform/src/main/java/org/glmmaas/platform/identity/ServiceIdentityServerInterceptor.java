package org.glmmaas.platform.identity;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Refuses every call that does not carry a valid {@link ServiceIdentity} token with {@code
 * UNAUTHENTICATED}, before the service sees it.
 */
public final class ServiceIdentityServerInterceptor implements ServerInterceptor {

  private final ServiceIdentity identity;

  public ServiceIdentityServerInterceptor(ServiceIdentity identity) {
    this.identity = identity;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    try {
      identity.verify(
          headers.get(ServiceIdentity.HEADER), call.getMethodDescriptor().getFullMethodName());
    } catch (ServiceIdentity.InvalidTokenException e) {
      call.close(Status.UNAUTHENTICATED.withDescription(e.getMessage()), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
