package org.glmmaas.gateway.request;

/** The two API dialects the gateway speaks. */
public enum Api {
  /** OpenAI's shapes on {@code /v1} (and vLLM's {@code /tokenize}, {@code /detokenize}). */
  OPENAI,
  /** BigModel's (open.bigmodel.cn) shapes on {@code /api/paas/v4}. */
  BIGMODEL
}
