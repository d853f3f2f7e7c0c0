package org.glmmaas.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Settings of the gateway, under {@code glm.gateway.*}.
 *
 * @param workers static worker list, "host:port" gRPC addresses
 * @param requestTimeout deadline of a chat call end to end (the gRPC deadline sent to the worker)
 * @param maxBodySize largest accepted request body
 * @param maxTokensLimit largest accepted max_tokens (absurd values are a 400)
 * @param defaultMaxTokens max_tokens assumed for limits and reservations when the client sets none
 * @param dataDir where async task results are kept when no Redis is configured
 * @param auth auth-service client
 * @param billing billing-service client
 * @param routing worker selection
 */
@ConfigurationProperties("glm.gateway")
public record GatewayProperties(
    @DefaultValue List<String> workers,
    @DefaultValue("10m") Duration requestTimeout,
    @DefaultValue("4MB") DataSize maxBodySize,
    @DefaultValue("131072") int maxTokensLimit,
    @DefaultValue("1024") int defaultMaxTokens,
    @DefaultValue("data/gateway") Path dataDir,
    @DefaultValue Auth auth,
    @DefaultValue Billing billing,
    @DefaultValue Routing routing) {

  /**
   * @param address auth-service gRPC "host:port"; empty means every call is refused with 1000
   * @param timeout deadline of one Authenticate call
   * @param maxCacheTtl upper bound on how long a principal is cached, whatever the service says
   * @param maxCacheEntries cached credentials kept at most
   */
  public record Auth(@DefaultValue("") String address, @DefaultValue("2s") Duration timeout,
      @DefaultValue("5m") Duration maxCacheTtl, @DefaultValue("100000") int maxCacheEntries) {}

  /**
   * @param address billing-service gRPC "host:port"; empty disables reservations and billing routes
   * @param timeout deadline of one billing call
   */
  public record Billing(@DefaultValue("") String address, @DefaultValue("2s") Duration timeout) {}

  /**
   * @param affinityPrefixChars characters of the rendered messages hashed (with the tenant) for
   *     prefix affinity
   * @param affinitySlack how much more loaded than the least-loaded worker the affine worker may
   *     be and still be chosen (load units: a waiting request counts 2, a running one 1)
   * @param maxAttempts workers tried for one request when they fail before the first token
   * @param watchMinInterval minimum spacing of load reports asked of each worker
   * @param reconnectBackoff delay before re-opening a broken load stream (doubles up to 5 s)
   */
  public record Routing(@DefaultValue("512") int affinityPrefixChars,
      @DefaultValue("4") double affinitySlack, @DefaultValue("3") int maxAttempts,
      @DefaultValue("100ms") Duration watchMinInterval,
      @DefaultValue("250ms") Duration reconnectBackoff) {}
}
