package org.glmmaas.gateway.knowledge;

import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.time.Duration;
import org.glmmaas.gateway.api.Admission;
import org.glmmaas.gateway.dialect.bigmodel.BigModelDialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.files.FilesHandler;
import org.glmmaas.proto.knowledge.v1.UploadDocumentRequest;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.node.ObjectNode;

/**
 * Knowledge bases in the gateway, on when {@code glm.gateway.knowledge.address} names
 * knowledge-service's gRPC endpoint: the {@code /api/paas/v4/knowledge} routes, {@code
 * purpose=retrieval} uploads with a {@code knowledge_id}, and the chat {@code retrieval} tool.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("!'${glm.gateway.knowledge.address:}'.isBlank()")
public class KnowledgeRoutes {

  @Bean(destroyMethod = "close")
  KnowledgeClient knowledgeClient(
      @Value("${glm.gateway.knowledge.address}") String address,
      @Value("${glm.gateway.knowledge.timeout:30s}") Duration timeout) {
    return new KnowledgeClient(address.strip(), timeout);
  }

  @Bean
  RetrievalTool retrievalTool(
      Admission admission,
      KnowledgeClient client,
      @Value("${glm.gateway.max-body-size:4MB}") org.springframework.util.unit.DataSize maxBody) {
    return new RetrievalTool(admission, client, maxBody.toBytes());
  }

  /** Uploads of {@code purpose=retrieval} with a {@code knowledge_id}, to knowledge-service. */
  public static FilesHandler.KnowledgeUploads uploads(KnowledgeClient client) {
    return (p, knowledgeId, filename, path) ->
        Mono.fromCallable(() -> ByteString.copyFrom(Files.readAllBytes(path)))
            .subscribeOn(Schedulers.boundedElastic())
            .flatMap(
                bytes ->
                    client.call(
                        s ->
                            s.uploadDocument(
                                UploadDocumentRequest.newBuilder()
                                    .setTenantId(p.getTenantId())
                                    .setKnowledgeId(knowledgeId)
                                    .setFileName(filename)
                                    .setContent(bytes)
                                    .setKeyId(p.getKeyId())
                                    .build())))
            .map(
                d -> {
                  ObjectNode n = KnowledgeHandler.view(d);
                  n.put("object", "file");
                  n.put("purpose", "retrieval");
                  return n;
                });
  }

  @Bean
  RouterFunction<ServerResponse> knowledgeApiRoutes(
      Admission admission, KnowledgeClient client, BigModelDialect bigModel) {
    KnowledgeHandler h = new KnowledgeHandler(admission, client, bigModel);
    return RouterFunctions.route()
        .POST("/api/paas/v4/knowledge", h::create)
        .GET("/api/paas/v4/knowledge", h::list)
        .GET("/api/paas/v4/knowledge/{id}", h::get)
        .DELETE("/api/paas/v4/knowledge/{id}", h::delete)
        .GET("/api/paas/v4/knowledge/{id}/documents", h::documents)
        .DELETE("/api/paas/v4/knowledge/{id}/documents/{doc}", h::deleteDocument)
        .POST("/api/paas/v4/knowledge/{id}/retrieve", h::retrieve)
        .route(
            RequestPredicates.path("/api/paas/v4/knowledge/**"),
            r ->
                Mono.error(
                    new GlmException(
                        new GlmError.MethodNotAllowed(
                            r.method().name() + " is not supported on " + r.path()))))
        .build();
  }
}
