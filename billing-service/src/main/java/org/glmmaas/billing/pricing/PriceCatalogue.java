package org.glmmaas.billing.pricing;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.glmmaas.billing.BillingProperties;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;

/**
 * Prices per model with effective-from dates. Reads are served from an in-memory copy (the table is
 * tiny), refreshed after every change and every 30 s so several billing instances converge.
 */
@Service
public class PriceCatalogue {

  /** Model name used in listings for the configured default price. */
  public static final String DEFAULT_MODEL = "*";

  private final JdbcClient jdbc;
  private final Price defaultPrice;
  private final int batchPercent;
  private volatile Map<String, NavigableMap<LocalDate, Price>> byModel = Map.of();

  public PriceCatalogue(JdbcClient jdbc, BillingProperties props) {
    this.jdbc = jdbc;
    this.batchPercent = props.batchPricePercent();
    var d = props.defaultPrice();
    this.defaultPrice =
        new Price(
            DEFAULT_MODEL,
            LocalDate.EPOCH,
            d.inputMicrosPerMtok(),
            d.cachedInputMicrosPerMtok(),
            d.outputMicrosPerMtok());
    refresh();
  }

  /** The price in force for {@code model} on {@code date} (UTC); the default price if none. */
  public Price priceFor(String model, LocalDate date) {
    NavigableMap<LocalDate, Price> rows = byModel.get(model);
    if (rows != null) {
      Map.Entry<LocalDate, Price> e = rows.floorEntry(date);
      if (e != null) {
        return e.getValue();
      }
    }
    return defaultPrice;
  }

  /**
   * The batch price of {@code model} on {@code date}: each of its per-token prices at
   * glm.billing.batch-price-percent (rounded down to a micro-unit per million tokens).
   */
  public Price batchPriceFor(String model, LocalDate date) {
    Price p = priceFor(model, date);
    return new Price(
        p.model(),
        p.effectiveFrom(),
        p.inputMicrosPerMtok() * batchPercent / 100,
        p.cachedInputMicrosPerMtok() * batchPercent / 100,
        p.outputMicrosPerMtok() * batchPercent / 100);
  }

  /** The batch price in percent of the online price. */
  public int batchPercent() {
    return batchPercent;
  }

  /** All catalogue rows (model, then date), followed by the default price under model "*". */
  public List<Price> list() {
    List<Price> out = new ArrayList<>();
    byModel.values().forEach(m -> out.addAll(m.values()));
    out.sort(Comparator.comparing(Price::model).thenComparing(Price::effectiveFrom));
    out.add(defaultPrice);
    return out;
  }

  public Price put(Price p) {
    if (p.model().isBlank() || p.model().length() > 200 || DEFAULT_MODEL.equals(p.model())) {
      throw new IllegalArgumentException("model must be 1-200 characters and not \"*\"");
    }
    jdbc.sql(
            """
        insert into price (model, effective_from, input_micros_per_mtok, cached_input_micros_per_mtok,
                           output_micros_per_mtok)
        values (?, ?, ?, ?, ?)
        on conflict (model, effective_from) do update set
          input_micros_per_mtok = excluded.input_micros_per_mtok,
          cached_input_micros_per_mtok = excluded.cached_input_micros_per_mtok,
          output_micros_per_mtok = excluded.output_micros_per_mtok,
          updated_at = now()""")
        .params(
            p.model(),
            p.effectiveFrom(),
            p.inputMicrosPerMtok(),
            p.cachedInputMicrosPerMtok(),
            p.outputMicrosPerMtok())
        .update();
    refresh();
    return p;
  }

  /** The cost of the cheapest possible call (1 prompt + 1 completion token) at today's prices. */
  public long cheapestCallMicros(LocalDate today) {
    long min = Costs.cheapestCall(defaultPrice);
    for (String model : byModel.keySet()) {
      min = Math.min(min, Costs.cheapestCall(priceFor(model, today)));
    }
    return min;
  }

  @Scheduled(fixedDelayString = "PT30S", initialDelayString = "PT30S")
  public void refresh() {
    Map<String, NavigableMap<LocalDate, Price>> fresh = new HashMap<>();
    jdbc.sql(
            """
        select model, effective_from, input_micros_per_mtok, cached_input_micros_per_mtok,
               output_micros_per_mtok from price""")
        .query(
            (rs, i) ->
                new Price(
                    rs.getString(1),
                    rs.getObject(2, LocalDate.class),
                    rs.getLong(3),
                    rs.getLong(4),
                    rs.getLong(5)))
        .list()
        .forEach(
            p -> fresh.computeIfAbsent(p.model(), k -> new TreeMap<>()).put(p.effectiveFrom(), p));
    byModel = fresh;
  }
}
