package org.glmmaas.knowledge.support;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.proto.inference.v1.EmbedInput;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.EmbedResponse;
import org.glmmaas.proto.inference.v1.Embedding;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.ListModelsRequest;
import org.glmmaas.proto.inference.v1.ListModelsResponse;
import org.glmmaas.proto.inference.v1.ModelInfo;

/**
 * An embedding worker for process-level tests: ListModels names one embedding model; Embed answers
 * {@link FakeEmbedder#vector} per input after {@code delayMs}. Records the request ids it answered.
 */
public final class FakeEmbedWorker implements AutoCloseable {

  public static final String MODEL = "fake-embed";

  public final Set<String> requestIds = ConcurrentHashMap.newKeySet();
  public final AtomicInteger calls = new AtomicInteger();
  public volatile long delayMs;
  private final Server server;

  public FakeEmbedWorker() throws IOException {
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(new Service())
            .build()
            .start();
  }

  public String address() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
  }

  private final class Service extends InferenceServiceGrpc.InferenceServiceImplBase {
    @Override
    public void listModels(ListModelsRequest r, StreamObserver<ListModelsResponse> out) {
      out.onNext(
          ListModelsResponse.newBuilder()
              .addModels(
                  ModelInfo.newBuilder()
                      .setId(MODEL)
                      .setKind("embedding")
                      .setEmbeddingDimensions(FakeEmbedder.DIMENSIONS))
              .build());
      out.onCompleted();
    }

    @Override
    public void embed(EmbedRequest r, StreamObserver<EmbedResponse> out) {
      calls.incrementAndGet();
      try {
        Thread.sleep(delayMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      requestIds.add(r.getRequestId());
      EmbedResponse.Builder b = EmbedResponse.newBuilder().setModel(MODEL);
      int tokens = 0;
      for (EmbedInput in : r.getInputsList()) {
        float[] v = FakeEmbedder.vector(in.getText());
        Embedding.Builder e = Embedding.newBuilder().setNumTokens(in.getText().length() + 2);
        for (float x : v) {
          e.addValues(x);
        }
        b.addEmbeddings(e);
        tokens += in.getText().length() + 2;
      }
      out.onNext(b.setPromptTokens(tokens).build());
      out.onCompleted();
    }
  }
}
