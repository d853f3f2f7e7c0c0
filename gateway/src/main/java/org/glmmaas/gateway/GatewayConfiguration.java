package org.glmmaas.gateway;

import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.glmmaas.gateway.api.Admission;
import org.glmmaas.gateway.api.ApiErrorHandler;
import org.glmmaas.gateway.api.BillingHandler;
import org.glmmaas.gateway.api.ChatHandler;
import org.glmmaas.gateway.api.CompletionsHandler;
import org.glmmaas.gateway.api.EmbeddingsHandler;
import org.glmmaas.gateway.api.ModelsHandler;
import org.glmmaas.gateway.api.TokenizerHandler;
import org.glmmaas.gateway.async.AsyncHandler;
import org.glmmaas.gateway.async.AsyncRuns;
import org.glmmaas.gateway.async.AsyncTaskStore;
import org.glmmaas.gateway.async.FileAsyncTaskStore;
import org.glmmaas.gateway.async.RedisAsyncTaskStore;
import org.glmmaas.gateway.auth.CachingAuthClient;
import org.glmmaas.gateway.auth.TopicTailer;
import org.glmmaas.gateway.batch.BatchHandler;
import org.glmmaas.gateway.batch.BatchQueue;
import org.glmmaas.gateway.batch.BatchRunner;
import org.glmmaas.gateway.batch.Batches;
import org.glmmaas.gateway.batch.FolderBatchStore;
import org.glmmaas.gateway.billing.AccountStatuses;
import org.glmmaas.gateway.billing.BillingClient;
import org.glmmaas.gateway.billing.FallbackUsage;
import org.glmmaas.gateway.config.GatewayProperties;
import org.glmmaas.gateway.dialect.bigmodel.BigModelDialect;
import org.glmmaas.gateway.dialect.openai.OpenAiDialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.files.FileStore;
import org.glmmaas.gateway.files.FilesHandler;
import org.glmmaas.gateway.files.FolderFileStore;
import org.glmmaas.gateway.files.S3FileStore;
import org.glmmaas.gateway.metrics.GatewayMetrics;
import org.glmmaas.gateway.metrics.RequestMetricsFilter;
import org.glmmaas.gateway.ratelimit.InMemoryRateLimiter;
import org.glmmaas.gateway.ratelimit.RateLimiter;
import org.glmmaas.gateway.ratelimit.RedisRateLimiter;
import org.glmmaas.gateway.request.ChatRequestParser;
import org.glmmaas.gateway.routing.DnsDiscovery;
import org.glmmaas.gateway.routing.InferenceClient;
import org.glmmaas.gateway.routing.KubernetesDiscovery;
import org.glmmaas.gateway.routing.LoopChannels;
import org.glmmaas.gateway.routing.WorkerPicker;
import org.glmmaas.gateway.routing.WorkerPool;
import org.glmmaas.proto.auth.v1.KeyEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Wires the gateway's parts from {@link GatewayProperties}. */
@Configuration(proxyBeanMethods = false)
public class GatewayConfiguration {

  private static final Logger log = LoggerFactory.getLogger(GatewayConfiguration.class);

  /** Redis is used only when the operator configured it, never the localhost default. */
  static boolean redisConfigured(Environment env) {
    return env.containsProperty("spring.data.redis.host")
        || env.containsProperty("spring.data.redis.url");
  }

  static String kafka(Environment env) {
    String s = env.getProperty("spring.kafka.bootstrap-servers", "");
    return s.isBlank() ? null : s;
  }

  /** One plaintext channel to "host:port" (auth: calls are rare, the principal cache answers). */
  static ManagedChannel channel(String address) {
    return LoopChannels.connect(address, null, 4 << 20).get(0);
  }

  @Bean
  CachingAuthClient authenticator(GatewayProperties p) {
    ManagedChannel ch = p.auth().address().isBlank() ? null : channel(p.auth().address());
    if (ch == null) {
      log.warn("glm.gateway.auth.address is not set: every call will be refused");
    }
    return new CachingAuthClient(
        ch,
        p.auth().timeout(),
        p.auth().maxCacheTtl(),
        p.auth().maxCacheEntries(),
        System::nanoTime);
  }

