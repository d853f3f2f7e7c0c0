package org.glmmaas.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./glm up}: the whole platform on one machine. Starts a real Kafka broker (KRaft) and a
 * real PostgreSQL in this JVM, then auth-service, billing-service, one inference worker and the
 * gateway as child JVMs; waits until each is healthy; makes a demo tenant with a key and a prepaid
 * balance; prints one block saying how to call it and writes {@code <data>/endpoints.json}. Ctrl-C
 * stops the services first, then Kafka and PostgreSQL. Everything lives in the data folder, so a
 * restart keeps keys, ledger, topics and async results.
 */
public final class GlmLauncher {

  static final long DEMO_TOP_UP_MICROS = 100_000_000L;
  static final String DEMO_CURRENCY = "CNY";

  /**
   * Ctrl-C to everything stopped: the gateway first gets {@link #GATEWAY_GRACE} to finish its
   * responses, then the other services together get the rest of {@link #SERVICES_GRACE}; what is
   * still running then is killed. Kafka and PostgreSQL stop in about a second after that, so the
   * whole stop stays under 10 s.
   */
  static final Duration GATEWAY_GRACE = Duration.ofSeconds(3);

  static final Duration SERVICES_GRACE = Duration.ofSeconds(6);

  /** The model id of the demo embedding model. */
  static final String EMBED_MODEL_ID = "glm-embed-demo";

  /**
   * Its price in billing's catalogue, micro-units per million input tokens (BigModel's list price
   * of embedding-3, 0.5 per million tokens); an embedding has no output tokens.
   */
  static final long EMBED_PRICE_MICROS_PER_MTOK = 500_000;

  /** Each service's own shutdown budget, inside the launcher's grace. */
  static final String SERVICE_SHUTDOWN_PHASE = "3s";

  private final LauncherOptions options;
  private final Console console;
  private final LauncherState state;
  private final List<ServiceProcess> services = new ArrayList<>();

  /** Stopping for any reason (a failure included): a child exiting now is expected. */
  private volatile boolean stopping;

  /** Stopping because the user asked (Ctrl-C / SIGTERM): exit 0. */
  private volatile boolean signalled;

  private boolean stopped;
  private KafkaBroker kafka;
  private Postgres postgres;
  private String serviceIdentitySecret;

  /** {@code --json}: the real stdout, where only the READY object goes; null otherwise. */
  PrintStream jsonOut;

  GlmLauncher(LauncherOptions options, Console console) {
    this.options = options;
    this.console = console;
    this.state = new LauncherState(options.dataDir());
  }

