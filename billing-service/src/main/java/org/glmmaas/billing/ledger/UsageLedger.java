package org.glmmaas.billing.ledger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.pricing.Costs;
import org.glmmaas.billing.pricing.PriceCatalogue;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes usage events to the ledger exactly once. One call is one transaction: ledger rows
 * (request_id unique, ON CONFLICT DO NOTHING), the balance change, the settlement of the matching
 * reservations and the daily rollups commit or roll back together, so a redelivered batch only
 * bills the events that are not in the ledger yet. Each step is one statement over arrays, whatever
 * the batch size.
 *
 * <p>The rule for usage beyond its reservation: the ledger bills what the worker reports (those
 * tokens were generated and delivered), but never silently. An event whose cost exceeds the amount
 * its reservation held is logged (request id, tenant id, both amounts: no text) and counted in
 * {@code glm.billing.usage.over.reservation} (events) and {@code
 * glm.billing.usage.over.reservation.micros} (the excess). The gateway sends every worker request
 * the max_tokens its reservation covers, and counts the prompt high, so this stays at zero unless a
 * chat template outgrows the gateway's allowance for it.
 */
@Service
public class UsageLedger {

  private static final Logger log = LoggerFactory.getLogger(UsageLedger.class);

  private final JdbcTemplate jdbc;
  private final TransactionTemplate tx;
  private final PriceCatalogue prices;
  private final String currency;
  private final Counter overReservation;
  private final Counter overReservationMicros;

  public UsageLedger(
      JdbcTemplate jdbc,
      TransactionTemplate tx,
      PriceCatalogue prices,
      BillingProperties props,
      MeterRegistry meters) {
    this.overReservation =
        Counter.builder("glm.billing.usage.over.reservation")
            .description("Usage events that cost more than their reservation held")
            .register(meters);
    this.overReservationMicros =
        Counter.builder("glm.billing.usage.over.reservation.micros")
            .description("Cost billed beyond reservations, micro-units")
            .register(meters);
    this.jdbc = jdbc;
    this.tx = tx;
    this.prices = prices;
    this.currency = props.currency();
  }

  /** A priced event ready for the ledger. */
  record Priced(UsageEvent event, LocalDate date, long costMicros) {}

  record RollupKey(String tenant, LocalDate date, String model, String keyId)
      implements Comparable<RollupKey> {
    @Override
    public int compareTo(RollupKey o) {
      int c = tenant.compareTo(o.tenant);
      if (c == 0) c = date.compareTo(o.date);
      if (c == 0) c = model.compareTo(o.model);
      return c != 0 ? c : keyId.compareTo(o.keyId);
    }
  }

  static final class Rollup {
    long requests, prompt, cached, completion, cost;
  }

  /** Prices and bills valid events (see {@link UsageValidation}) in one transaction. */
  public IngestResult ingest(List<UsageEvent> events) {
    if (events.isEmpty()) {
      return new IngestResult(0, 0, java.util.Set.of(), List.of());
    }
    Map<String, Priced> byRequest = new LinkedHashMap<>();
    for (UsageEvent e : events) {
      byRequest.putIfAbsent(e.getRequestId(), price(e));
    }
    return tx.execute(
        status ->
            jdbc.execute(
                (ConnectionCallback<IngestResult>)
                    con -> {
                      List<Priced> inserted = insertLedgerRows(con, byRequest);
                      Map<String, long[]> perTenant = new TreeMap<>(); // tenant -> {cost, released}
                      Map<RollupKey, Rollup> rollups = new TreeMap<>();
                      for (Priced p : inserted) {
                        UsageEvent e = p.event();
                        perTenant.computeIfAbsent(e.getTenantId(), t -> new long[2])[0] +=
                            p.costMicros();
                        Rollup r =
                            rollups.computeIfAbsent(
                                new RollupKey(
                                    e.getTenantId(), p.date(), e.getModel(), e.getKeyId()),
                                k -> new Rollup());
                        r.requests++;
                        r.prompt += e.getPromptTokens();
                        r.cached += e.getCachedTokens();
                        r.completion += e.getCompletionTokens();
                        r.cost += p.costMicros();
                      }
                      if (!inserted.isEmpty()) {
                        settleReservations(con, inserted, perTenant);
                        updateAccounts(con, perTenant);
                        upsertRollups(con, rollups);
                      }
                      return new IngestResult(
                          inserted.size(),
                          events.size() - inserted.size(),
                          new TreeSet<>(perTenant.keySet()),
                          inserted.stream()
                              .map(p -> new IngestResult.Billed(p.event(), p.costMicros()))
                              .toList());
                    }));
  }

