package org.glmmaas.auth.grpc;

import io.grpc.stub.StreamObserver;
import org.glmmaas.auth.credential.Authenticator;
import org.glmmaas.proto.auth.v1.AuthServiceGrpc;
import org.glmmaas.proto.auth.v1.AuthenticateRequest;
import org.glmmaas.proto.auth.v1.AuthenticateResponse;
import org.springframework.stereotype.Component;

/**
 * {@code glm.auth.v1.AuthService}: a bad credential is an {@code AuthFailure}, never a gRPC error.
 */
@Component
public class AuthGrpcService extends AuthServiceGrpc.AuthServiceImplBase {

  private final Authenticator authenticator;

  public AuthGrpcService(Authenticator authenticator) {
    this.authenticator = authenticator;
  }

  @Override
  public void authenticate(
      AuthenticateRequest request, StreamObserver<AuthenticateResponse> response) {
    response.onNext(authenticator.authenticate(request.getCredential()));
    response.onCompleted();
  }
}
