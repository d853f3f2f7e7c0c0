package org.glmmaas.gateway.knowledge;

import java.util.Set;
import org.glmmaas.gateway.api.Admission;
import org.glmmaas.gateway.api.Responses;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.knowledge.v1.CreateKnowledgeRequest;
import org.glmmaas.proto.knowledge.v1.Document;
import org.glmmaas.proto.knowledge.v1.DocumentRef;
import org.glmmaas.proto.knowledge.v1.KnowledgeBase;
import org.glmmaas.proto.knowledge.v1.KnowledgeRef;
import org.glmmaas.proto.knowledge.v1.ListKnowledgeRequest;
import org.glmmaas.proto.knowledge.v1.RetrieveRequest;
import org.glmmaas.proto.knowledge.v1.RetrieveResponse;
import org.glmmaas.proto.knowledge.v1.RetrievedChunk;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The knowledge API under {@code /api/paas/v4/knowledge} (docs/knowledge.md): knowledge bases,
 * their documents, and retrieve. Every call is the caller's tenant's; another tenant's id is 404.
 */
public final class KnowledgeHandler {

  static final int MAX_BODY = 64 * 1024;
  static final Set<String> CREATE_FIELDS = Set.of("name", "description", "embedding_model");
  static final Set<String> RETRIEVE_FIELDS = Set.of("query", "top_k");

  private final Admission admission;
  private final KnowledgeClient client;
  private final Dialect dialect;

  public KnowledgeHandler(Admission admission, KnowledgeClient client, Dialect dialect) {
    this.admission = admission;
    this.client = client;
    this.dialect = dialect;
  }

  private Mono<ServerResponse> run(ServerRequest req, Mono<ServerResponse> call) {
    return call.onErrorResume(GlmException.class, e -> Responses.error(req, dialect, e.error()));
  }

  private static Mono<ServerResponse> json(Object node) {
    return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(Json.write(node));
  }

  private static Mono<ObjectNode> body(ServerRequest req, Set<String> fields) {
    return DataBufferUtils.join(req.exchange().getRequest().getBody(), MAX_BODY)
        .map(
            buf -> {
              byte[] b = new byte[buf.readableByteCount()];
              buf.read(b);
              DataBufferUtils.release(buf);
              return b;
            })
        .defaultIfEmpty(new byte[0])
        .map(
            b -> {
              JsonNode n;
              try {
                n = Json.MAPPER.readTree(b);
              } catch (RuntimeException e) {
                throw GlmException.invalid("the body is not valid JSON", null);
              }
              if (n == null || !n.isObject()) {
                throw GlmException.invalid("the body must be a JSON object", null);
              }
              for (String name : n.propertyNames()) {
                if (!fields.contains(name)) {
                  throw GlmException.invalid(
                      "unknown field '" + name + "'; this call takes " + String.join(", ", fields),
                      name);
                }
              }
              return (ObjectNode) n;
            })
        .onErrorMap(
            org.springframework.core.io.buffer.DataBufferLimitException.class,
            e -> GlmException.invalid("the body is larger than " + MAX_BODY + " bytes", null));
  }

