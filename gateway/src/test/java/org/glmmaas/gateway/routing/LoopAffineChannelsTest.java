package org.glmmaas.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.glmmaas.gateway.billing.BillingClient;
import org.glmmaas.gateway.support.FakeBillingService;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With the HTTP server's event loops given, a call made on loop i is answered on loop i: the
 * worker's responses reach the handler on the thread that received the HTTP request, with no
 * hand-off to another thread; the same for a billing reservation. Calls from elsewhere still work
 * (channel 0).
 */
class LoopAffineChannelsTest {

  MultiThreadIoEventLoopGroup loops;
  FakeWorker worker;
  WorkerPool pool;
  InferenceClient client;

  @BeforeEach
  void start() throws Exception {
    loops = new MultiThreadIoEventLoopGroup(3, NioIoHandler.newFactory());
    worker = new FakeWorker("w", RoutingTest.MODEL);
    pool =
        new WorkerPool(
                List.of(worker.address()),
                Duration.ofMillis(10),
                Duration.ofMillis(50),
                Duration.ofSeconds(2),
                new LoopChannels.EventLoops(loops, NioSocketChannel.class))
            .start();
    client = new InferenceClient(new WorkerPicker(pool.workers(), 0), 3);
    WorkerHealthTest.await(() -> pool.workers().getFirst().ready(), 10);
  }

  @AfterEach
  void stop() {
    pool.close();
    worker.close();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  @Test
  void aCallStaysOnTheEventLoopThatMadeIt() throws Exception {
    List<EventExecutor> all = new ArrayList<>();
    loops.forEach(all::add);
    assertThat(all).hasSize(3);
    for (int round = 0; round < 3; round++) {
      for (EventExecutor loop : all) {
        Thread loopThread = loop.submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        CompletableFuture<List<GenerateResponse>> done = new CompletableFuture<>();
        loop.execute(
            () ->
                client
                    .generate(RoutingTest.req("t", "hi"), 1, Duration.ofSeconds(10))
                    .doOnNext(r -> seen.add(Thread.currentThread()))
                    .collectList()
                    .subscribe(done::complete, done::completeExceptionally));
        List<GenerateResponse> rs = done.get(10, TimeUnit.SECONDS);
        assertThat(rs.getLast().hasFinished()).isTrue();
        assertThat(rs).hasSize(FakeWorker.TOKENS.size() + 1);
        assertThat(seen).as("threads the responses arrived on").containsExactly(loopThread);
      }
    }
  }

  @Test
  void aBillingReservationIsAnsweredOnTheLoopThatAskedForIt() throws Exception {
    try (FakeBillingService billing = new FakeBillingService()) {
      LoopChannels chs =
          LoopChannels.connect(
              billing.address(),
              new LoopChannels.EventLoops(loops, NioSocketChannel.class),
              4 << 20);
      BillingClient client = new BillingClient(chs, Duration.ofSeconds(5));
      try {
        int i = 0;
        for (EventExecutor loop : loops) {
          Thread loopThread = loop.submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
          CompletableFuture<Thread> answeredOn = new CompletableFuture<>();
          ReserveRequest r =
              ReserveRequest.newBuilder()
                  .setRequestId("r" + i++)
                  .setTenantId("t")
                  .setModel(RoutingTest.MODEL)
                  .setPromptTokens(5)
                  .setMaxTokens(5)
                  .build();
          loop.execute(
              () ->
                  client
                      .reserve(r)
                      .subscribe(
                          ok -> answeredOn.complete(Thread.currentThread()),
                          answeredOn::completeExceptionally));
          assertThat(answeredOn.get(10, TimeUnit.SECONDS)).isSameAs(loopThread);
        }
      } finally {
        chs.all().forEach(ManagedChannel::shutdownNow);
      }
    }
  }

  @Test
  void callsFromOtherThreadsAreServedAndEveryChannelClosesWithThePool() {
    List<GenerateResponse> rs =
        client
            .generate(RoutingTest.req("t", "hi"), 1, Duration.ofSeconds(10))
            .collectList()
            .block(Duration.ofSeconds(10));
    assertThat(rs).hasSize(FakeWorker.TOKENS.size() + 1);
    List<ManagedChannel> chs = pool.workers().getFirst().channels();
    assertThat(chs).hasSize(3);
    pool.close();
    for (ManagedChannel ch : chs) {
      assertThat(ch.isShutdown()).isTrue();
    }
  }
}
