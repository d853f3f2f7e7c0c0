package org.glmmaas.auth.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.auth.AuthServiceApplication;
import org.glmmaas.auth.credential.Authenticator;
import org.glmmaas.auth.credential.KeyCache;
import org.glmmaas.auth.key.ApiKeyService;
import org.glmmaas.auth.support.SdkJwt;
import org.glmmaas.auth.tenant.Limits;
import org.glmmaas.auth.tenant.TenantService;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.test.TestPostgres;
import org.glmmaas.proto.auth.v1.AuthServiceGrpc;
import org.glmmaas.proto.auth.v1.AuthenticateRequest;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Load generator for {@code AuthService.Authenticate} over real gRPC on loopback (not a test):
 * starts the service on the embedded PostgreSQL, then measures throughput and latency percentiles
 * for
 *
 * <ul>
 *   <li>warm: keys already in the service's cache, raw {@code <id>.<secret>} and an SDK-built JWT;
 *   <li>cold: every call is the first for its key since the cache was emptied (one PostgreSQL read
 *       and one AES-GCM decryption each);
 *   <li>in-process: the service's own cost per call without gRPC, one thread (calls/s per core).
 * </ul>
 *
 * Run: {@code ./mvnw -B -o -q -pl auth-service test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.glmmaas.auth.bench.AuthenticateLoadGenerator [-Dbench.seconds=10]
 * [-Dbench.concurrency=64] [-Dbench.keys=2000]}.
 */
public final class AuthenticateLoadGenerator {

