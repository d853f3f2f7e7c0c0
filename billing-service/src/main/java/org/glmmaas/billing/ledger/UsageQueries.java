package org.glmmaas.billing.ledger;

import java.time.LocalDate;
import java.time.YearMonth;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/** Reads of the daily rollups; every query is scoped to one tenant. */
@Service
public class UsageQueries {

  static final long MAX_DAYS = 366;

  private final JdbcClient jdbc;

  public UsageQueries(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /** Rows of {@code tenantId} from {@code from} to {@code to}, both inclusive (UTC days). */
  public List<UsageRow> usage(String tenantId, LocalDate from, LocalDate to) {
    if (from.isAfter(to)) {
      throw new IllegalArgumentException("from must not be after to");
    }
    if (ChronoUnit.DAYS.between(from, to) >= MAX_DAYS) {
      throw new IllegalArgumentException("a period covers at most " + MAX_DAYS + " days");
    }
    return jdbc.sql(
            """
        select usage_date, model, key_id, requests, prompt_tokens, cached_tokens, completion_tokens,
               cost_micros
        from usage_daily where tenant_id = ? and usage_date between ? and ?
        order by usage_date, model, key_id""")
        .params(tenantId, from, to)
        .query(
            (rs, i) ->
                new UsageRow(
                    rs.getObject(1, LocalDate.class),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getLong(4),
                    rs.getLong(5),
                    rs.getLong(6),
                    rs.getLong(7),
                    rs.getLong(8)))
        .list();
  }

  /** Sum of top-ups of a tenant within a month (UTC). */
  public long topUpsMicros(String tenantId, YearMonth month) {
    Long sum =
        jdbc.sql(
                """
        select coalesce(sum(amount_micros), 0) from top_up
        where tenant_id = ? and created_at >= ?::date and created_at < ?::date""")
            .params(tenantId, month.atDay(1).toString(), month.plusMonths(1).atDay(1).toString())
            .query(Long.class)
            .single();
    return sum == null ? 0 : sum;
  }
}
