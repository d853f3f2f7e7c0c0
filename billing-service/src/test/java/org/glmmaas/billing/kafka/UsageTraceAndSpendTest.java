package org.glmmaas.billing.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.billing.support.TestInfra.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusNamingConvention;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.glmmaas.billing.pricing.Price;
import org.glmmaas.billing.support.BillingIntegrationTest;
import org.glmmaas.billing.support.Events;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.logging.logback.StructuredLogEncoder;
import org.springframework.core.env.Environment;
import org.springframework.mock.env.MockEnvironment;

/**
 * What an operator sees of billed usage: trace ids in the logs, spend per tenant in the metrics.
 */
class UsageTraceAndSpendTest extends BillingIntegrationTest {

  static final String MODEL = "glm-4-spend-test";

  @Autowired MeterRegistry meters;

  private void send(KafkaProducer<String, byte[]> p, UsageEvent e) {
    p.send(new ProducerRecord<>(props.kafka().usageTopic(), e.getTenantId(), e.toByteArray()));
  }

  private double spend(String model) {
    Counter c = meters.find("glm.billing.spend.micros").tag("model", model).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void spendPerModelCountsWhatWasBilledAndNeverDuplicates() {
    String model = MODEL + "-" + java.util.UUID.randomUUID();
    String otherModel = model + "-other";
    prices.put(new Price(model, LocalDate.of(2020, 1, 1), 3_000_000, 1_000_000, 9_000_000));
    prices.put(new Price(otherModel, LocalDate.of(2020, 1, 1), 3_000_000, 1_000_000, 9_000_000));
    String tenant = newTenant();
    String other = newTenant();
    List<UsageEvent> events = new ArrayList<>();
    long sum = 0;
    for (int i = 0; i < 40; i++) {
      events.add(Events.usage("spend-" + tenant + "-" + i, tenant, model, "k", 200 + i, i, 30));
      sum += Events.expectedCost(3_000_000, 1_000_000, 9_000_000, 200 + i, i, 30);
    }
    long expected = sum;
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      events.forEach(e -> send(p, e));
      send(p, Events.usage("spend-other-" + other, other, otherModel, "k", 1000, 0, 0));
    }
    await(
        "40 events billed",
        Duration.ofSeconds(60),
        () -> ledgerRows(tenant) == 40 && ledgerRows(other) == 1);
    await("spend counted after commit", Duration.ofSeconds(10), () -> spend(model) == expected);
    long billedCost =
        jdbc.sql("select sum(cost_micros) from usage_ledger where tenant_id = ?")
            .param(tenant)
            .query(Long.class)
            .single();
    assertThat(billedCost).isEqualTo(expected);
    assertThat((long) spend(model)).isEqualTo(expected);
    assertThat((long) spend(otherModel)).isEqualTo(3_000);
    // the metrics anyone can scrape name no tenant
    for (Meter m : meters.getMeters()) {
      assertThat(m.getId().getTags().toString()).doesNotContain(tenant).doesNotContain(other);
    }

    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      events.forEach(e -> send(p, e)); // every event redelivered
      send(p, Events.usage("spend-sentinel-" + tenant, tenant, model, "k", 1, 0, 0));
    }
    await("sentinel billed", Duration.ofSeconds(60), () -> ledgerRows(tenant) == 41);
    await("sentinel counted", Duration.ofSeconds(10), () -> spend(model) == expected + 3);
    assertThat((long) spend(model)).as("duplicates add nothing").isEqualTo(expected + 3);

    // the Prometheus name the Grafana "Spend per model" panel queries
    assertThat(
            new PrometheusNamingConvention()
                .name("glm.billing.spend.micros", Meter.Type.COUNTER, "micros"))
        .isEqualTo("glm_billing_spend_micros");
    assertThat(meters.find("glm.billing.spend.micros").counter().getId().getBaseUnit())
        .isEqualTo("micros");
  }

  @Test
  void logLinesAboutAnEventCarryItsTraceIdInTheEcsJson() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(UsageListener.class);
    Level before = logger.getLevel();
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    logger.setLevel(Level.DEBUG);
    String tenant = newTenant();
    String trace = "0af7651916cd43dd8448eb211c80319c";
    String poisonTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    UsageEvent e =
        Events.usage("traced-" + tenant, tenant, MODEL, "k", 10, 0, 5).toBuilder()
            .setTraceId(trace)
            .build();
    try {
      try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
        send(p, e);
      }
      await("billed", Duration.ofSeconds(60), () -> ledgerRows(tenant) == 1);
      try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
        send(p, e); // a duplicate
        ProducerRecord<String, byte[]> poison =
            new ProducerRecord<>(
                props.kafka().usageTopic(),
                tenant,
                "garbage \u0000".getBytes(StandardCharsets.ISO_8859_1));
        poison
            .headers()
            .add(
                "traceparent",
                ("00-" + poisonTrace + "-00f067aa0ba902b7-01").getBytes(StandardCharsets.US_ASCII));
        p.send(poison);
      }
      await(
          "duplicate and poison seen",
          Duration.ofSeconds(60),
          () ->
              lines(logs, "already billed").size() == 1
                  && lines(logs, "dead-lettered").stream()
                      .anyMatch(
                          l ->
                              l.getFormattedMessage().contains("undecodable")
                                  && poisonTrace.equals(l.getMDCPropertyMap().get("trace.id"))));
    } finally {
      logger.setLevel(before);
      logger.detachAppender(logs);
    }
    ILoggingEvent billedLine = lines(logs, "Usage billed: request traced-" + tenant).getFirst();
    assertThat(billedLine.getMDCPropertyMap()).containsEntry("trace.id", trace);
    assertThat(lines(logs, "already billed").getFirst().getMDCPropertyMap())
        .containsEntry("trace.id", trace);

    // what the service writes with logging.structured.format.console=ecs
    StructuredLogEncoder ecs = new StructuredLogEncoder();
    LoggerContext context = new LoggerContext();
    context.putObject(
        Environment.class.getName(),
        new MockEnvironment().withProperty("spring.application.name", "billing-service"));
    ecs.setContext(context);
    ecs.setFormat("ecs");
    ecs.start();
    String json = new String(ecs.encode(billedLine), StandardCharsets.UTF_8);
    assertThat(json)
        .contains("\"trace\":{\"id\":\"" + trace + "\"}")
        .contains("Usage billed: request traced-" + tenant)
        .doesNotContain("\n\"");
  }

  private static List<ILoggingEvent> lines(ListAppender<ILoggingEvent> logs, String text) {
    return new ArrayList<>(logs.list)
        .stream().filter(l -> l.getFormattedMessage().contains(text)).toList();
  }
}
