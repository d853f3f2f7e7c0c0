package org.glmmaas.billing;

import java.time.Duration;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings under {@code glm.billing.*}.
 *
 * @param adminToken bearer token of the admin HTTP API; when empty the admin API refuses every call
 * @param currency ISO 4217 code of new accounts and of all prices
 * @param defaultPrice price of a model that has no row in the catalogue, so any served model is
 *     billable
 * @param reservationTtl an OPEN reservation older than this is expired and its hold returned
 * @param grpc the BillingService gRPC server, {@code glm.billing.grpc.*} ({@link
 *     GrpcServerProperties}; port 9082)
 * @param kafka topics and partitioning
 * @param batchPricePercent the batch price of every catalogue price (and the default price), in
 *     percent of it: usage events of batch lines ({@code batch_id} set) and their reservations are
 *     priced at it
 */
@ConfigurationProperties("glm.billing")
public record BillingProperties(
    @DefaultValue("") String adminToken,
    @DefaultValue("CNY") String currency,
    @DefaultValue DefaultPrice defaultPrice,
    @DefaultValue("10m") Duration reservationTtl,
    @DefaultValue GrpcServerProperties grpc,
    @DefaultValue Kafka kafka,
    @DefaultValue("50") int batchPricePercent) {

  public static final int DEFAULT_GRPC_PORT = 9082;

  public BillingProperties {
    grpc = grpc.withDefaultPort(DEFAULT_GRPC_PORT);
    if (reservationTtl.isNegative() || reservationTtl.isZero()) {
      throw new IllegalArgumentException("glm.billing.reservation-ttl must be positive");
    }
    if (batchPricePercent < 0 || batchPricePercent > 100) {
      throw new IllegalArgumentException("glm.billing.batch-price-percent must be 0-100");
    }
    if (!currency.matches("[A-Z]{3}")) {
      throw new IllegalArgumentException(
          "glm.billing.currency must be an ISO 4217 code, got " + currency);
    }
  }

  /** Micro-units of the currency per million tokens (1 CNY/Mtok = 1_000_000). */
  public record DefaultPrice(
      @DefaultValue("1000000") long inputMicrosPerMtok,
      @DefaultValue("500000") long cachedInputMicrosPerMtok,
      @DefaultValue("2000000") long outputMicrosPerMtok) {
    public DefaultPrice {
      if (inputMicrosPerMtok < 0 || cachedInputMicrosPerMtok < 0 || outputMicrosPerMtok < 0) {
        throw new IllegalArgumentException("glm.billing.default-price.* must not be negative");
      }
    }
  }

  /**
   * @param usageTopic topic of UsageEvent records (key = tenant id)
   * @param deadLetterTopic where undecodable or invalid usage records go
   * @param statusTopic compacted topic of AccountStatus records (key = tenant id)
   * @param usagePartitions partitions of the usage topic when billing creates it
   * @param consumerGroup consumer group of the usage listener
   */
  public record Kafka(
      @DefaultValue("glm.usage.v1") String usageTopic,
      @DefaultValue("glm.usage.v1.dlt") String deadLetterTopic,
      @DefaultValue("glm.account-status.v1") String statusTopic,
      @DefaultValue("3") int usagePartitions,
      @DefaultValue("glm-billing") String consumerGroup) {}
}