  public static void main(String[] args) {
    Path home = Path.of(System.getProperty("glm.home", ".")).toAbsolutePath().normalize();
    LauncherOptions options;
    try {
      if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
        System.out.print(LauncherOptions.USAGE);
        return;
      }
      options = LauncherOptions.parse(args, home);
    } catch (IllegalArgumentException e) {
      System.err.println("glm up: " + e.getMessage());
      System.exit(2);
      return;
    }
    // Before any logger exists: the launcher's own (and Kafka's, PostgreSQL's) log goes to a file.
    System.setProperty("glm.log.dir", options.dataDir().resolve("logs").toString());
    // --json: stdout carries only the READY object; everything else (our progress, and what
    // libraries such as Kafka's formatter print) goes to stderr
    PrintStream stdout = System.out;
    if (options.json()) {
      System.setOut(System.err);
    }
    GlmLauncher launcher = new GlmLauncher(options, new Console(System.out));
    launcher.jsonOut = options.json() ? stdout : null;
    Runtime.getRuntime()
        .addShutdownHook(new Thread(launcher::shutdownFromSignal, "glm-up-shutdown"));
    int code = launcher.run();
    if (!launcher.signalled) {
      System.exit(code);
    }
  }

  /** Runs until stopped; returns the exit status (0 after Ctrl-C, 1 when something failed). */
  int run() {
    try {
      Files.createDirectories(options.dataDir().resolve("logs"));
    } catch (IOException e) {
      System.err.println(
          "glm up: cannot create the data folder " + options.dataDir() + ": " + e.getMessage());
      return 1;
    }
    try (FileChannel lockFile =
            FileChannel.open(
                options.dataDir().resolve("launcher.lock"),
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock = lockFile.tryLock()) {
      if (lock == null) {
        System.err.println(
            "glm up: another ./glm up is running on "
                + options.dataDir()
                + " (stop it, or use --data)");
        return 2;
      }
      return startAndServe();
    } catch (ServiceProcess.ServiceFailedException e) {
      if (signalled) {
        return 0;
      }
      System.err.println("glm up: " + e.getMessage() + "; last lines of its log:");
      System.err.println(indent(e.logTail));
      System.err.println("glm up: full log in " + options.dataDir().resolve("logs"));
      return 1;
    } catch (Exception e) {
      if (signalled) {
        return 0;
      }
      System.err.println("glm up: " + e.getMessage());
      System.err.println("glm up: logs in " + options.dataDir().resolve("logs"));
      return 1;
    } finally {
      stopAll();
    }
  }

  private int startAndServe() throws Exception {
    state.deleteEndpoints();
    ServiceJars jars = ServiceJars.locate(options.home());
    killLeftovers();
    Ports ports = options.ephemeralPorts() ? Ports.ephemeral() : Ports.fixed(options.portBase());
    if (!options.ephemeralPorts()) {
      ports.checkFree();
    }
    Path model = ensureModel();
    Path embedModel = ensureEmbedModel();

    long t = System.nanoTime();
    console.step("postgres", "starting (data " + options.dataDir().resolve("postgres") + ")");
    postgres = Postgres.start(options.dataDir().resolve("postgres"));
    console.step(
        "postgres",
        (postgres.fresh ? "created" : "reused")
            + ", ready on 127.0.0.1:"
            + postgres.port()
            + secs(t));
    if (postgres.fresh) {
      state.forgetDemo();
    }
    t = System.nanoTime();
    console.step(
        "kafka", "starting a KRaft broker (log " + options.dataDir().resolve("kafka") + ")");
    kafka =
        KafkaBroker.start(options.dataDir().resolve("kafka"), why -> console.step("kafka", why));
    console.step(
        "kafka",
        (kafka.reused ? "reused" : "created") + ", ready on " + kafka.bootstrapServers() + secs(t));

    LauncherState.Secrets secrets = state.secrets();
    serviceIdentitySecret = secrets.serviceIdentitySecret();
    ServiceProcess auth =
        service(
            "auth-service",
            jars.auth(),
            ports.authHttp(),
            List.of(
                "--glm.auth.grpc.port=" + ports.authGrpc(),
                "--glm.auth.data-dir=" + options.dataDir().resolve("auth"),
                "--spring.datasource.url=" + postgres.jdbcUrl("glm_auth"),
                "--spring.datasource.username=postgres"),
            Map.of(
                "GLM_AUTH_ADMINTOKEN",
                secrets.authAdminToken(),
                "GLM_AUTH_MASTERKEY",
                secrets.authMasterKey()));
    ServiceProcess billing =
        service(
            "billing-service",
            jars.billing(),
            ports.billingHttp(),
            List.of(
                "--glm.billing.grpc.port=" + ports.billingGrpc(),
                "--spring.datasource.url=" + postgres.jdbcUrl("glm_billing"),
                "--spring.datasource.username=postgres"),
            Map.of("GLM_BILLING_ADMINTOKEN", secrets.billingAdminToken()));
    ServiceProcess worker =
        service(
            "inference-worker",
            jars.worker(),
            ports.workerHttp(),
            List.of(
                "--glm.worker.grpc.port=" + ports.workerGrpc(),
                "--glm.worker.model=" + model,
                "--glm.worker.model-id=" + options.modelId(),
                "--glm.worker.device=cpu",
                "--glm.worker.drain-timeout=" + SERVICE_SHUTDOWN_PHASE,
                "--glm.worker.usage.spool-dir=" + options.dataDir().resolve("spool")),
            Map.of());
    // the demo embedding model on a worker of its own (a worker serves one model)
    ServiceProcess embedWorker =
        service(
            "embedding-worker",
            jars.worker(),
            ports.embedWorkerHttp(),
            List.of(
                "--glm.worker.grpc.port=" + ports.embedWorkerGrpc(),
                "--glm.worker.model=" + embedModel,
                "--glm.worker.model-id=" + EMBED_MODEL_ID,
                "--glm.worker.device=cpu",
                "--glm.worker.drain-timeout=" + SERVICE_SHUTDOWN_PHASE,
                "--glm.worker.usage.spool-dir=" + options.dataDir().resolve("spool-embed")),
            Map.of());
    // knowledge bases: documents chunked, embedded by the embedding worker and indexed (Lucene)
    ServiceProcess knowledge =
        service(
            "knowledge-service",
            jars.knowledge(),
            ports.knowledgeHttp(),
            List.of(
                "--glm.knowledge.grpc.port=" + ports.knowledgeGrpc(),
                "--glm.knowledge.index-dir=" + options.dataDir().resolve("knowledge-index"),
                "--glm.knowledge.node-id=knowledge-0",
                "--glm.knowledge.embed-targets=127.0.0.1:" + ports.embedWorkerGrpc(),
                "--glm.knowledge.default-embedding-model=" + EMBED_MODEL_ID,
                // embedding calls are held on the tenant's balance first, as chat calls are
                "--glm.knowledge.billing.address=127.0.0.1:" + ports.billingGrpc(),
                "--spring.datasource.url=" + postgres.jdbcUrl("glm_knowledge"),
                "--spring.datasource.username=postgres"),
            Map.of());
    ServiceProcess gateway =
        service(
            "gateway",
            jars.gateway(),
            ports.gateway(),
            List.of(
                "--glm.gateway.auth.address=127.0.0.1:" + ports.authGrpc(),
                "--glm.gateway.billing.address=127.0.0.1:" + ports.billingGrpc(),
                "--glm.gateway.knowledge.address=127.0.0.1:" + ports.knowledgeGrpc(),
                // One machine runs everything here: the first calls into freshly started JVMs can
                // take
                // seconds, longer than the gateway's production 2 s deadline.
                "--glm.gateway.auth.timeout=15s",
                "--glm.gateway.billing.timeout=15s",
                "--glm.gateway.workers=127.0.0.1:"
                    + ports.workerGrpc()
                    + ",127.0.0.1:"
                    + ports.embedWorkerGrpc(),
                "--glm.gateway.data-dir=" + options.dataDir().resolve("gateway"),
                // the admin entry (/admin/** and the console) passes through to the services'
                // admin APIs
                "--glm.gateway.admin.auth.url=http://127.0.0.1:" + ports.authHttp(),
                "--glm.gateway.admin.billing.url=http://127.0.0.1:" + ports.billingHttp()),
            // tokens in the environment, not on the command line (visible to every local user)
            Map.of(
                "GLM_GATEWAY_ADMIN_TOKEN",
                secrets.gatewayAdminToken(),
                "GLM_GATEWAY_ADMIN_AUTH_TOKEN",
                secrets.authAdminToken(),
                "GLM_GATEWAY_ADMIN_BILLING_TOKEN",
                secrets.billingAdminToken()));

    // auth, billing and the worker do not depend on each other: start them together, then the
    // gateway.
    for (ServiceProcess s : List.of(auth, billing, worker, embedWorker, knowledge)) {
      startService(s);
    }
    for (ServiceProcess s : List.of(auth, billing, worker, embedWorker, knowledge)) {
      awaitHealthy(s);
    }
    startService(gateway);
    awaitHealthy(gateway);

    URI authUrl = URI.create("http://127.0.0.1:" + ports.authHttp());
    URI billingUrl = URI.create("http://127.0.0.1:" + ports.billingHttp());
    LauncherState.Demo demo =
        ensureDemo(
            new AdminApi(
                authUrl, secrets.authAdminToken(), billingUrl, secrets.billingAdminToken()));

    new AdminApi(authUrl, secrets.authAdminToken(), billingUrl, secrets.billingAdminToken())
        .putPrice(EMBED_MODEL_ID, EMBED_PRICE_MICROS_PER_MTOK, 0);

    String gatewayUrl = "http://" + urlHost(options.gatewayHost()) + ":" + ports.gateway();
    Map<String, Object> endpoints = new LinkedHashMap<>();
    endpoints.put("gateway_url", gatewayUrl);
    endpoints.put("admin_url", authUrl.toString());
    endpoints.put("admin_token", secrets.authAdminToken());
    endpoints.put("api_key", demo.apiKey());
    endpoints.put("model", options.modelId());
    endpoints.put("embedding_model", EMBED_MODEL_ID);
    endpoints.put("knowledge_grpc", "127.0.0.1:" + ports.knowledgeGrpc());
    endpoints.put("billing_admin_url", billingUrl.toString());
    endpoints.put("billing_admin_token", secrets.billingAdminToken());
    endpoints.put("tenant_id", demo.tenantId());
    endpoints.put("console_url", gatewayUrl + "/console/");
    endpoints.put("console_admin_token", secrets.gatewayAdminToken());
    state.writeEndpoints(endpoints);
    if (jsonOut != null) {
      jsonOut.println(readyJson(gatewayUrl, demo.apiKey()));
      jsonOut.flush();
    } else {
      console.raw(readyBlock(gatewayUrl, authUrl.toString(), demo.apiKey()));
    }
    return serveUntilStopped();
  }

  /**
   * Services that are started again when they die: the workers hold no state of their own, and
   * knowledge-service keeps its indexing jobs in PostgreSQL and its index in committed Lucene
   * segments, so a restarted one takes back its jobs (same node id) and indexes each chunk once.
   */
  static final java.util.Set<String> RESTARTABLE =
      java.util.Set.of("inference-worker", "embedding-worker", "knowledge-service");

  /** Restarts of one service allowed within {@link #RESTART_WINDOW}; one more stops everything. */
  static final int MAX_RESTARTS = 3;

  static final Duration RESTART_WINDOW = Duration.ofMinutes(10);

  private int serveUntilStopped() throws Exception {
    Map<String, java.util.ArrayDeque<Long>> restarts = new HashMap<>();
    while (!signalled) {
      for (ServiceProcess s : List.copyOf(services)) {
        if (!s.alive() && !stopping) {
          String why = "stopped unexpectedly (status " + s.exitValue() + ")";
          java.util.ArrayDeque<Long> recent =
              restarts.computeIfAbsent(s.name, n -> new java.util.ArrayDeque<>());
          long now = System.nanoTime();
          while (!recent.isEmpty() && now - recent.peekFirst() > RESTART_WINDOW.toNanos()) {
            recent.removeFirst();
          }
          if (!RESTARTABLE.contains(s.name) || recent.size() >= MAX_RESTARTS) {
            throw new ServiceProcess.ServiceFailedException(s.name, why, s.tail(40));
          }
          // a crashed worker: the gateway already failed or re-routed its calls (and billed the
          // tokens it had streamed); bring it back on the same ports
          recent.addLast(now);
          console.step(s.name, why + "; starting it again, log " + s.log);
          synchronized (this) {
            if (stopping) {
              break;
            }
            s.start();
          }
          writePids();
          awaitHealthy(s);
        }
      }
      Thread.sleep(1000);
    }
    return 0;
  }

  private ServiceProcess service(
      String name, Path jar, int httpPort, List<String> args, Map<String, String> env) {
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      // Own session: Ctrl-C reaches only the launcher, which stops the services in order.
      cmd.add("/usr/bin/setsid");
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:TieredStopAtLevel=1"));
    if (name.equals("knowledge-service")) {
      // Lucene's SIMD vector search (Panama); without it Lucene falls back to scalar code
      cmd.add("--add-modules=jdk.incubator.vector");
    }
    String extra = System.getenv("GLM_SERVICE_JAVA_OPTS");
    if (extra != null && !extra.isBlank()) {
      cmd.addAll(List.of(extra.trim().split("\\s+")));
    }
    cmd.addAll(
        List.of(
            "-jar",
            jar.toString(),
            "--server.port=" + httpPort,
            "--server.address=" + (name.equals("gateway") ? options.gatewayHost() : "127.0.0.1"),
            "--spring.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
            // dies with the launcher, even when the launcher is killed with SIGKILL
            "--glm.parent-pid=" + ProcessHandle.current().pid(),
            // Ctrl-C stops everything within the launcher's grace
            "--spring.lifecycle.timeout-per-shutdown-phase=" + SERVICE_SHUTDOWN_PHASE));
    cmd.addAll(args);
    Map<String, String> environment = new HashMap<>(env);
    // every gRPC hop proves it belongs to this platform (docs/architecture.md)
    environment.put("GLM_SERVICEIDENTITY_SECRET", serviceIdentitySecret);
    return new ServiceProcess(
        name,
        cmd,
        environment,
        URI.create("http://127.0.0.1:" + httpPort + "/actuator/health/readiness"),
        options.dataDir().resolve("logs"));
  }

  private void startService(ServiceProcess s) throws IOException {
    synchronized (this) {
      if (stopping) {
        throw new IllegalStateException("stopping");
      }
      s.start();
      services.add(s);
    }
    writePids();
    console.step(s.name, "started (pid " + s.pid() + "), log " + s.log);
  }

  private void awaitHealthy(ServiceProcess s) throws InterruptedException {
    long t = System.nanoTime();
    s.awaitHealthy(options.startTimeout(), console);
    console.step(s.name, "healthy" + secs(t));
  }

  /** The demo model is generated once by the engine CLI and cached in the data folder. */
  private Path ensureModel() throws IOException, InterruptedException {
    if (options.model() != null) {
      console.step("model", "serving " + options.model() + " as " + options.modelId());
      return options.model();
    }
    return generated(
        "model",
        "demo.gguf",
        "the demo model",
        List.of("--arch", "glm4", "--preset", "small", "--type", "q8_0", "--seed", "7", "--tools"));
  }

  /**
   * The demo embedding model (bge-small-zh's shape, random weights: 512-wide vectors, 512-token
   * inputs, 17 M parameters), generated once like the chat model and served by its own worker.
   */
  private Path ensureEmbedModel() throws IOException, InterruptedException {
    return generated(
        "embed model",
        "demo-embed.gguf",
        "the demo embedding model",
        List.of("--arch", "bert", "--preset", "bge-small", "--type", "q8_0", "--seed", "7"));
  }

  private Path generated(String step, String file, String what, List<String> makeArgs)
      throws IOException, InterruptedException {
    Path model = options.dataDir().resolve("models").resolve(file);
    if (Files.isRegularFile(model) && Files.size(model) > 0) {
      console.step(
          step, what + " " + model + " (" + Files.size(model) / (1024 * 1024) + " MiB, cached)");
      return model;
    }
    Files.createDirectories(model.getParent());
    Path part = model.resolveSibling(file + ".part");
    Files.deleteIfExists(part);
    List<String> cmd = new ArrayList<>();
    cmd.addAll(List.of(options.home().resolve("glm").toString(), "engine", "make-model"));
    cmd.addAll(makeArgs);
    cmd.addAll(List.of("--out", part.toString()));
    console.step(
        step,
        "generating "
            + what
            + " (random weights; its output is meaningless): "
            + String.join(" ", cmd.subList(1, cmd.size())));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> output = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        output.add(line);
        console.step(step, line);
      }
    }
    int status = p.waitFor();
    if (status != 0 || !Files.isRegularFile(part)) {
      throw new IOException(
          "generating "
              + what
              + " failed (status "
              + status
              + "): "
              + String.join(
                  "\n  ", output.subList(Math.max(0, output.size() - 15), output.size())));
    }
    Files.move(part, model, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    console.step(
        step, what + " ready: " + model + " (" + Files.size(model) / (1024 * 1024) + " MiB)");
    return model;
  }

  private LauncherState.Demo ensureDemo(AdminApi admin) throws IOException, InterruptedException {
    LauncherState.Demo demo = state.demo();
    if (demo != null) {
      console.step(
          "demo tenant", "reusing tenant " + demo.tenantId() + " and its key " + demo.keyId());
      return demo;
    }
    String tenant = admin.createTenant("demo");
    demo = admin.createKey(tenant, "demo key (./glm up)");
    admin.topUp(tenant, DEMO_TOP_UP_MICROS, DEMO_CURRENCY);
    state.saveDemo(demo);
    console.step(
        "demo tenant",
        "created tenant "
            + tenant
            + ", key "
            + demo.keyId()
            + ", balance "
            + DEMO_TOP_UP_MICROS / 1_000_000
            + " "
            + DEMO_CURRENCY);
    return demo;
  }

  /**
   * The READY line of {@code --json}: where to call and with which key; the admin tokens stay in
   * endpoints.json (0600), which it names.
   */
  String readyJson(String gatewayUrl, String apiKey) {
    Map<String, Object> ready = new LinkedHashMap<>();
    ready.put("status", "ready");
    ready.put("gateway_url", gatewayUrl);
    ready.put("api_key", apiKey);
    ready.put("model", options.modelId());
    ready.put("embedding_model", EMBED_MODEL_ID);
    ready.put("console_url", gatewayUrl + "/console/");
    ready.put("endpoints_file", options.dataDir().resolve("endpoints.json").toString());
    ready.put("logs", options.dataDir().resolve("logs").toString());
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(ready);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  String readyBlock(String gatewayUrl, String adminUrl, String apiKey) {
    String body =
        "{\"model\":\""
            + options.modelId()
            + "\",\"stream\":true,\"max_tokens\":32,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";
    String modelNote =
        options.model() == null
            ? " (generated demo model: random weights, its text is meaningless)"
            : "";
    return String.join(
        "\n",
        "",
        "==================================================================================",
        " GLM MaaS is READY",
        "   Gateway   " + gatewayUrl + "   (OpenAI /v1, BigModel /api/paas/v4)",
        "   API key   " + apiKey,
        "   Model     " + options.modelId() + modelNote,
        "   Embedding " + EMBED_MODEL_ID + " (generated, bge-small-zh's shape: 512-wide vectors)",
        "   Console   "
            + gatewayUrl
            + "/console/   (admin token: console_admin_token in "
            + options.dataDir().resolve("endpoints.json")
            + ")",
        "   Admin API "
            + gatewayUrl
            + "/admin/auth/v1, /admin/billing/v1   (the same token; services: "
            + adminUrl
            + "/admin/v1)",
        "   Logs      " + options.dataDir().resolve("logs"),
        "",
        " Stream a chat completion:",
        "   curl -N " + gatewayUrl + "/api/paas/v4/chat/completions \\",
        "     -H \"Authorization: Bearer " + apiKey + "\" -H \"Content-Type: application/json\" \\",
        "     -d '" + body + "'",
        " Embed two texts:",
        "   curl " + gatewayUrl + "/v1/embeddings -H \"Authorization: Bearer " + apiKey + "\" \\",
        "     -H \"Content-Type: application/json\" -d '{\"model\":\""
            + EMBED_MODEL_ID
            + "\",\"input\":[\"你好\",\"hello\"]}'",
        "",
        " Ctrl-C stops everything; state stays in " + options.dataDir(),
        "==================================================================================",
        "");
  }

  private void shutdownFromSignal() {
    signalled = true;
    stopping = true;
    stopAll();
  }

  /**
   * Children first (the gateway, then worker, billing and auth together), then Kafka and
   * PostgreSQL. Idempotent.
   */
  synchronized void stopAll() {
    if (stopped) {
      return;
    }
    stopped = true;
    stopping = true;
    long start = System.nanoTime();
    try {
      List<ServiceProcess> alive = services.stream().filter(ServiceProcess::alive).toList();
      List<ServiceProcess> front = alive.stream().filter(s -> s.name.equals("gateway")).toList();
      List<ServiceProcess> rest = alive.stream().filter(s -> !s.name.equals("gateway")).toList();
      for (List<ServiceProcess> group : List.of(front, rest)) {
        for (ServiceProcess s : group) {
          console.step(s.name, "stopping");
          s.requestStop();
        }
        long deadline =
            group == front
                ? System.nanoTime() + GATEWAY_GRACE.toNanos()
                : start + SERVICES_GRACE.toNanos();
        for (ServiceProcess s : group) {
          s.awaitStop(deadline);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (kafka != null) {
      console.step("kafka", "stopping");
      kafka.close();
    }
    if (postgres != null) {
      console.step("postgres", "stopping");
      try {
        postgres.close();
      } catch (IOException e) {
        console.step("postgres", "stop failed: " + e.getMessage());
      }
    }
    try {
      state.deleteEndpoints();
      Files.deleteIfExists(options.dataDir().resolve("services.pids"));
    } catch (IOException e) {
      // nothing to do while stopping
    }
    if (!services.isEmpty() || kafka != null || postgres != null) {
      console.step("stopped", "all services stopped");
    }
  }

  /**
   * Records the children's pids so a launcher killed with SIGKILL leaves nothing running after the
   * next start.
   */
  private void writePids() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (ServiceProcess s : services) {
      sb.append(s.pid()).append('\n');
    }
    Files.writeString(options.dataDir().resolve("services.pids"), sb.toString());
  }

  private void killLeftovers() throws IOException, InterruptedException {
    Path pids = options.dataDir().resolve("services.pids");
    if (!Files.isRegularFile(pids)) {
      return;
    }
    List<ProcessHandle> left = new ArrayList<>();
    try (Stream<String> lines = Files.lines(pids)) {
      for (String line : lines.filter(l -> !l.isBlank()).toList()) {
        var handle = ProcessHandle.of(Long.parseLong(line.trim()));
        if (handle.isPresent() && handle.get().info().commandLine().orElse("").contains("-jar")) {
          console.step(
              "cleanup", "stopping service pid " + line.trim() + " left by an earlier run");
          handle.get().destroy();
          left.add(handle.get());
        }
      }
    } catch (NumberFormatException e) {
      console.step("cleanup", "ignoring an unreadable " + pids);
    }
    // They watch the launcher and are on their way out already; the rest is killed.
    long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    for (ProcessHandle h : left) {
      try {
        h.onExit()
            .get(
                Math.max(0, deadline - System.nanoTime()),
                java.util.concurrent.TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        h.destroyForcibly();
      }
    }
    Files.deleteIfExists(pids);
  }

  /** The gateway's address as a URL host: loopback for a wildcard bind, IPv6 in brackets. */
  static String urlHost(String bindAddress) {
    if (bindAddress.equals("0.0.0.0") || bindAddress.equals("::") || bindAddress.equals("[::]")) {
      return "127.0.0.1";
    }
    return bindAddress.contains(":") && !bindAddress.startsWith("[")
        ? "[" + bindAddress + "]"
        : bindAddress;
  }

  private static String secs(long startNanos) {
    return String.format(" (%.1f s)", (System.nanoTime() - startNanos) / 1e9);
  }

  private static String indent(String text) {
    return text.lines()
        .map(l -> "  | " + l)
        .reduce((a, b) -> a + "\n" + b)
        .orElse("  | (empty log)");
  }
}
