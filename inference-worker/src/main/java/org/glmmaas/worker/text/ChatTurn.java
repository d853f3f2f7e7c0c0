package org.glmmaas.worker.text;

/** One message of a chat: role "system", "user", "assistant", "tool"/"observation". */
public record ChatTurn(String role, String content) {}