  @Bean
  BillingClient billingClient(
      GatewayProperties p,
      org.springframework.beans.factory.ObjectProvider<
              org.springframework.http.client.ReactorResourceFactory>
          resources) {
    if (p.billing().address().isBlank()) {
      return null;
    }
    // loop-affine like the worker channels: the reservation is on every call's path, and the
    // worker call that follows it leaves from the loop the reservation was answered on
    return new BillingClient(
        LoopChannels.connect(
            p.billing().address(), httpLoops(p, resources.getIfAvailable()), 4 << 20),
        p.billing().timeout());
  }

  @Bean
  AccountStatuses accountStatuses() {
    return new AccountStatuses();
  }

  @Bean(destroyMethod = "close")
  Tailers tailers(Environment env, CachingAuthClient auth, AccountStatuses accounts) {
    String bootstrap = kafka(env);
    if (bootstrap == null) {
      return new Tailers(null, null);
    }
    TopicTailer keys =
        new TopicTailer(
                bootstrap,
                "glm.key-events.v1",
                v -> {
                  try {
                    KeyEvent e = KeyEvent.parseFrom(v);
                    if (e.getKind() == KeyEvent.Kind.TENANT_UPDATED) {
                      auth.invalidate(null, e.getTenantId());
                    } else {
                      auth.invalidate(e.getKeyId(), null);
                    }
                  } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
                    throw new IllegalArgumentException("not a KeyEvent", ex);
                  }
                })
            .start();
    TopicTailer status =
        new TopicTailer(bootstrap, "glm.account-status.v1", accounts::accept).start();
    return new Tailers(keys, status);
  }

  /** The Kafka tailers (absent without spring.kafka.bootstrap-servers). */
  public record Tailers(TopicTailer keys, TopicTailer status) implements AutoCloseable {
    @Override
    public void close() {
      if (keys != null) {
        keys.close();
      }
      if (status != null) {
        status.close();
      }
    }
  }

  @Bean(destroyMethod = "close")
  WorkerPool workerPool(
      GatewayProperties p,
      org.springframework.beans.factory.ObjectProvider<
              org.springframework.http.client.ReactorResourceFactory>
          resources) {
    boolean k8s = p.discovery().mode() == GatewayProperties.DiscoveryMode.KUBERNETES;
    if (k8s && !p.workers().isEmpty()) {
      log.warn("glm.gateway.workers is ignored: discovery mode is kubernetes");
    }
    // empty at first in both modes: the discovery bean fills it (static: names resolved to
    // every address they have)
    LoopChannels.EventLoops loops = httpLoops(p, resources.getIfAvailable());
    if (loops != null) {
      log.info(
          "worker and billing channels: one per HTTP event loop ({} loops, {})",
          java.util.stream.StreamSupport.stream(loops.group().spliterator(), false).count(),
          loops.channelType().getSimpleName());
    }
    return new WorkerPool(
            java.util.List.of(),
            p.routing().watchMinInterval(),
            p.routing().reconnectBackoff(),
            p.routing().loadReportTimeout(),
            loops)
        .start();
  }

  /** The HTTP server's event loops (Reactor Netty's server group), for loop-affine channels. */
  static LoopChannels.EventLoops httpLoops(
      GatewayProperties p, org.springframework.http.client.ReactorResourceFactory resources) {
    if (!p.routing().loopAffineChannels() || resources == null) {
      return null;
    }
    reactor.netty.resources.LoopResources lr = resources.getLoopResources();
    io.netty.channel.EventLoopGroup group =
        lr.onServer(
            reactor.netty.resources.LoopResources.DEFAULT_NATIVE
                && reactor.netty.resources.LoopResources.hasNativeSupport());
    return new LoopChannels.EventLoops(
        group, lr.onChannelClass(io.netty.channel.socket.SocketChannel.class, group));
  }

  /**
   * Keeps the pool's workers current: the EndpointSlices of the worker Service in kubernetes mode,
   * the {@code glm.gateway.workers} list with its names resolved to all their addresses in static
   * mode.
   */
  @Bean(destroyMethod = "close")
  Discovery discovery(GatewayProperties p, WorkerPool pool) {
    if (p.discovery().mode() != GatewayProperties.DiscoveryMode.KUBERNETES) {
      return new Discovery(
          null,
          new DnsDiscovery(
                  p.workers(), pool, p.discovery().dnsRefresh(), DnsDiscovery.Resolver.SYSTEM)
              .start());
    }
    var k = p.discovery().kubernetes();
    return new Discovery(
        new KubernetesDiscovery(
                new io.fabric8.kubernetes.client.KubernetesClientBuilder().build(),
                pool,
                k.namespace(),
                k.service(),
                k.portName())
            .start(),
        null);
  }

  /** Holds the discovery in use: one of the two is set. */
  public record Discovery(KubernetesDiscovery kubernetes, DnsDiscovery dns)
      implements AutoCloseable {
    @Override
    public void close() {
      if (kubernetes != null) {
        kubernetes.close();
      }
      if (dns != null) {
        dns.close();
      }
    }
  }

  @Bean
  GatewayMetrics gatewayMetrics(MeterRegistry registry, WorkerPool pool) {
    return new GatewayMetrics(registry, pool.workers());
  }

  @Bean
  RequestMetricsFilter requestMetricsFilter(GatewayMetrics metrics, ApiErrorHandler errors) {
    return new RequestMetricsFilter(metrics, errors);
  }

  @Bean
  WorkerPicker workerPicker(WorkerPool pool, GatewayProperties p) {
    return new WorkerPicker(pool.workers(), p.routing().affinitySlack());
  }

  @Bean
  InferenceClient inferenceClient(WorkerPicker picker, GatewayProperties p) {
    return new InferenceClient(
        picker,
        p.routing().maxAttempts(),
        p.routing().firstTokenTimeout(),
        p.routing().queueTimeout(),
        p.routing().quarantine(),
        p.routing().stallTimeout());
  }

  @Bean
  RateLimiter rateLimiter(Environment env, ObjectProvider<ReactiveStringRedisTemplate> redis) {
    if (redisConfigured(env)) {
      log.info("rate limits are shared through Redis");
      return new RedisRateLimiter(redis.getObject(), "glm:rl:");
    }
    log.info("rate limits are kept in memory (no spring.data.redis.* configured)");
    return new InMemoryRateLimiter(System::currentTimeMillis);
  }

  @Bean
  AsyncTaskStore asyncTaskStore(
      Environment env, GatewayProperties p, ObjectProvider<ReactiveStringRedisTemplate> redis) {
    if (redisConfigured(env)) {
      return new RedisAsyncTaskStore(redis.getObject(), p.async().resultTtl());
    }
    return new FileAsyncTaskStore(p.dataDir(), p.async().resultTtl(), Clock.systemUTC());
  }

  /** Deletes expired async results every sweep-interval (a no-op for Redis, which expires them). */
  @Bean(destroyMethod = "dispose")
  Disposable asyncTaskSweeper(AsyncTaskStore store, GatewayProperties p) {
    Duration every = p.async().sweepInterval();
    return Flux.interval(every, every, Schedulers.boundedElastic())
        .concatMap(
            i ->
                store
                    .sweep()
                    .onErrorResume(
                        e -> {
                          log.warn("sweeping expired async task results failed: {}", e.toString());
                          return Mono.empty();
                        }))
        .subscribe();
  }

  /**
   * Uploaded files: a folder in the data directory ({@code files.store=folder}, the default) or an
   * S3-compatible bucket ({@code files.store=s3}) that every replica shares.
   */
  @Bean
  FileStore fileStore(GatewayProperties p) throws java.io.IOException {
    String kind = p.files().store().strip();
    if (kind.equals("s3")) {
      GatewayProperties.S3 c = p.files().s3();
      S3FileStore.Settings settings =
          new S3FileStore.Settings(
              c.endpoint(),
              c.region(),
              c.bucket(),
              c.prefix(),
              c.pathStyle(),
              c.accessKey(),
              c.secretKey());
      S3FileStore s3 = S3FileStore.connect(settings, p.dataDir());
      log.info("files are kept in {}", settings);
      int local = s3.recoverIncoming();
      if (local > 0) {
        log.info("removed {} leftovers of interrupted file uploads", local);
      }
      // content objects an interrupted upload left: off the start path (a listing of the prefix)
      Thread.ofVirtual()
          .name("s3-file-recovery")
          .start(
              () -> {
                try {
                  int orphans = s3.recoverOrphans(java.time.Instant.now());
                  if (orphans > 0) {
                    log.info("removed {} orphaned file contents from the bucket", orphans);
                  }
                } catch (java.io.IOException | RuntimeException e) {
                  log.warn("cleaning up interrupted uploads in S3 failed: {}", e.toString());
                }
              });
      return s3;
    }
    if (!kind.equals("folder")) {
      throw new IllegalStateException(
          "glm.gateway.files.store is '" + kind + "': use 'folder' or 's3'");
    }
    FolderFileStore store = new FolderFileStore(p.dataDir());
    int removed = store.recover();
    if (removed > 0) {
      log.info("removed {} leftovers of interrupted file uploads", removed);
    }
    return store;
  }

  /** The topic batch lines go to; null without Kafka. */
  @Bean(destroyMethod = "close")
  BatchQueue batchQueue(Environment env, GatewayProperties p) {
    String k = kafka(env);
    return k == null ? null : new BatchQueue(k, p.batch().partitions());
  }

  @Bean
  Batches batches(
      GatewayProperties p, FileStore files, ObjectProvider<BatchQueue> queue, WorkerPicker picker) {
    return new Batches(
        new FolderBatchStore(p.dataDir()),
        files,
        queue.getIfAvailable(),
        new ChatRequestParser(p.maxTokensLimit()),
        picker::checkModel,
        call -> org.glmmaas.gateway.api.EmbeddingsHandler.checkModel(picker, call),
        p.defaultMaxTokens(),
        p.batch().tenantTokenCap());
  }

  /** Runs batch lines from Kafka (when the gateway has Kafka and batch.enabled). */
  @Bean(destroyMethod = "close")
  BatchRunner batchRunner(
      Environment env,
      GatewayProperties p,
      Batches batches,
      Admission admission,
      InferenceClient inference,
      WorkerPicker picker,
      GatewayMetrics metrics,
      FallbackUsage fallbackUsage,
      ObjectProvider<BillingClient> billing,
      OpenAiDialect openAi,
      BigModelDialect bigModel) {
    String k = kafka(env);
    if (k == null || !p.batch().enabled()) {
      return null;
    }
    int perWorker = Math.max(1, p.batch().perWorkerInFlight());
    return new BatchRunner(
            k,
            batches,
            new ChatHandler(admission, inference, metrics, fallbackUsage),
            inference,
            new ChatRequestParser(p.maxTokensLimit()),
            openAi,
            bigModel,
            billing.getIfAvailable(),
            fallbackUsage,
            () -> perWorker * Math.max(1, picker.workers().size()),
            p.requestTimeout(),
            p.defaultMaxTokens(),
            p.batch().sweepInterval())
        .start();
  }

  @Bean
  OpenAiDialect openAiDialect() {
    return new OpenAiDialect();
  }

  @Bean
  BigModelDialect bigModelDialect() {
    return new BigModelDialect();
  }

  @Bean
  Admission admission(
      GatewayProperties p,
      CachingAuthClient auth,
      WorkerPicker picker,
      AccountStatuses accounts,
      RateLimiter limiter,
      ObjectProvider<BillingClient> billing,
      GatewayMetrics metrics,
      InferenceClient inference) {
    return new Admission(
        p,
        auth,
        new ChatRequestParser(p.maxTokensLimit()),
        picker,
        accounts,
        limiter,
        billing.getIfAvailable(),
        metrics,
        inference);
  }

  @Bean
  @Order(-2)
  ApiErrorHandler apiErrorHandler(OpenAiDialect o, BigModelDialect b) {
    return new ApiErrorHandler(o, b);
  }

  @Bean(destroyMethod = "close")
  FallbackUsage fallbackUsage(Environment env, io.micrometer.core.instrument.MeterRegistry meters) {
    return new FallbackUsage(kafka(env), meters);
  }

  /** The async generations, drained within the shutdown grace (cut ones stored as FAIL). */
  @Bean
  AsyncRuns asyncRuns(Environment env) {
    return new AsyncRuns(
        org.springframework.boot.convert.DurationStyle.detectAndParse(
            env.getProperty("spring.lifecycle.timeout-per-shutdown-phase", "30s")));
  }

  @Bean
  RouterFunction<ServerResponse> apiRoutes(
      GatewayProperties p,
      AsyncRuns asyncRuns,
      Admission admission,
      InferenceClient inference,
      WorkerPicker picker,
      AsyncTaskStore store,
      ObjectProvider<BillingClient> billingClient,
      OpenAiDialect openAi,
      BigModelDialect bigModel,
      GatewayMetrics metrics,
      FallbackUsage fallbackUsage,
      FileStore fileStore,
      Batches batches,
      ObjectProvider<org.glmmaas.gateway.knowledge.KnowledgeClient> knowledge,
      ObjectProvider<org.glmmaas.gateway.knowledge.RetrievalTool> retrieval) {
    BatchHandler batch = new BatchHandler(admission, batches);
    FilesHandler files =
        new FilesHandler(
            admission,
            fileStore,
            p.files().maxFileSize().toBytes(),
            p.files().tenantQuota().toBytes());
    ChatHandler chat = new ChatHandler(admission, inference, metrics, fallbackUsage);
    // knowledge bases (issue 23): retrieval uploads and the chat retrieval tool, when configured
    knowledge.ifAvailable(
        k -> files.withKnowledge(org.glmmaas.gateway.knowledge.KnowledgeRoutes.uploads(k)));
    retrieval.ifAvailable(chat::withRetrieval);
    ModelsHandler models = new ModelsHandler(admission, picker);
    AsyncHandler async =
        new AsyncHandler(admission, chat, store, bigModel, p.requestTimeout(), asyncRuns);
    BillingHandler billing = new BillingHandler(admission, billingClient.getIfAvailable());
    CompletionsHandler completions =
        new CompletionsHandler(admission, chat, openAi, p.maxTokensLimit());
    TokenizerHandler tokenizer = new TokenizerHandler(admission, inference, picker);
    EmbeddingsHandler embeddings = new EmbeddingsHandler(admission, inference, picker);
    return RouterFunctions.route()
        .POST("/v1/chat/completions", r -> chat.chat(r, openAi))
        .POST("/api/paas/v4/chat/completions", r -> chat.chat(r, bigModel))
        .POST("/v1/completions", completions::complete)
        .POST("/api/paas/v4/tokenizer", r -> tokenizer.bigModel(r, bigModel))
        .POST("/tokenize", r -> tokenizer.tokenize(r, openAi))
        .POST("/detokenize", r -> tokenizer.detokenize(r, openAi))
        .POST("/v1/embeddings", r -> embeddings.embed(r, openAi))
        .POST("/api/paas/v4/embeddings", r -> embeddings.embed(r, bigModel))
        .GET("/v1/models", r -> models.list(r, openAi))
        .GET("/api/paas/v4/models", r -> models.list(r, bigModel))
        .POST("/api/paas/v4/async/chat/completions", async::submit)
        .GET("/api/paas/v4/async-result/{id}", async::result)
        .GET("/v1/billing/balance", r -> billing.balance(r, openAi))
        .GET("/v1/billing/usage", r -> billing.usage(r, openAi))
        .GET("/api/paas/v4/billing/balance", r -> billing.balance(r, bigModel))
        .GET("/api/paas/v4/billing/usage", r -> billing.usage(r, bigModel))
        .POST("/v1/files", r -> files.upload(r, openAi))
        .GET("/v1/files", r -> files.list(r, openAi))
        .GET("/v1/files/{id}", r -> files.get(r, openAi))
        .DELETE("/v1/files/{id}", r -> files.delete(r, openAi))
        .GET("/v1/files/{id}/content", r -> files.content(r, openAi))
        .POST("/api/paas/v4/files", r -> files.upload(r, bigModel))
        .GET("/api/paas/v4/files", r -> files.list(r, bigModel))
        .GET("/api/paas/v4/files/{id}", r -> files.get(r, bigModel))
        .DELETE("/api/paas/v4/files/{id}", r -> files.delete(r, bigModel))
        .GET("/api/paas/v4/files/{id}/content", r -> files.content(r, bigModel))
        .POST("/v1/batches", r -> batch.create(r, openAi))
        .GET("/v1/batches", r -> batch.list(r, openAi))
        .GET("/v1/batches/{id}", r -> batch.get(r, openAi))
        .POST("/v1/batches/{id}/cancel", r -> batch.cancel(r, openAi))
        .POST("/api/paas/v4/batches", r -> batch.create(r, bigModel))
        .GET("/api/paas/v4/batches", r -> batch.list(r, bigModel))
        .GET("/api/paas/v4/batches/{id}", r -> batch.get(r, bigModel))
        .POST("/api/paas/v4/batches/{id}/cancel", r -> batch.cancel(r, bigModel))
        .route(
            RequestPredicates.path("/v1/batches")
                .or(RequestPredicates.path("/api/paas/v4/batches")),
            r -> notAllowed(r, "GET or POST"))
        .route(
            RequestPredicates.path("/v1/batches/*")
                .or(RequestPredicates.path("/api/paas/v4/batches/*")),
            r -> notAllowed(r, "GET"))
        .route(
            RequestPredicates.path("/v1/batches/*/cancel")
                .or(RequestPredicates.path("/api/paas/v4/batches/*/cancel")),
            r -> notAllowed(r, "POST"))
        .route(
            RequestPredicates.path("/v1/files").or(RequestPredicates.path("/api/paas/v4/files")),
            r -> notAllowed(r, "GET or POST"))
        .route(
            RequestPredicates.path("/v1/files/*")
                .or(RequestPredicates.path("/api/paas/v4/files/*")),
            r -> notAllowed(r, "GET or DELETE"))
        .route(
            RequestPredicates.path("/v1/files/*/content")
                .or(RequestPredicates.path("/api/paas/v4/files/*/content")),
            r -> notAllowed(r, "GET"))
        .route(
            RequestPredicates.path("/v1/chat/completions")
                .or(RequestPredicates.path("/api/paas/v4/chat/completions"))
                .or(RequestPredicates.path("/v1/completions"))
                .or(RequestPredicates.path("/api/paas/v4/tokenizer"))
                .or(RequestPredicates.path("/tokenize"))
                .or(RequestPredicates.path("/detokenize"))
                .or(RequestPredicates.path("/v1/embeddings"))
                .or(RequestPredicates.path("/api/paas/v4/embeddings"))
                .or(RequestPredicates.path("/api/paas/v4/async/chat/completions")),
            r ->
                Mono.error(
                    new GlmException(
                        new GlmError.MethodNotAllowed(
                            r.method().name() + " is not supported here; use POST"))))
        .route(
            RequestPredicates.path("/v1/models")
                .or(RequestPredicates.path("/v1/billing/*"))
                .or(RequestPredicates.path("/api/paas/v4/models"))
                .or(RequestPredicates.path("/api/paas/v4/billing/*"))
                .or(RequestPredicates.path("/api/paas/v4/async-result/*")),
            r ->
                Mono.error(
                    new GlmException(
                        new GlmError.MethodNotAllowed(
                            r.method().name() + " is not supported here; use GET"))))
        .build();
  }

  private static Mono<ServerResponse> notAllowed(
      org.springframework.web.reactive.function.server.ServerRequest r, String use) {
    return Mono.error(
        new GlmException(
            new GlmError.MethodNotAllowed(
                r.method().name() + " is not supported here; use " + use)));
  }
}
