package org.glmmaas.billing.api;

import java.math.BigDecimal;
import java.util.List;
import org.glmmaas.billing.ledger.UsageRow;

/** JSON bodies of the admin API (snake_case on the wire). */
final class AdminDtos {

  private AdminDtos() {}

  /** Money arrives as a JSON number and must be a whole number of micro-units (1.5 is refused). */
  record TopUpRequest(BigDecimal amountMicros, String currency) {}

  record BalanceResponse(
      String tenantId,
      long balanceMicros,
      long reservedMicros,
      long availableMicros,
      String currency) {}

  record UsageRowDto(
      String date,
      String model,
      String keyId,
      long requests,
      long promptTokens,
      long cachedTokens,
      long completionTokens,
      long costMicros) {
    static UsageRowDto of(UsageRow r) {
      return new UsageRowDto(
          r.date().toString(),
          r.model(),
          r.keyId(),
          r.requests(),
          r.promptTokens(),
          r.cachedTokens(),
          r.completionTokens(),
          r.costMicros());
    }
  }

  record UsageResponse(
      String tenantId, String from, String to, String currency, List<UsageRowDto> rows) {}

  record StatementResponse(
      String tenantId,
      String month,
      String currency,
      List<UsageRowDto> rows,
      long totalRequests,
      long totalPromptTokens,
      long totalCachedTokens,
      long totalCompletionTokens,
      long totalCostMicros,
      long topUpsMicros,
      long balanceMicros) {}

  record PriceDto(
      String model,
      Long inputMicrosPerMtok,
      Long cachedInputMicrosPerMtok,
      Long outputMicrosPerMtok,
      String effectiveFrom) {}

  record PriceRequest(
      BigDecimal inputMicrosPerMtok,
      BigDecimal cachedInputMicrosPerMtok,
      BigDecimal outputMicrosPerMtok,
      String effectiveFrom) {}

  /** A whole number of micro-units, or a 400 naming the field. */
  static long micros(BigDecimal value, String field) {
    try {
      return value.longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(field + " must be a whole number of micro-units");
    }
  }

  record PricesResponse(String currency, List<PriceDto> prices) {}
}
