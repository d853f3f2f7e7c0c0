package org.glmmaas.billing.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.glmmaas.billing.BillingServiceApplication;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Load generator for one billing instance (not a test): a real in-process Kafka broker and a real
 * PostgreSQL (zonky), both on this machine.
 *
 * <p>Phase 1 (drain): N events are written to the topic first, then billing starts; the time until
 * all N are in the ledger gives the sustained ingest rate. Phase 2 (steady): events are produced at
 * a fixed rate for some seconds while billing runs; consumer lag (end offset minus committed
 * offset, summed over partitions) is sampled every 500 ms. At the end the ledger is checked: row
 * count, sum of ledger costs = sum of rollup costs = total balance decrease.
 *
 * <p>Args: [drainEvents=200000] [rate=5000] [seconds=20]
 */
public final class UsageIngestBenchmark {

  static final String TOPIC = "bench.usage.v1";
  static final int TENANTS = 100;

  public static void main(String[] args) throws Exception {
    int drainEvents = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 5_000;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    String bootstrap = TestInfra.bootstrap();
    String group = "bench-" + UUID.randomUUID();
    String run = UUID.randomUUID().toString().substring(0, 8);
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get();
    }
    AtomicLong seq = new AtomicLong();
    try (KafkaProducer<String, byte[]> producer = TestInfra.producer(bootstrap)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < drainEvents; i++) {
        send(producer, run, seq.getAndIncrement());
      }
      producer.flush();
      System.out.printf(
          "produced %d events in %.1f s%n", drainEvents, (System.nanoTime() - t0) / 1e9);

      ConfigurableApplicationContext app =
          new SpringApplicationBuilder(BillingServiceApplication.class)
              .run(
                  "--server.port=0",
                  "--glm.billing.grpc.port=0",
                  "--spring.datasource.url=" + TestInfra.jdbcUrl(),
                  "--spring.datasource.username=postgres",
                  "--spring.kafka.bootstrap-servers=" + bootstrap,
                  "--glm.billing.kafka.usage-topic=" + TOPIC,
                  "--glm.billing.kafka.consumer-group=" + group,
                  "--logging.level.root=WARN",
                  "--logging.structured.format.console=",
                  "--spring.kafka.listener.auto-startup=false");
      JdbcClient jdbc = app.getBean(JdbcClient.class);
      for (int t = 0;
          t < TENANTS;
          t++) { // before the listener starts: every balance starts at 10^12
        jdbc.sql(
                "insert into account (tenant_id, currency, balance_micros) values (?, 'CNY', 1000000000000)"
                    + " on conflict do nothing")
            .param(tenant(run, t))
            .update();
      }
      io.micrometer.core.instrument.Counter billedCounter =
          app.getBean(io.micrometer.core.instrument.MeterRegistry.class)
              .get("glm.billing.usage.events.billed")
              .counter();
      long start = System.nanoTime();
      app.getBean(org.springframework.kafka.config.KafkaListenerEndpointRegistry.class)
          .getListenerContainer("usage-ledger")
          .start();
      long firstBilled = 0;
      long billed;
      while ((billed = (long) billedCounter.count()) < drainEvents) {
        if (firstBilled == 0 && billed > 0) {
          firstBilled = System.nanoTime();
        }
        Thread.sleep(10);
      }
      long end = System.nanoTime();
      double drainSecs = (end - start) / 1e9;
      double billingSecs = (end - (firstBilled == 0 ? start : firstBilled)) / 1e9;
      System.out.printf(
          "DRAIN: %d events billed in %.2f s from listener start = %.0f events/s"
              + " (%.0f events/s from the first billed batch; the rest is the consumer group join)%n",
          billed, drainSecs, billed / drainSecs, billed / billingSecs);

