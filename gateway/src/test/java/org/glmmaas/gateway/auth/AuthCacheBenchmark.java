package org.glmmaas.gateway.auth;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.glmmaas.gateway.support.FakeAuthService;
import org.glmmaas.proto.auth.v1.Principal;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * JMH: authentications per second served from the principal cache (the hot path of every call), one
 * thread. Run: see docs/performance.md ("Gateway").
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class AuthCacheBenchmark {

  FakeAuthService auth;
  CachingAuthClient authenticator;
  String[] headers;
  int i;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    auth = new FakeAuthService();
    io.grpc.ManagedChannel ch =
        io.grpc.Grpc.newChannelBuilder(auth.address(), io.grpc.InsecureChannelCredentials.create())
            .build();
    authenticator =
        new CachingAuthClient(
            ch, Duration.ofSeconds(30), Duration.ofMinutes(5), 100_000, System::nanoTime);
    headers = new String[1000];
    for (int k = 0; k < headers.length; k++) {
      headers[k] =
          "Bearer "
              + auth.addKey(
                  "key" + k,
                  "secret" + k,
                  Principal.newBuilder().setTenantId("t" + (k % 10)).setCacheTtlMs(600_000));
      authenticator.authenticate(headers[k]).retry(3).block();
    }
    for (String h : headers) {
      if (authenticator.cached(h) == null) {
        throw new IllegalStateException("setup left a key uncached");
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    auth.close();
  }

  @Benchmark
  public Principal cachedAuthenticate() {
    i = (i + 1) % headers.length;
    return authenticator.authenticate(headers[i]).block();
  }

  public static void main(String[] args) throws Exception {
    new Runner(
            new OptionsBuilder()
                .include(AuthCacheBenchmark.class.getSimpleName())
                .forks(0)
                .threads(1)
                .warmupIterations(3)
                .warmupTime(org.openjdk.jmh.runner.options.TimeValue.seconds(2))
                .measurementIterations(5)
                .measurementTime(org.openjdk.jmh.runner.options.TimeValue.seconds(2))
                .build())
        .run();
  }
}
