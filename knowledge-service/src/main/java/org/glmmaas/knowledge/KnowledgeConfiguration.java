package org.glmmaas.knowledge;

import java.util.concurrent.atomic.AtomicBoolean;
import org.glmmaas.knowledge.embed.BillingHolds;
import org.glmmaas.knowledge.embed.Embedder;
import org.glmmaas.knowledge.embed.GrpcBillingHolds;
import org.glmmaas.knowledge.embed.HeldEmbedder;
import org.glmmaas.knowledge.embed.WorkerEmbedder;
import org.glmmaas.knowledge.grpc.KnowledgeGrpcService;
import org.glmmaas.knowledge.index.LuceneVectorIndex;
import org.glmmaas.knowledge.index.VectorIndex;
import org.glmmaas.knowledge.ingest.Chunker;
import org.glmmaas.knowledge.ingest.Indexer;
import org.glmmaas.knowledge.store.KnowledgeStore;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.grpc.GrpcServerCustomizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The index, the embedder, the indexing loop and the gRPC server. */
@Configuration(proxyBeanMethods = false)
class KnowledgeConfiguration {

  private static final Logger log = LoggerFactory.getLogger(KnowledgeConfiguration.class);

  @Bean(destroyMethod = "close")
  VectorIndex vectorIndex(KnowledgeProperties props) {
    return new LuceneVectorIndex(props.indexDir(), props.hnsw().index());
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(Embedder.class)
  WorkerEmbedder embedder(KnowledgeProperties props) {
    return new WorkerEmbedder(props.embedTargets());
  }

  /** Holds on the tenant's balance before every embedding call (billing-service), if configured. */
  @Bean
  @ConditionalOnMissingBean(BillingHolds.class)
  BillingHolds billingHolds(KnowledgeProperties props) {
    if (props.billing().address().isBlank()) {
      log.warn(
          "glm.knowledge.billing.address is not set: embedding calls are not held on balances"
              + " (a tenant without balance can index; the usage is still billed)");
      return BillingHolds.NONE;
    }
    return new GrpcBillingHolds(props.billing().address(), props.billing().timeout());
  }

  @Bean
  Indexer indexer(
      KnowledgeStore store,
      VectorIndex index,
      Embedder embedder,
      BillingHolds holds,
      KnowledgeProperties props) {
    return new Indexer(
        store,
        index,
        // a failed batch is retried under the same request id: it finds its hold again
        new HeldEmbedder(embedder, holds, true),
        new Chunker(props.chunkTokens(), props.chunkOverlap()),
        props.nodeId(),
        props.lease(),
        props.embedBatch());
  }

  /**
   * One indexing thread per instance: jobs run one at a time, in small batches, so interactive
   * embeddings (retrieve, /v1/embeddings) share the workers' steps with it fairly.
   */
  @Bean
  SmartLifecycle indexingLoop(Indexer indexer, KnowledgeStore store, KnowledgeProperties props) {
    return new SmartLifecycle() {
      private final AtomicBoolean running = new AtomicBoolean();
      private Thread thread;

      @Override
      public void start() {
        int released = store.releaseLeases(props.nodeId());
        if (released > 0) {
          log.info("resuming {} indexing job(s) this node held before it stopped", released);
        }
        running.set(true);
        thread =
            Thread.ofPlatform()
                .name("knowledge-indexer")
                .daemon()
                .start(
                    () -> {
                      while (running.get()) {
                        boolean worked = false;
                        try {
                          worked = indexer.runOne();
                        } catch (RuntimeException e) {
                          log.warn("indexing loop: {}", e.toString());
                        }
                        if (!worked) {
                          try {
                            Thread.sleep(props.poll().toMillis());
                          } catch (InterruptedException e) {
                            return;
                          }
                        }
                      }
                    });
      }

      @Override
      public void stop() {
        running.set(false);
        if (thread != null) {
          thread.interrupt();
          try {
            thread.join(5000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }

      @Override
      public boolean isRunning() {
        return running.get();
      }
    };
  }

  @Bean
  KnowledgeGrpcService knowledgeGrpcService(
      KnowledgeStore store,
      VectorIndex index,
      Embedder embedder,
      BillingHolds holds,
      KnowledgeProperties props) {
    return new KnowledgeGrpcService(
        store, index, new HeldEmbedder(embedder, holds, false), props, holds);
  }

  @Bean
  GrpcServer grpcServer(
      KnowledgeGrpcService service,
      KnowledgeProperties props,
      ObjectProvider<GrpcServerCustomizer> customizers) {
    return GrpcServer.builder("knowledge-service", props.grpc())
        .service(service)
        .customizers(customizers.orderedStream().toList())
        .build();
  }
}
