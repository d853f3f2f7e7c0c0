package org.glmmaas.worker.scheduler;

import java.time.Duration;

/** Hooks for metrics; every call happens on the engine thread and must be cheap. */
public interface SchedulerObserver {

  SchedulerObserver NONE = new SchedulerObserver() {};

  default void onFirstToken(Duration timeToFirstToken) {}

  default void onInterToken(Duration latency) {}

  default void onPreemption() {}

  default void onPrefixLookup(long numQueries, long numHits) {}

  default void onFinished(FinishInfo finish) {}

  default void onStep(Duration stepTime, int numTokens, int numSeqs) {}
}
