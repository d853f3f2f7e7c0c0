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
 * @param workers static worker list, "host:port" gRPC addresses (IPv6 as "[addr]:port"); a host
 *     name becomes one worker per address it resolves to
 * @param requestTimeout deadline of a chat call end to end (the gRPC deadline sent to the worker)
 * @param maxBodySize largest accepted request body
 * @param maxTokensLimit largest accepted max_tokens (absurd values are a 400)
 * @param defaultMaxTokens max_tokens assumed for limits and reservations when the client sets none
 * @param dataDir where async task results are kept when no Redis is configured
 * @param auth auth-service client
 * @param billing billing-service client
 * @param routing worker selection and health
 * @param discovery where the worker list comes from
 * @param async BigModel async task results
 * @param files the Files API ({@code /v1/files}, {@code /api/paas/v4/files})
 * @param batch the Batches API and its Kafka execution
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
    @DefaultValue Routing routing,
    @DefaultValue Discovery discovery,
    @DefaultValue Async async,
    @DefaultValue Files files,
    @DefaultValue Batch batch) {

  /**
   * @param address auth-service gRPC "host:port"; empty means every call is refused with 1000
   * @param timeout deadline of one Authenticate call
   * @param maxCacheTtl upper bound on how long a principal is cached, whatever the service says
   * @param maxCacheEntries cached credentials kept at most
   */
  public record Auth(
      @DefaultValue("") String address,
      @DefaultValue("2s") Duration timeout,
      @DefaultValue("5m") Duration maxCacheTtl,
      @DefaultValue("100000") int maxCacheEntries) {}

  /**
   * @param address billing-service gRPC "host:port"; empty disables reservations and billing routes
   * @param timeout deadline of one billing call
   */
  public record Billing(@DefaultValue("") String address, @DefaultValue("2s") Duration timeout) {}

  /**
   * @param affinityPrefixChars characters of the rendered messages hashed (with the tenant) for
   *     prefix affinity
   * @param affinitySlack how much more loaded than the least-loaded worker the affine worker may be
   *     and still be chosen (load units: a waiting request counts 2, a running one 1)
   * @param maxAttempts workers tried for one request when they fail before the first token
   * @param watchMinInterval minimum spacing of load reports asked of each worker
   * @param reconnectBackoff delay before re-opening a broken load stream (doubles up to 5 s)
   * @param loadReportTimeout a worker sends load reports only on change, so after this much silence
   *     the gateway re-subscribes (the contract answers a new WatchLoad with a report at once); a
   *     worker that does not answer that within the same time is marked unhealthy (no traffic)
   * @param firstTokenTimeout a Generate call with no token this long after the worker accepted it
   *     (began its prefill) is cancelled, retried on another worker, and its worker is quarantined;
   *     for a worker that does not send {@code Accepted} (older than the capability "accepted") it
   *     counts from the send, as before
   * @param queueTimeout how long a call may wait in a worker's queue (until the worker accepts it)
   *     before it is cancelled and retried on another worker; the worker is busy, not broken, so it
   *     is not quarantined; zero: no limit but the request's own timeout
   * @param quarantine how long a worker that stalled before the first token gets no traffic
   * @param stallTimeout a streaming call that asks for tokens and gets none for this long is cut
   *     (the client gets an error; what it received is billed) and its worker quarantined; zero: no
   *     limit but the request's own timeout
   * @param loopAffineChannels one gRPC channel per worker (and to billing) and HTTP event loop, so
   *     a call stays on the thread that received it (fewer thread wake-ups: lower latency, most of
   *     all on small machines); false: one channel each on gRPC's own threads
   */
  public record Routing(
      @DefaultValue("512") int affinityPrefixChars,
      @DefaultValue("4") double affinitySlack,
      @DefaultValue("3") int maxAttempts,
      @DefaultValue("100ms") Duration watchMinInterval,
      @DefaultValue("250ms") Duration reconnectBackoff,
      @DefaultValue("2s") Duration loadReportTimeout,
      @DefaultValue("30s") Duration firstTokenTimeout,
      @DefaultValue("2m") Duration queueTimeout,
      @DefaultValue("10s") Duration quarantine,
      @DefaultValue("30s") Duration stallTimeout,
      @DefaultValue("true") boolean loopAffineChannels) {}

  /** Worker discovery modes. */
  public enum DiscoveryMode {
    STATIC,
    KUBERNETES
  }

  /**
   * @param mode {@code static}: the {@code glm.gateway.workers} list, where a host name stands for
   *     every address it resolves to (a headless Service, a scaled compose service); {@code
   *     kubernetes}: the ready endpoints of a Service, watched through its EndpointSlices
   * @param dnsRefresh static mode: how often the names in {@code glm.gateway.workers} are resolved
   *     again (the JDK's own cache, {@code networkaddress.cache.ttl}, 30 s by default, comes on
   *     top); a name that fails to resolve keeps its last addresses
   * @param kubernetes settings of the kubernetes mode
   */
  public record Discovery(
      @DefaultValue("static") DiscoveryMode mode,
      @DefaultValue("5s") Duration dnsRefresh,
      @DefaultValue Kubernetes kubernetes) {}

  /**
   * @param namespace namespace of the worker Service; empty: the gateway's own (from the service
   *     account, else the kube config)
   * @param service name of the worker Service (EndpointSlices labelled {@code
   *     kubernetes.io/service-name=<service>})
   * @param portName the gRPC port's name in the slices; empty: the first port
   */
  public record Kubernetes(
      @DefaultValue("") String namespace,
      @DefaultValue("inference-worker") String service,
      @DefaultValue("grpc") String portName) {}

  /**
   * @param resultTtl how long a task result is kept after its last write (BigModel keeps a day)
   * @param sweepInterval how often expired file-store results are deleted (Redis expires its own)
   */
  public record Async(
      @DefaultValue("24h") Duration resultTtl, @DefaultValue("10m") Duration sweepInterval) {}

  /**
   * @param maxFileSize largest accepted upload (413 beyond)
   * @param tenantQuota most bytes of files one tenant may keep (an upload past it is a 400)
   * @param store where files live: {@code folder} (the data directory, one gateway) or {@code s3}
   *     (an S3-compatible bucket shared by every replica)
   * @param s3 the bucket, for {@code store=s3}
   */
  public record Files(
      @DefaultValue("100MB") DataSize maxFileSize,
      @DefaultValue("10GB") DataSize tenantQuota,
      @DefaultValue("folder") String store,
      @DefaultValue S3 s3) {}

  /**
   * The S3-compatible bucket of {@code files.store=s3} (docs/files.md).
   *
   * @param endpoint the S3 API URL, e.g. {@code http://minio:9000}; blank for AWS S3
   * @param region the signing region
   * @param bucket an existing bucket (the gateway does not start without it)
   * @param prefix a key prefix for every object
   * @param pathStyle path-style addressing (MinIO and most self-hosted stores)
   * @param accessKey explicit credentials; blank: the AWS default chain
   * @param secretKey the secret for {@code accessKey} (never logged)
   */
  public record S3(
      @DefaultValue("") String endpoint,
      @DefaultValue("us-east-1") String region,
      @DefaultValue("") String bucket,
      @DefaultValue("") String prefix,
      @DefaultValue("false") boolean pathStyle,
      @DefaultValue("") String accessKey,
      @DefaultValue("") String secretKey) {

    @Override
    public String toString() {
      // never the secret (a record's own toString would print it)
      return "S3[endpoint="
          + endpoint
          + ", region="
          + region
          + ", bucket="
          + bucket
          + ", prefix="
          + prefix
          + ", pathStyle="
          + pathStyle
          + ", credentials="
          + (accessKey.isBlank() ? "default chain" : "explicit key")
          + "]";
    }
  }

  /**
   * @param perWorkerInFlight batch lines one gateway runs at once per worker it knows (interactive
   *     calls keep the rest of each worker's batch)
   * @param tenantTokenCap most tokens (prompt bound + max_tokens, per line) one tenant may have
   *     enqueued in unfinished batches; a create past it is a 429
   * @param sweepInterval how often batches are checked for their end, expiry and restarts
   * @param partitions partitions of glm.batch-requests.v1 when the gateway creates it
   * @param enabled whether this gateway runs batch lines (the API answers either way)
   */
  public record Batch(
      @DefaultValue("2") int perWorkerInFlight,
      @DefaultValue("20000000") long tenantTokenCap,
      @DefaultValue("5s") Duration sweepInterval,
      @DefaultValue("6") int partitions,
      @DefaultValue("true") boolean enabled) {}
}
