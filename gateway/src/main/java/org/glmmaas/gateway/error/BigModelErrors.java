package org.glmmaas.gateway.error;

import tools.jackson.databind.node.ObjectNode;

/** BigModel's error body: {@code {"error":{"code":"1214","message":"..."}}}. */
public final class BigModelErrors {

  private BigModelErrors() {}

  public static ObjectNode body(GlmError e) {
    ObjectNode root = Json.object();
    ObjectNode err = root.putObject("error");
    err.put("code", e.bigModelCode());
    err.put("message", e.message());
    return root;
  }
}