  private Priced price(UsageEvent e) {
    long at = e.getEndTimeUnixMs() > 0 ? e.getEndTimeUnixMs() : System.currentTimeMillis();
    LocalDate date = Instant.ofEpochMilli(at).atZone(ZoneOffset.UTC).toLocalDate();
    long cost =
        Costs.requestCost(
            e.getBatchId().isEmpty()
                ? prices.priceFor(e.getModel(), date)
                : prices.batchPriceFor(e.getModel(), date),
            e.getPromptTokens(),
            e.getCachedTokens(),
            e.getCompletionTokens());
    return new Priced(e, date, cost);
  }

  private List<Priced> insertLedgerRows(Connection con, Map<String, Priced> byRequest)
      throws SQLException {
    int n = byRequest.size();
    String[] req = new String[n],
        tenant = new String[n],
        key = new String[n],
        model = new String[n];
    String[] finish = new String[n],
        worker = new String[n],
        trace = new String[n],
        date = new String[n];
    Long[] prompt = new Long[n], cached = new Long[n], completion = new Long[n], cost = new Long[n];
    Long[] start = new Long[n], end = new Long[n];
    int i = 0;
    for (Priced p : byRequest.values()) {
      UsageEvent e = p.event();
      req[i] = e.getRequestId();
      tenant[i] = e.getTenantId();
      key[i] = e.getKeyId();
      model[i] = e.getModel();
      finish[i] = e.getFinishReason();
      worker[i] = e.getWorkerId();
      trace[i] = e.getTraceId();
      date[i] = p.date().toString();
      prompt[i] = (long) e.getPromptTokens();
      cached[i] = (long) e.getCachedTokens();
      completion[i] = (long) e.getCompletionTokens();
      cost[i] = p.costMicros();
      start[i] = e.getStartTimeUnixMs();
      end[i] = e.getEndTimeUnixMs();
      i++;
    }
    String sql =
        """
        insert into usage_ledger (request_id, tenant_id, key_id, model, prompt_tokens, cached_tokens,
          completion_tokens, cost_micros, currency, finish_reason, worker_id, start_time_ms,
          end_time_ms, usage_date, trace_id)
        select r, t, k, m, p, c, o, cost, ?, f, w, s, e, d::date, tr
        from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[],
                    ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::text[])
             as u(r, t, k, m, p, c, o, cost, f, w, s, e, d, tr)
        on conflict (request_id) do nothing
        returning request_id""";
    List<Priced> inserted = new ArrayList<>();
    try (PreparedStatement ps = con.prepareStatement(sql)) {
      ps.setString(1, currency);
      Object[][] arrays = {
        req,
        tenant,
        key,
        model,
        prompt,
        cached,
        completion,
        cost,
        finish,
        worker,
        start,
        end,
        date,
        trace
      };
      String[] types = {
        "text", "text", "text", "text", "bigint", "bigint", "bigint", "bigint", "text", "text",
        "bigint", "bigint", "text", "text"
      };
      for (int a = 0; a < arrays.length; a++) {
        ps.setArray(a + 2, con.createArrayOf(types[a], arrays[a]));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.add(byRequest.get(rs.getString(1)));
        }
      }
    }
    return inserted;
  }

  /**
   * Closes the OPEN reservations of the newly billed requests; their holds go back. A cost above
   * what the reservation held is logged and counted (see the class comment).
   */
  private void settleReservations(
      Connection con, List<Priced> inserted, Map<String, long[]> perTenant) throws SQLException {
    String[] ids = inserted.stream().map(p -> p.event().getRequestId()).toArray(String[]::new);
    Map<String, Long> costs = new java.util.HashMap<>();
    for (Priced p : inserted) {
      costs.put(p.event().getRequestId(), p.costMicros());
    }
    try (PreparedStatement ps =
        con.prepareStatement(
            """
        update reservation set status = 'SETTLED', closed_at = now()
        where request_id = any(?) and status = 'OPEN'
        returning tenant_id, amount_micros, request_id""")) {
      ps.setArray(1, con.createArrayOf("text", ids));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long held = rs.getLong(2);
          perTenant.computeIfAbsent(rs.getString(1), t -> new long[2])[1] += held;
          long cost = costs.getOrDefault(rs.getString(3), 0L);
          if (cost > held) {
            overReservation.increment();
            overReservationMicros.increment(cost - held);
            log.warn(
                "usage of request {} (tenant {}) costs {} micros, {} more than its reservation held;"
                    + " billed in full",
                rs.getString(3),
                rs.getString(1),
                cost,
                cost - held);
          }
        }
      }
    }
  }

  /** Creates missing accounts (postpaid usage still bills) and applies cost and released holds. */
  private void updateAccounts(Connection con, Map<String, long[]> perTenant) throws SQLException {
    int n = perTenant.size();
    String[] tenants = perTenant.keySet().toArray(String[]::new); // sorted: stable lock order
    Long[] costs = new Long[n], released = new Long[n];
    for (int i = 0; i < n; i++) {
      costs[i] = perTenant.get(tenants[i])[0];
      released[i] = perTenant.get(tenants[i])[1];
    }
    Array tenantArray = con.createArrayOf("text", tenants);
    try (PreparedStatement ps =
        con.prepareStatement(
            """
        insert into account (tenant_id, currency) select t, ? from unnest(?::text[]) as u(t)
        on conflict (tenant_id) do nothing""")) {
      ps.setString(1, currency);
      ps.setArray(2, tenantArray);
      ps.executeUpdate();
    }
    try (PreparedStatement ps =
        con.prepareStatement(
            """
        update account a set balance_micros = a.balance_micros - d.cost,
                             reserved_micros = a.reserved_micros - d.released,
                             updated_at = now()
        from unnest(?::text[], ?::bigint[], ?::bigint[]) as d(t, cost, released)
        where a.tenant_id = d.t""")) {
      ps.setArray(1, tenantArray);
      ps.setArray(2, con.createArrayOf("bigint", costs));
      ps.setArray(3, con.createArrayOf("bigint", released));
      ps.executeUpdate();
    }
  }

  private void upsertRollups(Connection con, Map<RollupKey, Rollup> rollups) throws SQLException {
    int n = rollups.size();
    String[] tenant = new String[n],
        date = new String[n],
        model = new String[n],
        key = new String[n];
    Long[] requests = new Long[n],
        prompt = new Long[n],
        cached = new Long[n],
        completion = new Long[n];
    Long[] cost = new Long[n];
    int i = 0;
    for (Map.Entry<RollupKey, Rollup> e : rollups.entrySet()) {
      tenant[i] = e.getKey().tenant();
      date[i] = e.getKey().date().toString();
      model[i] = e.getKey().model();
      key[i] = e.getKey().keyId();
      Rollup r = e.getValue();
      requests[i] = r.requests;
      prompt[i] = r.prompt;
      cached[i] = r.cached;
      completion[i] = r.completion;
      cost[i] = r.cost;
      i++;
    }
    try (PreparedStatement ps =
        con.prepareStatement(
            """
        insert into usage_daily (tenant_id, usage_date, model, key_id, requests, prompt_tokens,
                                 cached_tokens, completion_tokens, cost_micros)
        select t, d::date, m, k, rq, p, c, o, cost
        from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[],
                    ?::bigint[], ?::bigint[]) as u(t, d, m, k, rq, p, c, o, cost)
        on conflict (tenant_id, usage_date, model, key_id) do update set
          requests = usage_daily.requests + excluded.requests,
          prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens,
          cached_tokens = usage_daily.cached_tokens + excluded.cached_tokens,
          completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens,
          cost_micros = usage_daily.cost_micros + excluded.cost_micros""")) {
      Object[][] arrays = {tenant, date, model, key, requests, prompt, cached, completion, cost};
      for (int a = 0; a < arrays.length; a++) {
        ps.setArray(a + 1, con.createArrayOf(a < 4 ? "text" : "bigint", arrays[a]));
      }
      ps.executeUpdate();
    }
  }

  /** Used by tests and the benchmark: number of rows in the ledger. */
  public long count() {
    Long n = jdbc.queryForObject("select count(*) from usage_ledger", Long.class);
    return n == null ? 0 : n;
  }
}
