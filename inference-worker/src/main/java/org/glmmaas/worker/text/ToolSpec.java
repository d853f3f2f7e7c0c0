package org.glmmaas.worker.text;

/**
 * A function offered to the model, as the chat template's {@code tools} variable gets it.
 *
 * @param name function name
 * @param description what it does, or ""
 * @param parametersJson JSON Schema of its arguments as JSON text ("" means {"type":"object"})
 */
public record ToolSpec(String name, String description, String parametersJson) {

  public ToolSpec {
    description = description == null ? "" : description;
    parametersJson =
        parametersJson == null || parametersJson.isBlank()
            ? "{\"type\":\"object\"}"
            : parametersJson;
  }
}
