package org.glmmaas.billing.account;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.pricing.Costs;
import org.glmmaas.billing.pricing.PriceCatalogue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Prepaid accounts: top-ups, balances and reserve-then-settle. A reservation is one atomic
 * conditional UPDATE ({@code reserved += amount WHERE balance - reserved >= amount}), so concurrent
 * reservations can never hold more than the balance; the usage event with the same request id
 * settles it (see UsageLedger), {@link #release} returns it, and stale ones expire.
 */
@Service
public class AccountService {

  private static final Logger log = LoggerFactory.getLogger(AccountService.class);
  static final long MAX_TOP_UP_MICROS = 1_000_000_000_000_000L; // 10^9 currency units

  private final JdbcClient jdbc;
  private final TransactionTemplate tx;
  private final PriceCatalogue prices;
  private final AccountStatusPublisher statuses;
  private final BillingProperties props;
  private final Clock clock;

  public AccountService(
      JdbcClient jdbc,
      TransactionTemplate tx,
      PriceCatalogue prices,
      AccountStatusPublisher statuses,
      BillingProperties props) {
    this.jdbc = jdbc;
    this.tx = tx;
    this.prices = prices;
    this.statuses = statuses;
    this.props = props;
    this.clock = Clock.systemUTC();
  }

  /** Adds prepaid money, creating the account if needed; returns the new balance. */
  public AccountBalance topUp(String tenantId, long amountMicros, String currency) {
    requireTenant(tenantId);
    if (amountMicros <= 0 || amountMicros > MAX_TOP_UP_MICROS) {
      throw new IllegalArgumentException(
          "amount_micros must be between 1 and " + MAX_TOP_UP_MICROS);
    }
    if (currency != null && !currency.equals(props.currency())) {
      throw new IllegalArgumentException(
          "currency must be " + props.currency() + ", got " + currency);
    }
    AccountBalance b =
        tx.execute(
            s -> {
              jdbc.sql(
                      "insert into account (tenant_id, currency) values (?, ?) on conflict do nothing")
                  .params(tenantId, props.currency())
                  .update();
              jdbc.sql("insert into top_up (tenant_id, amount_micros) values (?, ?)")
                  .params(tenantId, amountMicros)
                  .update();
              jdbc.sql(
                      "update account set balance_micros = balance_micros + ?, updated_at = now() where tenant_id = ?")
                  .params(amountMicros, tenantId)
                  .update();
              return balance(tenantId);
            });
    statuses.publish(Set.of(tenantId));
    return b;
  }

  /** The balance; an unknown tenant has an empty one. */
  public AccountBalance balance(String tenantId) {
    requireTenant(tenantId);
    return jdbc.sql(
            "select balance_micros, reserved_micros, currency from account where tenant_id = ?")
        .param(tenantId)
        .query(
            (rs, i) -> new AccountBalance(tenantId, rs.getLong(1), rs.getLong(2), rs.getString(3)))
        .optional()
        .orElse(new AccountBalance(tenantId, 0, 0, props.currency()));
  }

  /**
   * Holds {@code prompt * input + maxTokens * output} at the model's price for {@code requestId}.
   * Idempotent per request id: asking again returns the existing reservation.
   */
  public ReservationOutcome reserve(
      String requestId, String tenantId, String model, int promptTokens, int maxTokens) {
    return reserve(requestId, tenantId, model, promptTokens, maxTokens, false);
  }

  /** As above; a batch line ({@code batch}) is held at the batch price. */
  public ReservationOutcome reserve(
      String requestId,
      String tenantId,
      String model,
      int promptTokens,
      int maxTokens,
      boolean batch) {
    requireTenant(tenantId);
    if (requestId == null || requestId.isBlank() || requestId.length() > 200) {
      throw new IllegalArgumentException("request_id must be 1-200 characters");
    }
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("model is required");
    }
    long amount =
        Costs.reservationAmount(
            batch ? prices.batchPriceFor(model, today()) : prices.priceFor(model, today()),
            promptTokens,
            maxTokens);
    ReservationOutcome outcome;
    try {
      outcome =
          tx.execute(
              s -> {
                Optional<ReservationOutcome> existing = existing(requestId, tenantId);
                if (existing.isPresent()) {
                  return existing.get();
                }
                Optional<Long> available =
                    jdbc.sql(
                            """
            update account set reserved_micros = reserved_micros + ?, updated_at = now()
            where tenant_id = ? and balance_micros - reserved_micros >= ?
            returning balance_micros - reserved_micros""")
                        .params(amount, tenantId, amount)
                        .query(Long.class)
                        .optional();
                if (available.isEmpty()) {
                  return new ReservationOutcome(false, amount, balance(tenantId).availableMicros());
                }
                jdbc.sql(
                        """
            insert into reservation (request_id, tenant_id, model, amount_micros, status, expires_at)
            values (?, ?, ?, ?, 'OPEN', now() + ?::interval)""")
                    .params(
                        requestId,
                        tenantId,
                        model,
                        amount,
                        props.reservationTtl().toMillis() + " milliseconds")
                    .update();
                return new ReservationOutcome(true, amount, available.get());
              });
    } catch (DuplicateKeyException raced) { // the same request id reserved concurrently
      outcome = existing(requestId, tenantId).orElseThrow();
    }
    if (outcome.granted()) {
      statuses.publish(Set.of(tenantId));
    }
    return outcome;
  }

  private Optional<ReservationOutcome> existing(String requestId, String tenantId) {
    return jdbc.sql("select tenant_id, amount_micros, status from reservation where request_id = ?")
        .param(requestId)
        .query(
            (rs, i) -> {
              if (!rs.getString(1).equals(tenantId)) {
                throw new IllegalArgumentException("request_id already used by another tenant");
              }
              return new ReservationOutcome(
                  !"RELEASED".equals(rs.getString(3)) && !"EXPIRED".equals(rs.getString(3)),
                  rs.getLong(2),
                  balance(tenantId).availableMicros());
            })
        .optional();
  }

  /** Releases an OPEN reservation that will never be settled; false when none was open. */
  public boolean release(String requestId, String tenantId) {
    requireTenant(tenantId);
    Boolean released =
        tx.execute(
            s -> {
              Optional<Long> amount =
                  jdbc.sql(
                          """
          update reservation set status = 'RELEASED', closed_at = now()
          where request_id = ? and tenant_id = ? and status = 'OPEN' returning amount_micros""")
                      .params(requestId, tenantId)
                      .query(Long.class)
                      .optional();
              amount.ifPresent(
                  a ->
                      jdbc.sql(
                              "update account set reserved_micros = reserved_micros - ?, updated_at = now() where tenant_id = ?")
                          .params(a, tenantId)
                          .update());
              return amount.isPresent();
            });
    if (Boolean.TRUE.equals(released)) {
      statuses.publish(Set.of(tenantId));
    }
    return Boolean.TRUE.equals(released);
  }

  /**
   * Expires OPEN reservations past their TTL (a call that never reported) and returns the holds.
   */
  @Scheduled(fixedDelayString = "PT15S", initialDelayString = "PT15S")
  public int expireStale() {
    record Expired(String tenant, long amount) {}
    List<Expired> expired =
        tx.execute(
            s -> {
              List<Expired> rows =
                  jdbc.sql(
                          """
          update reservation set status = 'EXPIRED', closed_at = now()
          where status = 'OPEN' and expires_at < now() returning tenant_id, amount_micros""")
                      .query((rs, i) -> new Expired(rs.getString(1), rs.getLong(2)))
                      .list();
              rows.stream()
                  .map(Expired::tenant)
                  .distinct()
                  .sorted()
                  .forEach(
                      t ->
                          jdbc.sql(
                                  """
              update account set reserved_micros = reserved_micros - ?, updated_at = now() where tenant_id = ?""")
                              .params(
                                  rows.stream()
                                      .filter(r -> r.tenant().equals(t))
                                      .mapToLong(Expired::amount)
                                      .sum(),
                                  t)
                              .update());
              return rows;
            });
    if (!expired.isEmpty()) {
      log.info("Expired {} stale reservations", expired.size());
      statuses.publish(new TreeSet<>(expired.stream().map(Expired::tenant).toList()));
    }
    return expired.size();
  }

  LocalDate today() {
    return LocalDate.now(clock.withZone(ZoneOffset.UTC));
  }

  static void requireTenant(String tenantId) {
    if (tenantId == null || tenantId.isBlank() || tenantId.length() > 200) {
      throw new IllegalArgumentException("tenant_id must be 1-200 characters");
    }
  }
}
