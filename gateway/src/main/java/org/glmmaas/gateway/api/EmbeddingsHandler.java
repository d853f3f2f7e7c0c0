package org.glmmaas.gateway.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.gateway.request.EmbedCall;
import org.glmmaas.gateway.request.EmbeddingsParser;
import org.glmmaas.gateway.routing.InferenceClient;
import org.glmmaas.gateway.routing.WorkerEndpoint;
import org.glmmaas.gateway.routing.WorkerPicker;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.EmbedResponse;
import org.glmmaas.proto.inference.v1.Embedding;
import org.glmmaas.proto.inference.v1.ModelInfo;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The embeddings endpoints: OpenAI's {@code POST /v1/embeddings} and BigModel's {@code POST
 * /api/paas/v4/embeddings}. Admitted like chat (credential, model allow-list, account status,
 * request and token limits, a billing hold for the inputs' prompt tokens counted high); only
 * embedding models (a worker's {@code ModelInfo.kind} "embedding") take them. The worker publishes
 * the call's usage event (prompt tokens), which the billing service prices and debits, settling the
 * hold, as it does chat's.
 */
public final class EmbeddingsHandler {

  private static final java.util.regex.Pattern INPUT =
      java.util.regex.Pattern.compile("input\\[\\d+]");

  private final Admission admission;
  private final InferenceClient inference;
  private final WorkerPicker picker;

  public EmbeddingsHandler(Admission admission, InferenceClient inference, WorkerPicker picker) {
    this.admission = admission;
    this.inference = inference;
    this.picker = picker;
  }

  public Mono<ServerResponse> embed(ServerRequest req, Dialect d) {
    Function<byte[], EmbedCall> parse =
        d.api() == Api.OPENAI ? EmbeddingsParser::openAi : EmbeddingsParser::bigModel;
    return admission
        .admit(
            req,
            d,
            body -> {
              EmbedCall c = parse.apply(body);
              checkModel(picker, c);
              return c;
            })
        .flatMap(a -> call(a).map(r -> body(d.api(), a.responseId(), (EmbedCall) a.call(), r)))
        .flatMap(
            n ->
                ServerResponse.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .headers(
                        h -> Responses.rateLimitHeaders(h, Responses.rateLimits(req.exchange())))
                    .bodyValue(Json.write(n)))
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  private Mono<EmbedResponse> call(Admission.Admitted a) {
    EmbedCall call = (EmbedCall) a.call();
    EmbedRequest.Builder r =
        call.embed().toBuilder()
            // the usage event's idempotency key: one per admitted call
            .setRequestId(a.lease().leaseId())
            .setTenantId(a.principal().getTenantId())
            .setKeyId(a.principal().getKeyId());
    if (call.userId() != null) {
      r.setUserId(call.userId());
    }
    AtomicLong used = new AtomicLong();
    // the hold admission reserved is settled by the worker's usage event when the worker answers;
    // on every failure (refused, timed out, cancelled) it is released here
    AtomicBoolean answered = new AtomicBoolean();
    return inference
        .embed(r.build(), a.timeout())
        .doOnNext(
            e -> {
              used.set(e.getPromptTokens());
              answered.set(true);
            })
        .onErrorMap(
            t -> t instanceof GlmException g && g.error() instanceof GlmError.ContextLengthExceeded,
            t -> {
              // the worker names the input ("input[3] has 602 tokens; ..."): so does param
              String msg = ((GlmException) t).error().message();
              java.util.regex.Matcher m = INPUT.matcher(msg);
              return new GlmException(
                  new GlmError.ContextLengthExceeded(msg, m.lookingAt() ? m.group() : "input"));
            })
        .doFinally(s -> admission.finish(a, used.get(), answered.get()).subscribe());
  }

  /**
   * Refuses a chat model (400) and {@code dimensions} a model cannot honour, as far as the workers
   * have said what the model is; an unknown model is left to admission (404). Batch lines of an
   * embeddings batch are checked by it too.
   */
  public static void checkModel(WorkerPicker picker, EmbedCall c) {
    ModelInfo info = info(picker, c.model());
    if (info == null) {
      return;
    }
    String kind = info.getKind().isEmpty() ? "chat" : info.getKind();
    if (!kind.equals("embedding")) {
      throw GlmException.invalid(
          "model '"
              + sanitize(c.model())
              + "' is a "
              + kind
              + " model; embeddings need an embedding model (see GET /v1/models)",
          "model");
    }
    Integer dims = c.dimensions();
    int width = info.getEmbeddingDimensions();
    if (dims == null || width <= 0 || dims == width) {
      return;
    }
    if (!info.getMatryoshka()) {
      throw GlmException.invalid(
          "'dimensions' is not supported by model '"
              + sanitize(c.model())
              + "': its vectors have "
              + width
              + " dimensions and it does not declare Matryoshka support, so they cannot be"
              + " shortened",
          "dimensions");
    }
    if (dims > width) {
      throw GlmException.invalid(
          "'dimensions' must be at most " + width + " for model '" + sanitize(c.model()) + "'",
          "dimensions");
    }
  }

  private static ModelInfo info(WorkerPicker picker, String model) {
    for (WorkerEndpoint w : picker.workers()) {
      ModelInfo info = w.modelInfo();
      if (info != null && info.getId().equals(model)) {
        return info;
      }
    }
    return null;
  }

  /**
   * The response body of an answered call in the shape of {@code api} (also a batch line's output
   * body); {@code responseId} is BigModel's {@code id} and {@code request_id}.
   */
  public static ObjectNode body(Api api, String responseId, EmbedCall call, EmbedResponse r) {
    ObjectNode n = Json.object();
    if (api == Api.BIGMODEL) {
      n.put("id", responseId);
      n.put("request_id", responseId);
    }
    n.put("object", "list");
    ArrayNode data = n.putArray("data");
    for (int i = 0; i < r.getEmbeddingsCount(); i++) {
      Embedding e = r.getEmbeddings(i);
      ObjectNode item = data.addObject();
      item.put("object", "embedding");
      item.put("index", i);
      if (call.base64()) {
        ByteBuffer b = ByteBuffer.allocate(4 * e.getValuesCount()).order(ByteOrder.LITTLE_ENDIAN);
        e.getValuesList().forEach(b::putFloat);
        item.put("embedding", Base64.getEncoder().encodeToString(b.array()));
      } else {
        ArrayNode v = item.putArray("embedding");
        e.getValuesList().forEach(v::add);
      }
    }
    n.put("model", call.model());
    ObjectNode usage = n.putObject("usage");
    usage.put("prompt_tokens", r.getPromptTokens());
    if (api == Api.BIGMODEL) {
      usage.put("completion_tokens", 0);
    }
    usage.put("total_tokens", r.getPromptTokens());
    return n;
  }

  private static String sanitize(String s) {
    String c = s.replaceAll("[^\\x20-\\x7e]", "?");
    return c.length() > 64 ? c.substring(0, 64) + "..." : c;
  }
}
