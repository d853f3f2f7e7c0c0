package org.glmmaas.gateway.knowledge;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.glmmaas.gateway.api.Admission;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.knowledge.v1.RetrieveRequest;
import org.glmmaas.proto.knowledge.v1.RetrieveResponse;
import org.glmmaas.proto.knowledge.v1.RetrievedChunk;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.reactive.function.server.HandlerStrategies;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The chat {@code retrieval} tool ({@code tools: [{"type": "retrieval", "retrieval":
 * {"knowledge_id": ..., "prompt_template": ...}}]}): before the call is admitted, retrieves the top
 * chunks for the last user message from the knowledge base, renders the template ({@code
 * {{knowledge}}}, {@code {{question}}}) in place of that message and drops the tool, so the model
 * sees the grounded prompt and the call is admitted, reserved and billed on it. The chunks used are
 * kept on the exchange and named in the response's {@code retrieval} field (and the {@code
 * X-Glm-Retrieval} header, for streams). A body without a retrieval tool passes through unchanged.
 */
public final class RetrievalTool implements org.glmmaas.gateway.api.ChatHandler.Preparer {

  /** Exchange attribute holding the {@code retrieval} field of the response. */
  public static final String ATTR = "glm.retrieval";

  public static final String HEADER = "X-Glm-Retrieval";

  static final int TOP_K = 3;
  static final Set<String> FIELDS = Set.of("knowledge_id", "prompt_template");

  /** The default template (this platform's own wording). */
  static final String DEFAULT_TEMPLATE =
      "请根据下面的知识库内容回答问题。如果知识库内容不足以回答，请直接说明，不要编造。\n\n" + "知识库内容：\n{{knowledge}}\n\n问题：{{question}}";

  private static final byte[] MARKER = "\"retrieval\"".getBytes(StandardCharsets.UTF_8);

  private final Admission admission;
  private final KnowledgeClient client;
  private final long maxBody;

  public RetrievalTool(Admission admission, KnowledgeClient client, long maxBody) {
    this.admission = admission;
    this.client = client;
    this.maxBody = maxBody;
  }

  /** The request to admit: {@code req} itself, or one carrying the rewritten body. */
  @Override
  public Mono<ServerRequest> prepare(ServerRequest req) {
    if (req.headers().contentLength().orElse(-1) > maxBody) {
      return Mono.just(req); // admission refuses it with its own 413
    }
    return admission
        .authenticate(req)
        .flatMap(
            p ->
                DataBufferUtils.join(req.exchange().getRequest().getBody(), (int) maxBody)
                    .map(
                        buf -> {
                          byte[] b = new byte[buf.readableByteCount()];
                          buf.read(b);
                          DataBufferUtils.release(buf);
                          return b;
                        })
                    .defaultIfEmpty(new byte[0])
                    .flatMap(body -> rewrite(req, p, body)))
        .onErrorMap(
            DataBufferLimitException.class,
            e ->
                new GlmException(
                    new org.glmmaas.gateway.error.GlmError.PayloadTooLarge(
                        "request body exceeds the limit of " + maxBody + " bytes")));
  }

