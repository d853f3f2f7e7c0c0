package org.glmmaas.gateway.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.glmmaas.gateway.GatewayApplication;
import org.glmmaas.proto.auth.v1.Limits;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.auth.v1.TenantStatus;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One gateway per test JVM (starting Spring costs seconds here), wired to a FakeWorker serving
 * "glm-4-flash", a FakeAuthService and a FakeBillingService. Keys (id.secret) for each scenario.
 */
public final class TestGateway {

  public static final String MODEL = "glm-4-flash";

  /** The embedding model, served by {@link #embedWorker} (64-wide vectors, 512-token inputs). */
  public static final String EMBED_MODEL = "embedding-3";

  public static final int EMBED_DIMS = 64;
  public static final String KEY = "kmain.s3cretmain";
  public static final String LIMITED_KEY = "klimited.s3cretlim";
  public static final String CONC_KEY = "kconc.s3cretconc";
  public static final String RESTRICTED_KEY = "krestricted.s3cretres";
  public static final String BROKE_KEY = "kbroke.s3cretbroke";
  public static final String POOR_KEY = "kpoor.s3cretpoor";
  public static final String SUSPENDED_KEY = "ksusp.s3cretsusp";
  public static final String OTHER_TENANT_KEY = "kother.s3cretother";
  public static final String FUZZ_KEY = "kfuzz.s3cretfuzz";
  public static final String METRICS_KEY = "kmetrics.s3cretmet";

  /** 2 requests a minute, used only by EmbeddingsApiTest. */
  public static final String EMBED_LIMITED_KEY = "kemblim.s3cretemb";

  /** The gateway's admin token (the console's); the fakes below each have their own. */
  public static final String ADMIN_TOKEN = "gateway-admin-token-0123456789";

  public static final String ADMIN_MAX_BODY = "8KB";

  /** The Files API upload limit of the test gateway. */
  public static final String FILES_MAX = "1MB";

  private static TestGateway instance;

  public final FakeWorker worker;
  public final FakeWorker embedWorker;
  public final FakeAuthService auth;
  public final FakeBillingService billing;
  public final FakeKnowledgeService knowledge;
  public final FakeAdminApi authAdmin;
  public final FakeAdminApi billingAdmin;
  public final ConfigurableApplicationContext context;
  public final int port;
  public final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public static synchronized TestGateway get() {
    if (instance == null) {
      try {
        instance = new TestGateway();
      } catch (Exception e) {
        throw new IllegalStateException("cannot start the test gateway", e);
      }
    }
    return instance;
  }

  private static Principal.Builder principal(String tenant) {
    return Principal.newBuilder()
        .setTenantId(tenant)
        .setTenantStatus(TenantStatus.ACTIVE)
        .setCacheTtlMs(60_000);
  }

  /**
   * A second gateway of its own with extra command-line settings (e.g. another file store), for a
   * test that must not change the shared one; the caller closes it.
   */
  public static TestGateway startWith(String... extraArgs) throws Exception {
    return new TestGateway(extraArgs);
  }

  /**
   * For a gateway a test starts beside the shared one in the same JVM: its own Reactor Netty loops,
   * so closing it does not dispose the global loops the shared gateway serves on (later tests then
   * failed to connect).
   */
  public static org.springframework.context.ApplicationContextInitializer<
          ConfigurableApplicationContext>
      ownNettyLoops() {
    return ctx ->
        ((org.springframework.context.support.GenericApplicationContext) ctx)
            .registerBean(
                org.springframework.http.client.ReactorResourceFactory.class,
                () -> {
                  var f = new org.springframework.http.client.ReactorResourceFactory();
                  f.setUseGlobalResources(false);
                  return f;
                });
  }

  /** Stops a gateway from {@link #startWith} and its fakes. */
  public void close() {
    context.close();
    worker.close();
    embedWorker.close();
    auth.close();
    billing.close();
    authAdmin.close();
    billingAdmin.close();
    knowledge.close();
  }

