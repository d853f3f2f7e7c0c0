package org.glmmaas.billing.api;

import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.account.AccountBalance;
import org.glmmaas.billing.account.AccountService;
import org.glmmaas.billing.api.AdminDtos.BalanceResponse;
import org.glmmaas.billing.api.AdminDtos.PriceDto;
import org.glmmaas.billing.api.AdminDtos.PriceRequest;
import org.glmmaas.billing.api.AdminDtos.PricesResponse;
import org.glmmaas.billing.api.AdminDtos.StatementResponse;
import org.glmmaas.billing.api.AdminDtos.TopUpRequest;
import org.glmmaas.billing.api.AdminDtos.UsageResponse;
import org.glmmaas.billing.api.AdminDtos.UsageRowDto;
import org.glmmaas.billing.ledger.UsageQueries;
import org.glmmaas.billing.ledger.UsageRow;
import org.glmmaas.billing.pricing.Price;
import org.glmmaas.billing.pricing.PriceCatalogue;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The admin/operator HTTP API (bearer admin token, see {@link AdminAuth}). */
@RestController
@RequestMapping("/admin/v1")
public class AdminController {

  private final AccountService accounts;
  private final UsageQueries usage;
  private final PriceCatalogue prices;
  private final BillingProperties props;

  public AdminController(
      AccountService accounts, UsageQueries usage, PriceCatalogue prices, BillingProperties props) {
    this.accounts = accounts;
    this.usage = usage;
    this.prices = prices;
    this.props = props;
  }

  @PostMapping("/accounts/{tenant_id}/top-ups")
  public BalanceResponse topUp(
      @PathVariable("tenant_id") String tenantId, @RequestBody TopUpRequest body) {
    if (body == null || body.amountMicros() == null) {
      throw new IllegalArgumentException("amount_micros is required");
    }
    return toDto(
        accounts.topUp(
            tenantId, AdminDtos.micros(body.amountMicros(), "amount_micros"), body.currency()));
  }

  @GetMapping("/accounts/{tenant_id}/balance")
  public BalanceResponse balance(@PathVariable("tenant_id") String tenantId) {
    return toDto(accounts.balance(tenantId));
  }

  @GetMapping("/accounts/{tenant_id}/usage")
  public UsageResponse usage(
      @PathVariable("tenant_id") String tenantId,
      @RequestParam("from") String from,
      @RequestParam("to") String to) {
    LocalDate f = LocalDate.parse(from);
    LocalDate t = LocalDate.parse(to);
    return new UsageResponse(
        tenantId,
        f.toString(),
        t.toString(),
        props.currency(),
        usage.usage(tenantId, f, t).stream().map(UsageRowDto::of).toList());
  }

  @GetMapping("/accounts/{tenant_id}/statements/{month}")
  public ResponseEntity<?> statement(
      @PathVariable("tenant_id") String tenantId,
      @PathVariable("month") String month,
      @RequestParam(name = "format", required = false) String format,
      @RequestHeader(name = HttpHeaders.ACCEPT, required = false) String accept) {
    YearMonth m = YearMonth.parse(month);
    List<UsageRow> rows = usage.usage(tenantId, m.atDay(1), m.atEndOfMonth());
    StatementResponse s =
        new StatementResponse(
            tenantId,
            m.toString(),
            props.currency(),
            rows.stream().map(UsageRowDto::of).toList(),
            rows.stream().mapToLong(UsageRow::requests).sum(),
            rows.stream().mapToLong(UsageRow::promptTokens).sum(),
            rows.stream().mapToLong(UsageRow::cachedTokens).sum(),
            rows.stream().mapToLong(UsageRow::completionTokens).sum(),
            rows.stream().mapToLong(UsageRow::costMicros).sum(),
            usage.topUpsMicros(tenantId, m),
            accounts.balance(tenantId).balanceMicros());
    boolean csv =
        "csv".equalsIgnoreCase(format)
            || (format == null && accept != null && accept.contains("text/csv"));
    if (format != null && !csv && !"json".equalsIgnoreCase(format)) {
      throw new IllegalArgumentException("format must be json or csv");
    }
    if (!csv) {
      return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(s);
    }
    return ResponseEntity.ok()
        .contentType(new MediaType("text", "csv", java.nio.charset.StandardCharsets.UTF_8))
        .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"statement-" + m + ".csv\"")
        .body(StatementCsv.render(s));
  }

  @GetMapping("/prices")
  public PricesResponse prices() {
    return new PricesResponse(
        props.currency(),
        prices.list().stream()
            .map(
                p ->
                    new PriceDto(
                        p.model(),
                        p.inputMicrosPerMtok(),
                        p.cachedInputMicrosPerMtok(),
                        p.outputMicrosPerMtok(),
                        p.effectiveFrom().toString()))
            .toList());
  }

  @PutMapping("/prices/{model}")
  public PriceDto putPrice(@PathVariable("model") String model, @RequestBody PriceRequest body) {
    if (body == null || body.inputMicrosPerMtok() == null || body.outputMicrosPerMtok() == null) {
      throw new IllegalArgumentException(
          "input_micros_per_mtok and output_micros_per_mtok are required");
    }
    long input = AdminDtos.micros(body.inputMicrosPerMtok(), "input_micros_per_mtok");
    long output = AdminDtos.micros(body.outputMicrosPerMtok(), "output_micros_per_mtok");
    long cached =
        body.cachedInputMicrosPerMtok() == null
            ? input
            : AdminDtos.micros(body.cachedInputMicrosPerMtok(), "cached_input_micros_per_mtok");
    LocalDate from =
        body.effectiveFrom() == null
            ? LocalDate.now(ZoneOffset.UTC)
            : LocalDate.parse(body.effectiveFrom());
    Price p = prices.put(new Price(model, from, input, cached, output));
    return new PriceDto(
        p.model(),
        p.inputMicrosPerMtok(),
        p.cachedInputMicrosPerMtok(),
        p.outputMicrosPerMtok(),
        p.effectiveFrom().toString());
  }

  private static BalanceResponse toDto(AccountBalance b) {
    return new BalanceResponse(
        b.tenantId(), b.balanceMicros(), b.reservedMicros(), b.availableMicros(), b.currency());
  }
}
