package org.glmmaas.knowledge.embed;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.platform.identity.ServiceIdentityClientInterceptor;
import org.glmmaas.proto.inference.v1.EmbedInput;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.EmbedResponse;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.ListModelsRequest;
import org.glmmaas.proto.inference.v1.ModelInfo;

/**
 * Calls Embed on the configured workers ({@code glm.knowledge.embed-targets}), every call signed
 * with this service's identity. Which workers serve a model is learnt from ListModels and refreshed
 * when a model is not found; calls rotate over the workers that serve it.
 */
public final class WorkerEmbedder implements Embedder, AutoCloseable {

  private static final long DEADLINE_S = 120;

  private final List<ManagedChannel> channels = new ArrayList<>();
  private final Map<String, List<Integer>> byModel = new ConcurrentHashMap<>();
  private final AtomicInteger next = new AtomicInteger();

  public WorkerEmbedder(List<String> targets) {
    for (String t : targets) {
      if (t.isBlank()) {
        continue;
      }
      channels.add(
          ManagedChannelBuilder.forTarget(t.strip())
              .usePlaintext()
              .maxInboundMessageSize(64 << 20)
              .intercept(ServiceIdentityClientInterceptor.PROCESS_WIDE)
              .build());
    }
  }

  @Override
  public Result embed(String model, List<String> texts, String requestId, Caller caller) {
    List<Integer> serving = serving(model);
    EmbedRequest.Builder req =
        EmbedRequest.newBuilder()
            .setRequestId(requestId)
            .setModel(model)
            .setTenantId(caller.tenantId())
            .setKeyId(caller.keyId() == null ? "" : caller.keyId())
            .setUserId(caller.userId() == null ? "" : caller.userId());
    for (String t : texts) {
      req.addInputs(EmbedInput.newBuilder().setText(t));
    }
    StatusRuntimeException last = null;
    int start = Math.floorMod(next.getAndIncrement(), serving.size());
    for (int i = 0; i < serving.size(); i++) {
      ManagedChannel ch = channels.get(serving.get((start + i) % serving.size()));
      try {
        EmbedResponse resp =
            InferenceServiceGrpc.newBlockingStub(ch)
                .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
                .embed(req.build());
        List<float[]> vectors = new ArrayList<>(resp.getEmbeddingsCount());
        for (var e : resp.getEmbeddingsList()) {
          float[] v = new float[e.getValuesCount()];
          for (int j = 0; j < v.length; j++) {
            v[j] = e.getValues(j);
          }
          vectors.add(v);
        }
        return new Result(vectors, resp.getPromptTokens());
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.INVALID_ARGUMENT
            || code == Status.Code.NOT_FOUND
            || code == Status.Code.FAILED_PRECONDITION) {
          throw new RefusedException(
              "embedding model '" + model + "' refused: " + e.getStatus().getDescription());
        }
        last = e;
      }
    }
    byModel.remove(model);
    throw new UnavailableException(
        "no worker embedded with '"
            + model
            + "': "
            + (last == null ? "none" : last.getStatus().getCode()));
  }

  /** Indexes of the channels whose worker serves {@code model} as an embedding model. */
  private List<Integer> serving(String model) {
    List<Integer> known = byModel.get(model);
    if (known != null && !known.isEmpty()) {
      return known;
    }
    List<Integer> found = new ArrayList<>();
    boolean anyAnswered = false;
    boolean chatModel = false;
    for (int i = 0; i < channels.size(); i++) {
      try {
        var models =
            InferenceServiceGrpc.newBlockingStub(channels.get(i))
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .listModels(ListModelsRequest.getDefaultInstance());
        anyAnswered = true;
        for (ModelInfo m : models.getModelsList()) {
          if (m.getId().equals(model)) {
            if ("embedding".equals(m.getKind())) {
              found.add(i);
            } else {
              chatModel = true;
            }
          }
        }
      } catch (StatusRuntimeException e) {
        // that worker is down: others may serve the model
      }
    }
    if (found.isEmpty()) {
      if (chatModel) {
        throw new RefusedException(
            "model '" + model + "' is a chat model; knowledge bases need an embedding model");
      }
      if (anyAnswered) {
        throw new RefusedException("no worker serves the embedding model '" + model + "'");
      }
      throw new UnavailableException("no embedding worker is reachable");
    }
    byModel.put(model, List.copyOf(found));
    return found;
  }

  @Override
  public void close() {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
  }
}
