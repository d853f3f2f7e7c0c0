package org.glmmaas.worker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import org.glmmaas.proto.inference.v1.EmbedInput;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.ListModelsRequest;
import org.junit.jupiter.api.Test;

/** A chat worker lists its model as kind "chat" and refuses Embed with a clear message. */
class EmbedOnChatWorkerTest {

  @Test
  void aChatModelRefusesEmbed() {
    try (GrpcHarness h = new GrpcHarness("/models/fake.gguf", 256, 16)) {
      assertThat(
              h.blocking.listModels(ListModelsRequest.getDefaultInstance()).getModels(0).getKind())
          .isEqualTo("chat");
      EmbedRequest r =
          EmbedRequest.newBuilder()
              .setRequestId("e")
              .addInputs(EmbedInput.newBuilder().setText("hello"))
              .build();
      assertThatThrownBy(() -> h.blocking.embed(r))
          .isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("INVALID_ARGUMENT")
          .hasMessageContaining("is a chat model, not an embedding model");
      assertThat(h.usage).isEmpty();
    }
  }
}
