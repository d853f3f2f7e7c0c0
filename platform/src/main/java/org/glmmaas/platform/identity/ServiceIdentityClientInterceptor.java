package org.glmmaas.platform.identity;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.function.Supplier;

/**
 * Adds a fresh {@link ServiceIdentity} token to every call of a channel. {@link #PROCESS_WIDE}
 * signs with the identity the service was started with (none configured: calls go out without).
 */
public final class ServiceIdentityClientInterceptor implements ClientInterceptor {

  /** Signs with {@link ServiceIdentity#processWide()}, read at each call. */
  public static final ServiceIdentityClientInterceptor PROCESS_WIDE =
      new ServiceIdentityClientInterceptor(ServiceIdentity::processWide);

  private final Supplier<ServiceIdentity> identity;

  public ServiceIdentityClientInterceptor(Supplier<ServiceIdentity> identity) {
    this.identity = identity;
  }

  /** Always signs with {@code identity}. */
  public static ServiceIdentityClientInterceptor of(ServiceIdentity identity) {
    return new ServiceIdentityClientInterceptor(() -> identity);
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(
      MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    ServiceIdentity id = identity.get();
    if (id == null) {
      return next.newCall(method, options);
    }
    return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        headers.put(ServiceIdentity.HEADER, id.token(method.getFullMethodName()));
        super.start(listener, headers);
      }
    };
  }
}
