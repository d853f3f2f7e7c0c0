package org.glmmaas.worker.lifecycle;

import org.glmmaas.worker.config.WorkerProperties;

/** Opens the model named by the configuration (the native engine in production, fakes in tests). */
@FunctionalInterface
public interface ModelLoader {

  /**
   * @throws IllegalStateException with a clear message when the model cannot be loaded
   */
  LoadedModel load(WorkerProperties properties);
}
