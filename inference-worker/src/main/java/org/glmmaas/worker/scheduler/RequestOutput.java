package org.glmmaas.worker.scheduler;

import java.util.List;
import org.glmmaas.worker.sample.Sampler;

/**
 * What one engine step produced for one request: new tokens and the text now safe to emit, and on
 * the last output the finish.
 *
 * @param requestId the request
 * @param newTokenIds generated token ids of this step (maybe empty)
 * @param samples the samples of those tokens (logprobs), same order
 * @param text the new text (maybe empty)
 * @param finish non-null on the request's last output
 */
public record RequestOutput(
    String requestId,
    int[] newTokenIds,
    List<Sampler.Sample> samples,
    String text,
    FinishInfo finish) {

  public boolean finished() {
    return finish != null;
  }
}
