package org.glmmaas.gateway.request;

import java.util.List;
import org.glmmaas.proto.inference.v1.EmbedInput;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.GenerateRequest;

/**
 * A validated embeddings call (OpenAI {@code /v1/embeddings}, BigModel {@code
 * /api/paas/v4/embeddings}): admitted like a chat call (credential, model allow-list, limits) but
 * generating nothing; admission reserves {@link #promptTokenBound()} prompt tokens with billing
 * (never less than the worker will count), the worker's usage event settles the hold.
 *
 * @param model model id
 * @param requestId the client's request_id (BigModel), or null
 * @param userId end-user id, or null
 * @param embed what the worker embeds (without request, tenant and key ids)
 * @param dimensions the client's {@code dimensions}, or null
 * @param base64 OpenAI encoding_format "base64": vectors as base64 of little-endian float32
 */
public record EmbedCall(
    String model,
    String requestId,
    String userId,
    EmbedRequest embed,
    Integer dimensions,
    boolean base64)
    implements ApiCall {

  @Override
  public boolean stream() {
    return false;
  }

  @Override
  public int n() {
    return 1;
  }

  @Override
  public Integer maxTokens() {
    return null;
  }

  /** Each text input at most one token per UTF-8 byte, plus [CLS] and [SEP]. */
  @Override
  public int promptTokenBound() {
    long n = 0;
    for (EmbedInput in : embed.getInputsList()) {
      n +=
          (in.hasTokenIds()
                  ? in.getTokenIds().getIdsCount()
                  : (long) ChatRequest.utf8(in.getText()))
              + 2;
    }
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  @Override
  public List<GenerateRequest> prompts() {
    return List.of();
  }

  @Override
  public String affinityText(int budget) {
    return "";
  }

  @Override
  public boolean generates() {
    return false;
  }

  /** Embeddings are billed by prompt tokens: admission reserves {@link #promptTokenBound()}. */
  @Override
  public boolean billed() {
    return true;
  }
}