      // steady phase at a fixed rate
      List<Long> lags = new ArrayList<>();
      long steadyStart = System.nanoTime();
      long nextSample = steadyStart;
      long produced = 0;
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        while (System.nanoTime() - steadyStart < Duration.ofSeconds(seconds).toNanos()) {
          long due = (System.nanoTime() - steadyStart) * rate / 1_000_000_000L;
          while (produced < due) {
            send(producer, run, seq.getAndIncrement());
            produced++;
          }
          if (System.nanoTime() >= nextSample) {
            lags.add(lag(admin, group));
            nextSample += 500_000_000L;
          }
          Thread.sleep(2);
        }
        producer.flush();
        long total = drainEvents + produced;
        long catchUp = System.nanoTime();
        while (billedCounter.count() < total) {
          Thread.sleep(50);
        }
        List<Long> sorted = lags.stream().sorted().toList();
        System.out.printf(
            "STEADY: %d events at %d/s for %d s; consumer lag (records) p50=%d p95=%d max=%d;"
                + " last event billed %.2f s after the producer stopped%n",
            produced,
            rate,
            seconds,
            sorted.get(sorted.size() / 2),
            sorted.get(sorted.size() * 95 / 100),
            sorted.getLast(),
            (System.nanoTime() - catchUp) / 1e9);
        check(jdbc, run, total);
      }
      app.close();
    }
    System.exit(0);
  }

  static String tenant(String run, int t) {
    return "bench-" + run + "-t" + t;
  }

  static void send(KafkaProducer<String, byte[]> producer, String run, long i) {
    String tenant = tenant(run, (int) (i % TENANTS));
    UsageEvent e =
        UsageEvent.newBuilder()
            .setRequestId("bench-" + run + "-" + i)
            .setTenantId(tenant)
            .setKeyId("key-" + (i % 5))
            .setModel("glm-bench-" + (i % 3))
            .setPromptTokens(200 + (int) (i % 1000))
            .setCachedTokens((int) (i % 100))
            .setCompletionTokens(50 + (int) (i % 300))
            .setFinishReason("stop")
            .setWorkerId("bench")
            .setStartTimeUnixMs(System.currentTimeMillis() - 1000)
            .setEndTimeUnixMs(System.currentTimeMillis())
            .build();
    producer.send(new ProducerRecord<>(TOPIC, tenant, e.toByteArray()));
  }

  static long ledgerRows(JdbcClient jdbc, String run) {
    return jdbc.sql("select count(*) from usage_ledger where tenant_id like ?")
        .param("bench-" + run + "-%")
        .query(Long.class)
        .single();
  }

  static long lag(Admin admin, String group) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
    Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
    for (int p = 0; p < 3; p++) {
      latest.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
    }
    long lag = 0;
    for (var e : admin.listOffsets(latest).all().get().entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      lag += e.getValue().offset() - (c == null ? 0 : c.offset());
    }
    return lag;
  }

  static void check(JdbcClient jdbc, String run, long total) {
    String like = "bench-" + run + "-%";
    long rows = ledgerRows(jdbc, run);
    long ledgerCost =
        jdbc.sql("select coalesce(sum(cost_micros),0) from usage_ledger where tenant_id like ?")
            .param(like)
            .query(Long.class)
            .single();
    long rollupCost =
        jdbc.sql("select coalesce(sum(cost_micros),0) from usage_daily where tenant_id like ?")
            .param(like)
            .query(Long.class)
            .single();
    long rollupRequests =
        jdbc.sql("select coalesce(sum(requests),0) from usage_daily where tenant_id like ?")
            .param(like)
            .query(Long.class)
            .single();
    long spent =
        jdbc.sql(
                "select coalesce(sum(1000000000000 - balance_micros),0) from account where tenant_id like ?")
            .param(like)
            .query(Long.class)
            .single();
    boolean ok =
        rows == total && rollupRequests == total && ledgerCost == rollupCost && ledgerCost == spent;
    System.out.printf(
        "CONSISTENCY %s: ledger rows %d (expected %d), rollup requests %d, ledger cost %d,"
            + " rollup cost %d, balance decrease %d%n",
        ok ? "OK" : "FAILED", rows, total, rollupRequests, ledgerCost, rollupCost, spent);
    if (!ok) {
      throw new IllegalStateException("ledger inconsistent");
    }
  }

  private UsageIngestBenchmark() {}
}
