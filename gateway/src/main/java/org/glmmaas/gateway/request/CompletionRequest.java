package org.glmmaas.gateway.request;

import java.util.List;
import org.glmmaas.proto.inference.v1.GenerateRequest;

/**
 * A validated /v1/completions call: one worker request per prompt (an array of prompts is several
 * prompts), each with n choices.
 *
 * @param model model id
 * @param stream answer as server-sent events
 * @param requestId the client's request_id (the response id), or null
 * @param userId OpenAI user, or null
 * @param prompts what the workers get, one per prompt, ids left out
 * @param includeUsage stream_options.include_usage
 * @param logprobs the completions {@code logprobs} (alternatives per token, 0 to 5), or null
 * @param promptTokenBound all prompts' tokens estimated high
 */
public record CompletionRequest(
    String model,
    boolean stream,
    String requestId,
    String userId,
    List<GenerateRequest> prompts,
    boolean includeUsage,
    Integer logprobs,
    int promptTokenBound)
    implements ApiCall {

  @Override
  public int n() {
    return Math.max(1, prompts.get(0).getN());
  }

  @Override
  public Integer maxTokens() {
    var s = prompts.get(0).getSampling();
    return s.hasMaxTokens() ? s.getMaxTokens() : null;
  }

  @Override
  public String affinityText(int budget) {
    GenerateRequest g = prompts.get(0);
    String text =
        g.hasFim()
            ? g.getFim().getPrefix()
            : g.hasText() ? g.getText() : g.getTokenIds().getIdsList().toString();
    return "text\u0000" + text.substring(0, Math.min(text.length(), budget));
  }
}
