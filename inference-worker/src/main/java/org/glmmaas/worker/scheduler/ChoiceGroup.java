package org.glmmaas.worker.scheduler;

/**
 * The n choices of one request ({@code n > 1}): choice 0 prefills the prompt; the others fork from
 * it once its prompt is computed, sharing its full prompt blocks (reference-counted, never written
 * again) and computing only the partial last block themselves. Usage is published once, when the
 * last choice ends: the prompt counted once, the completions summed. Engine thread only.
 */
public final class ChoiceGroup {

  private final int numChoices;
  private Request parent;
  private int numFinished;
  private int numCompletionTokens;
  private boolean consumedEngineWork;
  private FinishInfo parentFinish;

  public ChoiceGroup(int numChoices) {
    if (numChoices < 1) {
      throw new IllegalArgumentException("a group needs at least one choice, got " + numChoices);
    }
    this.numChoices = numChoices;
  }

  public int numChoices() {
    return numChoices;
  }

  /** Choice 0 (the prompt's owner). */
  public Request parent() {
    return parent;
  }

  void setParent(Request r) {
    parent = r;
  }

  /** Records one choice's end; the whole request's finish once every choice ended, else null. */
  FinishInfo onFinished(Request r, FinishInfo info) {
    numFinished++;
    numCompletionTokens += info.numCompletionTokens();
    consumedEngineWork |= info.consumedEngineWork();
    if (r == parent) {
      parentFinish = info;
    }
    if (numFinished < numChoices) {
      return null;
    }
    FinishInfo p = parentFinish == null ? info : parentFinish;
    return new FinishInfo(
        p.reason(),
        p.matchedStop(),
        p.errorMessage(),
        p.numPromptTokens(),
        p.numCachedTokens(),
        numCompletionTokens,
        consumedEngineWork,
        p.timings());
  }
}