  private TestGateway(String... extraArgs) throws Exception {
    worker = new FakeWorker("fake-worker-0", MODEL);
    embedWorker = new FakeWorker("fake-embed-worker-0", EMBED_MODEL);
    embedWorker.kind = "embedding";
    embedWorker.embeddingDimensions = EMBED_DIMS;
    embedWorker.contextLength = 512;
    auth = new FakeAuthService();
    billing = new FakeBillingService();
    knowledge = new FakeKnowledgeService();
    knowledge.seed("tmain", "kb_docs");
    authAdmin = new FakeAdminApi("auth-service", "auth-service-own-admin-token");
    billingAdmin = new FakeAdminApi("billing-service", "billing-service-own-admin-token");
    auth.addKey("kmain", "s3cretmain", principal("tmain"));
    auth.addKey(
        "klimited",
        "s3cretlim",
        principal("tlimited").setKeyLimits(Limits.newBuilder().setRequestsPerMinute(3)));
    auth.addKey(
        "kconc",
        "s3cretconc",
        principal("tconc").setKeyLimits(Limits.newBuilder().setMaxConcurrency(1)));
    auth.addKey("krestricted", "s3cretres", principal("tres").addAllowedModels("glm-4-plus"));
    auth.addKey("kbroke", "s3cretbroke", principal("tbroke"));
    auth.addKey("kpoor", "s3cretpoor", principal("tpoor"));
    auth.addKey("ksusp", "s3cretsusp", principal("tsusp").setTenantStatus(TenantStatus.SUSPENDED));
    auth.addKey("kother", "s3cretother", principal("tother"));
    auth.addKey("kfuzz", "s3cretfuzz", principal("tfuzz"));
    auth.addKey(
        "kmetrics",
        "s3cretmet",
        principal("tmetrics").setKeyLimits(Limits.newBuilder().setRequestsPerMinute(2)));
    auth.addKey(
        "kemblim",
        "s3cretemb",
        principal("temblim").setKeyLimits(Limits.newBuilder().setRequestsPerMinute(2)));
    billing.balances.put("tpoor", 10L);
    billing.balances.put("tmain", 123_456_789L);
    Path data = Path.of("target", "test-data", UUID.randomUUID().toString());
    // command-line arguments outrank application.yaml (server.port 8080 there); the load
    // benchmark may leave billing out (-Dtestgateway.billing=false) to time the gateway alone
    boolean withBilling = Boolean.parseBoolean(System.getProperty("testgateway.billing", "true"));
    String[] args = {
      "--server.port=0",
      // a name, as in compose and the chart's static mode: the real resolver and the
      // static
      // discovery wiring fill the pool (the fake listens on all interfaces)
      "--glm.gateway.workers=localhost:" + worker.port() + ",localhost:" + embedWorker.port(),
      "--glm.gateway.auth.address=" + auth.address(),
      "--glm.gateway.billing.address=" + (withBilling ? billing.address() : ""),
      "--glm.gateway.data-dir=" + data.toAbsolutePath(),
      "--glm.gateway.knowledge.address=" + knowledge.address(),
      "--glm.gateway.max-body-size=64KB",
      "--glm.gateway.files.max-file-size=" + FILES_MAX,
      "--glm.gateway.admin.token=" + ADMIN_TOKEN,
      "--glm.gateway.admin.max-body-size=" + ADMIN_MAX_BODY,
      "--glm.gateway.admin.auth.url=" + authAdmin.url(),
      "--glm.gateway.admin.auth.token=" + authAdmin.token,
      "--glm.gateway.admin.billing.url=" + billingAdmin.url(),
      "--glm.gateway.admin.billing.token=" + billingAdmin.token,
      "--logging.structured.format.console=",
      "--logging.level.org.springframework.cloud.gateway=WARN",
      "--spring.main.banner-mode=off"
    };
    String[] all = java.util.Arrays.copyOf(args, args.length + extraArgs.length);
    System.arraycopy(extraArgs, 0, all, args.length, extraArgs.length);
    ConfigurableApplicationContext started;
    try {
      SpringApplicationBuilder app = new SpringApplicationBuilder(GatewayApplication.class);
      if (extraArgs.length > 0) {
        // a second gateway in the JVM gets its own Reactor Netty loops: closing it must not
        // dispose the global ones the shared gateway serves on
        app.initializers(ownNettyLoops());
      }
      started = app.run(all);
    } catch (RuntimeException e) {
      worker.close();
      embedWorker.close();
      auth.close();
      billing.close();
      authAdmin.close();
      billingAdmin.close();
      knowledge.close();
      throw e;
    }
    context = started;
    port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    context
        .getBean(org.glmmaas.gateway.billing.AccountStatuses.class)
        .accept(
            org.glmmaas.proto.billing.v1.AccountStatus.newBuilder()
                .setTenantId("tbroke")
                .setStatus(org.glmmaas.proto.billing.v1.AccountStatus.Status.INSUFFICIENT_BALANCE)
                .build());
    awaitWorker();
  }

  private void awaitWorker() throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < end) {
      HttpResponse<String> r =
          post(
              "/v1/chat/completions",
              KEY,
              "{\"model\":\""
                  + MODEL
                  + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      HttpResponse<String> e =
          post("/v1/embeddings", KEY, "{\"model\":\"" + EMBED_MODEL + "\",\"input\":\"hi\"}");
      if (r.statusCode() == 200 && e.statusCode() == 200) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the gateway never saw its workers");
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  public HttpResponse<String> post(String path, String key, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url(path)))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(String path, String key) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30)).GET();
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public static String chat(String content, String extra) {
    return "{\"model\":\""
        + MODEL
        + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
        + content
        + "\"}]"
        + (extra == null || extra.isEmpty() ? "" : "," + extra)
        + "}";
  }
}