  private Mono<ServerRequest> rewrite(ServerRequest req, Principal p, byte[] body) {
    if (indexOf(body, MARKER) < 0) {
      return Mono.just(withBody(req, body));
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (RuntimeException e) {
      return Mono.just(withBody(req, body)); // the parser reports it precisely
    }
    if (root == null || !(root.get("tools") instanceof ArrayNode tools)) {
      return Mono.just(withBody(req, body));
    }
    ObjectNode spec = null;
    int at = -1;
    for (int i = 0; i < tools.size(); i++) {
      JsonNode t = tools.get(i);
      if (t.isObject() && "retrieval".equals(t.path("type").asString(""))) {
        if (spec != null) {
          throw GlmException.invalid("at most one retrieval tool per request", "tools");
        }
        for (String name : t.propertyNames()) {
          if (!name.equals("type") && !name.equals("retrieval")) {
            throw GlmException.invalid(
                "unknown field 'tools[" + i + "]." + name + "'", "tools[" + i + "]." + name);
          }
        }
        if (!(t.get("retrieval") instanceof ObjectNode r)) {
          throw GlmException.invalid(
              "'tools[" + i + "].retrieval' must be an object with 'knowledge_id'",
              "tools[" + i + "].retrieval");
        }
        spec = r;
        at = i;
      }
    }
    if (spec == null) {
      return Mono.just(withBody(req, body));
    }
    String prefix = "tools[" + at + "].retrieval.";
    for (String name : spec.propertyNames()) {
      if (!FIELDS.contains(name)) {
        throw GlmException.invalid(
            "unknown field '" + prefix + name + "'; retrieval takes knowledge_id, prompt_template",
            prefix + name);
      }
    }
    JsonNode kid = spec.get("knowledge_id");
    if (kid == null || !(kid.isString() || kid.isIntegralNumber()) || kid.asString().isBlank()) {
      throw GlmException.invalid(
          "'" + prefix + "knowledge_id' is required (a knowledge base id)",
          prefix + "knowledge_id");
    }
    String template = DEFAULT_TEMPLATE;
    JsonNode tpl = spec.get("prompt_template");
    if (tpl != null && !tpl.isNull()) {
      if (!tpl.isString() || !tpl.asString().contains("{{knowledge}}")) {
        throw GlmException.invalid(
            "'" + prefix + "prompt_template' must be a string containing {{knowledge}}",
            prefix + "prompt_template");
      }
      template = tpl.asString();
    }
    ObjectNode user = lastUser(root);
    String question = user.get("content").asString();
    ObjectNode rootObj = (ObjectNode) root;
    tools.remove(at);
    if (tools.isEmpty()) {
      rootObj.remove("tools");
      rootObj.remove("tool_choice");
    }
    String finalTemplate = template;
    RetrieveRequest r =
        RetrieveRequest.newBuilder()
            .setTenantId(p.getTenantId())
            .setKnowledgeId(kid.asString().strip())
            .setQuery(question)
            .setTopK(TOP_K)
            .setKeyId(p.getKeyId())
            .setRequestId("kn-chat-" + UUID.randomUUID())
            .build();
    return client
        .call(s -> s.retrieve(r))
        .map(
            res -> {
              user.put("content", render(finalTemplate, res.getChunksList(), question));
              ObjectNode field = field(r.getKnowledgeId(), res);
              req.exchange().getAttributes().put(ATTR, field);
              req.exchange().getResponse().getHeaders().set(HEADER, Json.write(field));
              return withBody(req, Json.write(rootObj).getBytes(StandardCharsets.UTF_8));
            });
  }

  static ObjectNode lastUser(JsonNode root) {
    JsonNode messages = root.get("messages");
    if (messages instanceof ArrayNode arr) {
      for (int i = arr.size() - 1; i >= 0; i--) {
        JsonNode m = arr.get(i);
        if (m instanceof ObjectNode o && "user".equals(o.path("role").asString(""))) {
          if (!o.path("content").isString() || o.get("content").asString().isBlank()) {
            throw GlmException.invalid(
                "the retrieval tool needs the last user message's content as non-empty text",
                "messages[" + i + "].content");
          }
          return o;
        }
      }
    }
    throw GlmException.invalid("the retrieval tool needs a user message to search for", "messages");
  }

  static String render(String template, List<RetrievedChunk> chunks, String question) {
    StringBuilder k = new StringBuilder();
    for (RetrievedChunk c : chunks) {
      if (!k.isEmpty()) {
        k.append("\n\n");
      }
      k.append(c.getText());
    }
    return template.replace("{{knowledge}}", k).replace("{{question}}", question);
  }

  /** The response's {@code retrieval} field: which chunks the prompt was grounded on. */
  static ObjectNode field(String knowledgeId, RetrieveResponse res) {
    ObjectNode n = Json.object();
    n.put("knowledge_id", knowledgeId);
    ArrayNode chunks = n.putArray("chunks");
    for (RetrievedChunk c : res.getChunksList()) {
      ObjectNode o = chunks.addObject();
      o.put("chunk_id", c.getChunkId());
      o.put("document_id", c.getDocumentId());
      o.put("score", c.getScore());
    }
    n.put("embedding_tokens", res.getEmbeddingTokens());
    return n;
  }

  /** Adds the {@code retrieval} field to a unary chat response body when the call used it. */
  @Override
  public String decorate(ServerWebExchange exchange, String body) {
    Object f = exchange.getAttribute(ATTR);
    if (!(f instanceof ObjectNode field)) {
      return body;
    }
    JsonNode n = Json.MAPPER.readTree(body);
    if (n instanceof ObjectNode o) {
      o.set("retrieval", field);
      return Json.write(o);
    }
    return body;
  }

  private static ServerRequest withBody(ServerRequest req, byte[] body) {
    ServerWebExchange ex = req.exchange();
    ServerHttpRequest decorated =
        new ServerHttpRequestDecorator(ex.getRequest()) {
          @Override
          public HttpHeaders getHeaders() {
            HttpHeaders h = new HttpHeaders();
            h.putAll(super.getHeaders());
            h.setContentLength(body.length);
            return h;
          }

          @Override
          public Flux<DataBuffer> getBody() {
            return Flux.defer(() -> Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(body)));
          }
        };
    ServerWebExchange mutated = ex.mutate().request(decorated).build();
    return ServerRequest.create(mutated, HandlerStrategies.withDefaults().messageReaders());
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
