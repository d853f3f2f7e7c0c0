package org.glmmaas.gateway.api;

import java.util.LinkedHashMap;
import java.util.Map;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.routing.WorkerEndpoint;
import org.glmmaas.gateway.routing.WorkerPicker;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** GET /v1/models and its BigModel twin: the models the workers serve (and the key may use). */
public final class ModelsHandler {

  private final Admission admission;
  private final WorkerPicker picker;

  public ModelsHandler(Admission admission, WorkerPicker picker) {
    this.admission = admission;
    this.picker = picker;
  }

  public Mono<ServerResponse> list(ServerRequest req, Dialect d) {
    return admission
        .authenticate(req)
        .flatMap(
            p -> {
              Map<String, ObjectNode> models = new LinkedHashMap<>();
              for (WorkerEndpoint w : picker.workers()) {
                String id = w.lastModel();
                if (id == null
                    || models.containsKey(id)
                    || (p.getAllowedModelsCount() > 0 && !p.getAllowedModelsList().contains(id))) {
                  continue;
                }
                ObjectNode m = Json.object();
                m.put("id", id);
                m.put("object", "model");
                var info = w.modelInfo();
                m.put("created", info != null ? info.getCreatedUnixS() : 0);
                m.put(
                    "owned_by",
                    info != null && !info.getOwnedBy().isEmpty() ? info.getOwnedBy() : "glm-maas");
                models.put(id, m);
              }
              ObjectNode root = Json.object();
              root.put("object", "list");
              ArrayNode data = root.putArray("data");
              models.values().forEach(data::add);
              return ServerResponse.ok()
                  .contentType(MediaType.APPLICATION_JSON)
                  .bodyValue(Json.write(root));
            })
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }
}
