package org.glmmaas.billing.account;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.pricing.PriceCatalogue;
import org.glmmaas.proto.billing.v1.AccountStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Publishes each changed tenant's {@link AccountStatus} to the compacted status topic (key = tenant
 * id), off the caller's thread and coalesced: a batch that touched a tenant a thousand times yields
 * one record with the state after commit. INSUFFICIENT_BALANCE when the available balance (balance
 * minus reservations) is <= 0 or below the cheapest possible call; ACTIVE otherwise.
 */
@Component
public class AccountStatusPublisher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AccountStatusPublisher.class);

  private final JdbcClient jdbc;
  private final KafkaTemplate<String, byte[]> kafka;
  private final PriceCatalogue prices;
  private final BillingProperties props;
  private final Set<String> pending = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Counter published;
  private final Counter failed;

  public AccountStatusPublisher(
      JdbcClient jdbc,
      KafkaTemplate<String, byte[]> kafka,
      PriceCatalogue prices,
      BillingProperties props,
      MeterRegistry meters) {
    this.jdbc = jdbc;
    this.kafka = kafka;
    this.prices = prices;
    this.props = props;
    this.published = Counter.builder("glm.billing.account.status.published").register(meters);
    this.failed = Counter.builder("glm.billing.account.status.failed").register(meters);
  }

  /**
   * At start, republishes every account's status, so the compacted topic reflects the database even
   * if an earlier instance died between a commit and its status record.
   */
  @EventListener(ApplicationReadyEvent.class)
  public void publishAll() {
    publish(jdbc.sql("select tenant_id from account").query(String.class).list());
  }

  /** Schedules a status record for each tenant (after the caller's transaction committed). */
  public void publish(Collection<String> tenants) {
    if (tenants.isEmpty()) {
      return;
    }
    pending.addAll(tenants);
    if (draining.compareAndSet(false, true)) {
      executor.execute(this::drain);
    }
  }

  private void drain() {
    try {
      while (!pending.isEmpty()) {
        List<String> batch = new ArrayList<>(pending);
        pending.removeAll(batch);
        long cheapest = prices.cheapestCallMicros(LocalDate.now(ZoneOffset.UTC));
        for (String tenant : batch) {
          send(status(tenant, cheapest));
        }
      }
    } catch (RuntimeException e) {
      log.warn("Publishing account status failed: {}", e.toString());
    } finally {
      draining.set(false);
      if (!pending.isEmpty() && draining.compareAndSet(false, true)) {
        executor.execute(this::drain);
      }
    }
  }

  /** The status of a tenant now, as gateways should see it. */
  public AccountStatus status(String tenant, long cheapestCallMicros) {
    record Row(long balance, long reserved, String currency) {}
    Row row =
        jdbc.sql(
                "select balance_micros, reserved_micros, currency from account where tenant_id = ?")
            .param(tenant)
            .query((rs, i) -> new Row(rs.getLong(1), rs.getLong(2), rs.getString(3)))
            .optional()
            .orElse(new Row(0, 0, props.currency()));
    long available = row.balance() - row.reserved();
    boolean insufficient = available <= 0 || available < cheapestCallMicros;
    return AccountStatus.newBuilder()
        .setTenantId(tenant)
        .setStatus(
            insufficient ? AccountStatus.Status.INSUFFICIENT_BALANCE : AccountStatus.Status.ACTIVE)
        .setBalanceMicros(available)
        .setCurrency(row.currency())
        .setUpdatedUnixMs(System.currentTimeMillis())
        .build();
  }

  private void send(AccountStatus s) {
    kafka
        .send(props.kafka().statusTopic(), s.getTenantId(), s.toByteArray())
        .whenComplete(
            (r, e) -> {
              if (e == null) {
                published.increment();
              } else {
                failed.increment();
                log.warn("Account status for a tenant not published: {}", e.toString());
              }
            });
  }

  @Override
  public void close() {
    executor.close();
  }
}