  public static void main(String[] args) throws Exception {
    int seconds = Integer.getInteger("bench.seconds", 10);
    int concurrency = Integer.getInteger("bench.concurrency", 64);
    int numKeys = Integer.getInteger("bench.keys", 2000);
    String dbUrl = TestPostgres.newDatabase("bench_auth");
    try (ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(AuthServiceApplication.class)
            .properties(
                "spring.datasource.url=" + dbUrl,
                "spring.datasource.username=postgres",
                "server.port=0",
                "glm.auth.grpc.port=0",
                "glm.auth.admin-token=bench-admin-token-0123456789",
                "glm.auth.master-key=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                "glm.auth.data-dir=target/bench-data",
                "logging.level.root=WARN")
            .run()) {
      String tenant =
          ctx.getBean(TenantService.class).create("bench", "bench", Limits.UNLIMITED).id();
      ApiKeyService keys = ctx.getBean(ApiKeyService.class);
      List<String> apiKeys = new ArrayList<>();
      for (int i = 0; i < numKeys; i++) {
        apiKeys.add(
            keys.create("bench", tenant, new ApiKeyService.NewKey("k" + i, null, null, null))
                .apiKey());
      }
      int port = ctx.getBean(GrpcServer.class).port();
      KeyCache cache = ctx.getBean(KeyCache.class);
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      var stub = AuthServiceGrpc.newBlockingStub(channel);
      System.out.printf(
          "cores=%d concurrency=%d keys=%d seconds=%d%n",
          Runtime.getRuntime().availableProcessors(), concurrency, numKeys, seconds);

      List<String> warmRaw = apiKeys.subList(0, Math.min(100, numKeys));
      List<String> jwts =
          warmRaw.stream().map(k -> SdkJwt.python(k, System.currentTimeMillis(), 3600)).toList();
      // in-process first: it also JIT-compiles the service's hot path before the gRPC runs
      Authenticator authenticator = ctx.getBean(Authenticator.class);
      inProcess("in-process raw, 1 thread", authenticator, seconds, warmRaw);
      inProcess("in-process JWT, 1 thread", authenticator, seconds, jwts);
      // gRPC/netty warm-up by count, not time: a loaded machine gets few calls per second
      List<String> warmup = new ArrayList<>();
      for (int i = 0; i < Integer.getInteger("bench.warmup-calls", 20_000); i++) {
        warmup.add((i & 1) == 0 ? warmRaw.get(i % warmRaw.size()) : jwts.get(i % jwts.size()));
      }
      long warmStart = System.nanoTime();
      report(
          "gRPC warm-up (raw+JWT)",
          fixed(stub, concurrency, warmup),
          System.nanoTime() - warmStart);
      run("warm raw key", stub, concurrency, seconds, i -> warmRaw.get(i % warmRaw.size()));
      run("warm SDK JWT", stub, concurrency, seconds, i -> jwts.get(i % jwts.size()));

      long total = 0;
      long[] all = new long[0];
      long start = System.nanoTime();
      for (int round = 0; round < 3; round++) {
        cache.invalidateAll();
        long[] lat = fixed(stub, concurrency, apiKeys);
        all = concat(all, lat);
        total += lat.length;
      }
      report("cold key (cache miss)", all, System.nanoTime() - start);
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.exit(0);
  }

  /** The service's own cost per call, without gRPC: one thread calling the Authenticator. */
  static void inProcess(
      String name, Authenticator authenticator, int seconds, List<String> credentials) {
    for (int i = 0; i < 200_000; i++) {
      authenticator.authenticate(credentials.get(i % credentials.size()));
    }
    long[] lat = new long[20_000_000];
    int n = 0;
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    while (n < lat.length && System.nanoTime() < end) {
      long s = System.nanoTime();
      if (!authenticator.authenticate(credentials.get(n % credentials.size())).hasPrincipal()) {
        throw new IllegalStateException("refused");
      }
      lat[n++] = System.nanoTime() - s;
    }
    report(name, Arrays.copyOf(lat, n), System.nanoTime() - start);
  }

  static AuthenticateRequest req(String credential) {
    return AuthenticateRequest.newBuilder().setCredential(credential).build();
  }

  interface Source {
    String credential(int i);
  }

  /**
   * Calls for {@code seconds} from {@code concurrency} threads; each call is checked to succeed.
   */
  static void run(
      String name,
      AuthServiceGrpc.AuthServiceBlockingStub stub,
      int concurrency,
      int seconds,
      Source source)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<long[]> perThread = new ArrayList<>();
    int[] counts = new int[concurrency];
    CountDownLatch done = new CountDownLatch(concurrency);
    long start = System.nanoTime();
    for (int t = 0; t < concurrency; t++) {
      long[] lat = new long[4_000_000 / concurrency];
      perThread.add(lat);
      int id = t;
      Thread.ofPlatform()
          .start(
              () -> {
                int n = 0;
                int i = id;
                while (System.nanoTime() < end && n < lat.length) {
                  long s = System.nanoTime();
                  var r = stub.authenticate(req(source.credential(i)));
                  lat[n++] = System.nanoTime() - s;
                  if (!r.hasPrincipal()) {
                    throw new IllegalStateException("refused: " + r.getFailure());
                  }
                  i += concurrency;
                }
                counts[id] = n;
                done.countDown();
              });
    }
    done.await();
    long elapsed = System.nanoTime() - start;
    long[] all = new long[0];
    for (int t = 0; t < concurrency; t++) {
      all = concat(all, Arrays.copyOf(perThread.get(t), counts[t]));
    }
    report(name, all, elapsed);
  }

  /** Each credential once, spread over {@code concurrency} threads. */
  static long[] fixed(
      AuthServiceGrpc.AuthServiceBlockingStub stub, int concurrency, List<String> credentials)
      throws InterruptedException {
    long[] lat = new long[credentials.size()];
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(concurrency);
    for (int t = 0; t < concurrency; t++) {
      Thread.ofPlatform()
          .start(
              () -> {
                int i;
                while ((i = next.getAndIncrement()) < credentials.size()) {
                  long s = System.nanoTime();
                  var r = stub.authenticate(req(credentials.get(i)));
                  lat[i] = System.nanoTime() - s;
                  if (!r.hasPrincipal()) {
                    throw new IllegalStateException("refused: " + r.getFailure());
                  }
                }
                done.countDown();
              });
    }
    done.await();
    return lat;
  }

  static void report(String name, long[] lat, long elapsedNanos) {
    Arrays.sort(lat);
    double secs = elapsedNanos / 1e9;
    System.out.printf(
        "%-24s calls=%8d  throughput=%9.0f/s  p50=%7.3f ms  p99=%7.3f ms  max=%7.3f ms%n",
        name,
        lat.length,
        lat.length / secs,
        pct(lat, 0.50),
        pct(lat, 0.99),
        lat[lat.length - 1] / 1e6);
  }

  static double pct(long[] sorted, double p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
  }

  static long[] concat(long[] a, long[] b) {
    long[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