  static String text(ObjectNode n, String field, boolean required) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw GlmException.invalid("'" + field + "' is required", field);
      }
      return "";
    }
    if (!v.isString()) {
      throw GlmException.invalid("'" + field + "' must be a string", field);
    }
    return v.asString();
  }

  public Mono<ServerResponse> create(ServerRequest req) {
    return run(
        req,
        admission
            .authenticate(req)
            .zipWith(body(req, CREATE_FIELDS))
            .flatMap(
                t -> {
                  ObjectNode b = t.getT2();
                  CreateKnowledgeRequest r =
                      CreateKnowledgeRequest.newBuilder()
                          .setTenantId(t.getT1().getTenantId())
                          .setName(text(b, "name", true))
                          .setDescription(text(b, "description", false))
                          .setEmbeddingModel(text(b, "embedding_model", false))
                          .build();
                  return client.call(s -> s.createKnowledge(r));
                })
            .flatMap(k -> json(view(k))));
  }

  public Mono<ServerResponse> list(ServerRequest req) {
    return run(
        req,
        admission
            .authenticate(req)
            .flatMap(
                p ->
                    client.call(
                        s ->
                            s.listKnowledge(
                                ListKnowledgeRequest.newBuilder()
                                    .setTenantId(p.getTenantId())
                                    .build())))
            .flatMap(
                r -> {
                  ObjectNode out = Json.object();
                  out.put("object", "list");
                  ArrayNode data = out.putArray("data");
                  r.getKnowledgeList().forEach(k -> data.add(view(k)));
                  return json(out);
                }));
  }

  private static KnowledgeRef ref(Principal p, ServerRequest req) {
    return KnowledgeRef.newBuilder()
        .setTenantId(p.getTenantId())
        .setKnowledgeId(req.pathVariable("id"))
        .build();
  }

  public Mono<ServerResponse> get(ServerRequest req) {
    return run(
        req,
        admission
            .authenticate(req)
            .flatMap(p -> client.call(s -> s.getKnowledge(ref(p, req))))
            .flatMap(k -> json(view(k))));
  }

  public Mono<ServerResponse> delete(ServerRequest req) {
    return run(
        req,
        admission
            .authenticate(req)
            .flatMap(p -> client.call(s -> s.deleteKnowledge(ref(p, req))))
            .flatMap(
                r -> {
                  ObjectNode out = Json.object();
                  out.put("id", req.pathVariable("id"));
                  out.put("object", "knowledge");
                  out.put("deleted", true);
                  return json(out);
                }));
  }

  public Mono<ServerResponse> documents(ServerRequest req) {
    return run(
        req,
        admission
            .authenticate(req)
            .flatMap(p -> client.call(s -> s.listDocuments(ref(p, req))))
            .flatMap(
                r -> {
                  ObjectNode out = Json.object();
                  out.put("object", "list");
                  ArrayNode data = out.putArray("data");
                  r.getDocumentsList().forEach(d -> data.add(view(d)));
                  return json(out);
                }));
  }

  public Mono<ServerResponse> deleteDocument(ServerRequest req) {
    return run(
        req,
        admission
            .authenticate(req)
            .flatMap(
                p ->
                    client.call(
                        s ->
                            s.deleteDocument(
                                DocumentRef.newBuilder()
                                    .setTenantId(p.getTenantId())
                                    .setKnowledgeId(req.pathVariable("id"))
                                    .setDocumentId(req.pathVariable("doc"))
                                    .build())))
            .flatMap(
                r -> {
                  ObjectNode out = Json.object();
                  out.put("id", req.pathVariable("doc"));
                  out.put("object", "document");
                  out.put("deleted", true);
                  return json(out);
                }));
  }

  public Mono<ServerResponse> retrieve(ServerRequest req) {
    return run(
        req,
        admission
            .authenticate(req)
            .zipWith(body(req, RETRIEVE_FIELDS))
            .flatMap(
                t -> {
                  ObjectNode b = t.getT2();
                  int topK = 5;
                  JsonNode k = b.get("top_k");
                  if (k != null && !k.isNull()) {
                    if (!k.isIntegralNumber() || k.asInt() < 1 || k.asInt() > 20) {
                      throw GlmException.invalid("'top_k' must be an integer 1..20", "top_k");
                    }
                    topK = k.asInt();
                  }
                  Principal p = t.getT1();
                  RetrieveRequest r =
                      RetrieveRequest.newBuilder()
                          .setTenantId(p.getTenantId())
                          .setKnowledgeId(req.pathVariable("id"))
                          .setQuery(text(b, "query", true))
                          .setTopK(topK)
                          .setKeyId(p.getKeyId())
                          .build();
                  return client.call(s -> s.retrieve(r));
                })
            .flatMap(r -> json(view(r))));
  }

  static ObjectNode view(KnowledgeBase k) {
    ObjectNode n = Json.object();
    n.put("id", k.getId());
    n.put("object", "knowledge");
    n.put("name", k.getName());
    n.put("description", k.getDescription());
    n.put("embedding_model", k.getEmbeddingModel());
    n.put("dimensions", k.getDimensions());
    n.put("document_count", k.getDocumentCount());
    n.put("bytes", k.getBytes());
    n.put("created_at", k.getCreatedUnixS());
    return n;
  }

  public static ObjectNode view(Document d) {
    ObjectNode n = Json.object();
    n.put("id", d.getId());
    n.put("object", "document");
    n.put("knowledge_id", d.getKnowledgeId());
    n.put("filename", d.getFileName());
    n.put("bytes", d.getBytes());
    n.put("status", d.getStatus());
    if (!d.getFailure().isEmpty()) {
      n.put("failure", d.getFailure());
    }
    n.put("chunk_count", d.getChunkCount());
    n.put("chunks_indexed", d.getChunksIndexed());
    n.put("created_at", d.getCreatedUnixS());
    return n;
  }

  static ObjectNode view(RetrieveResponse r) {
    ObjectNode n = Json.object();
    n.put("object", "list");
    ArrayNode data = n.putArray("data");
    for (RetrievedChunk c : r.getChunksList()) {
      ObjectNode o = data.addObject();
      o.put("chunk_id", c.getChunkId());
      o.put("document_id", c.getDocumentId());
      o.put("filename", c.getFileName());
      o.put("ordinal", c.getOrdinal());
      o.put("score", c.getScore());
      o.put("text", c.getText());
    }
    ObjectNode usage = n.putObject("usage");
    usage.put("embedding_model", r.getEmbeddingModel());
    usage.put("prompt_tokens", r.getEmbeddingTokens());
    usage.put("total_tokens", r.getEmbeddingTokens());
    return n;
  }
}
