package org.glmmaas.gateway.request;

import java.util.List;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.TokenizeRequest;

/**
 * A validated tokenizer call (BigModel /tokenizer, vLLM /tokenize or /detokenize): admitted like a
 * chat call (credential, model allow-list, limits) but generating nothing.
 *
 * @param model model id
 * @param requestId the client's request_id, or null
 * @param userId end-user id, or null
 * @param tokenize what the worker tokenizes (null for detokenize)
 * @param tokens the ids to turn back into text (detokenize; else empty)
 * @param returnTokenStrs vLLM return_token_strs: also give each token's text
 */
public record TokenizeCall(
    String model,
    String requestId,
    String userId,
    TokenizeRequest tokenize,
    List<Integer> tokens,
    boolean returnTokenStrs)
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

  @Override
  public int promptTokenBound() {
    if (tokenize == null) {
      return tokens.size();
    }
    return tokenize.hasChat()
        ? ChatRequest.estimate(GenerateRequest.newBuilder().setChat(tokenize.getChat()).build())
        : (int) Math.min(Integer.MAX_VALUE, ChatRequest.utf8(tokenize.getText()) + 1);
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
}
