package org.glmmaas.worker.lifecycle;

import org.glmmaas.worker.config.WorkerProperties;

/** Used until a real engine binding is wired: says clearly that this build cannot load models. */
public final class UnavailableModelLoader implements ModelLoader {

  @Override
  public LoadedModel load(WorkerProperties properties) {
    throw new IllegalStateException("this build has no native engine binding; cannot load " + properties.model());
  }
}
