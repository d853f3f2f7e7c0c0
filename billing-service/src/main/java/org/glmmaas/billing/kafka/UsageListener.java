package org.glmmaas.billing.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.account.AccountStatusPublisher;
import org.glmmaas.billing.ledger.IngestResult;
import org.glmmaas.billing.ledger.UsageLedger;
import org.glmmaas.billing.ledger.UsageValidation;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Consumes usage events one poll batch at a time: poison records (undecodable or invalid) are
 * written to the dead-letter topic, the rest are billed in ONE database transaction, and only then
 * does the container commit the batch's offsets. A crash anywhere before the offset commit
 * redelivers the batch, and the ledger's unique request id makes the redelivery a no-op.
 *
 * <p>After the commit, {@code glm.billing.spend.micros{model}} grows by what the new events cost
 * (never for duplicates). Log lines about one event carry its trace id in the MDC as {@code
 * trace.id} (the event's {@code trace_id}, else the W3C {@code traceparent} header), which the ECS
 * JSON logs write as {@code "trace":{"id":...}}; the per-event "billed" / "duplicate" lines are
 * DEBUG (enable {@code logging.level.org.glmmaas.billing.kafka=DEBUG}), dead letters WARN.
 */
@Component
public class UsageListener {

  private static final Logger log = LoggerFactory.getLogger(UsageListener.class);
  public static final String DLT_REASON_HEADER = "glm-dlt-reason";

  /** MDC key of the W3C trace id; ECS JSON logs write it as {@code trace.id}. */
  public static final String TRACE_ID = "trace.id";

  private static final Pattern TRACE = Pattern.compile("[0-9a-f]{32}");

  private final UsageLedger ledger;
  private final AccountStatusPublisher statuses;
  private final KafkaTemplate<String, byte[]> kafka;
  private final BillingProperties props;
  private final Counter billed;
  private final Counter duplicates;
  private final Counter deadLettered;
  private final MeterRegistry meters;
  private final Map<String, Counter> spend = new ConcurrentHashMap<>();

  public UsageListener(
      UsageLedger ledger,
      AccountStatusPublisher statuses,
      KafkaTemplate<String, byte[]> kafka,
      BillingProperties props,
      MeterRegistry meters) {
    this.ledger = ledger;
    this.statuses = statuses;
    this.kafka = kafka;
    this.props = props;
    this.billed = Counter.builder("glm.billing.usage.events.billed").register(meters);
    this.duplicates = Counter.builder("glm.billing.usage.events.duplicate").register(meters);
    this.deadLettered = Counter.builder("glm.billing.usage.events.dead.lettered").register(meters);
    this.meters = meters;
  }

  @KafkaListener(
      id = "usage-ledger",
      topics = "${glm.billing.kafka.usage-topic:glm.usage.v1}",
      groupId = "${glm.billing.kafka.consumer-group:glm-billing}",
      batch = "true")
  public void onBatch(List<ConsumerRecord<String, byte[]>> records) throws Exception {
    List<UsageEvent> valid = new ArrayList<>(records.size());
    List<CompletableFuture<?>> dlt = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      String problem;
      try {
        UsageEvent e = r.value() == null ? null : UsageEvent.parseFrom(r.value());
        problem = e == null ? "empty record value" : UsageValidation.problem(e).orElse(null);
        if (problem == null) {
          if (e.getTraceId().isEmpty()) { // an older producer: the trace is only in the header
            String header = traceparentTraceId(r);
            e = header == null ? e : e.toBuilder().setTraceId(header).build();
          }
          valid.add(e);
          continue;
        }
      } catch (InvalidProtocolBufferException ex) {
        problem = "undecodable UsageEvent: " + ex.getMessage();
      }
      String why = problem;
      withTrace(
          traceId(r),
          () ->
              log.warn(
                  "Usage record {}-{}@{} dead-lettered: {}",
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  why));
      dlt.add(deadLetter(r, problem));
    }
    for (CompletableFuture<?> f : dlt) {
      f.get(30, TimeUnit.SECONDS); // the DLT has them before the offsets move past them
    }
    IngestResult result = ledger.ingest(valid); // committed when it returns
    billed.increment(result.numInserted());
    duplicates.increment(result.numDuplicates());
    deadLettered.increment(dlt.size());
    countSpend(result);
    if (log.isDebugEnabled()) {
      logEvents(valid, result);
    }
    statuses.publish(result.tenants());
  }

  private void countSpend(IngestResult result) {
    Map<String, Long> perModel = new HashMap<>();
    for (IngestResult.Billed b : result.billed()) {
      perModel.merge(b.event().getModel(), b.costMicros(), Long::sum);
    }
    // per model, never per tenant: /actuator/prometheus is served without a token, and tenant ids
    // are not public (per-tenant spend is the admin API's usage and statements)
    perModel.forEach(
        (model, micros) ->
            spend
                .computeIfAbsent(
                    model,
                    m ->
                        Counter.builder("glm.billing.spend.micros")
                            .baseUnit("micros")
                            .tag("model", m)
                            .description(
                                "Money billed to the ledger per model, in micro-units of the currency (after commit)")
                            .register(meters))
                .increment(micros));
  }

  private void logEvents(List<UsageEvent> valid, IngestResult result) {
    Set<String> newlyBilled = new HashSet<>();
    for (IngestResult.Billed b : result.billed()) {
      UsageEvent e = b.event();
      newlyBilled.add(e.getRequestId());
      withTrace(
          e.getTraceId(),
          () ->
              log.debug(
                  "Usage billed: request {} tenant {} model {} tokens {}+{} cost {} micros",
                  e.getRequestId(),
                  e.getTenantId(),
                  e.getModel(),
                  e.getPromptTokens(),
                  e.getCompletionTokens(),
                  b.costMicros()));
    }
    for (UsageEvent e : valid) {
      if (newlyBilled.add(e.getRequestId())) {
        withTrace(
            e.getTraceId(),
            () ->
                log.debug(
                    "Usage event of request {} already billed: duplicate ignored",
                    e.getRequestId()));
      }
    }
  }

  /** Runs {@code line} with {@code trace.id} in the MDC (when there is a trace id). */
  private static void withTrace(String traceId, Runnable line) {
    if (traceId == null
        || !TRACE.matcher(traceId).matches()) { // only well-formed ids reach the logs
      line.run();
      return;
    }
    MDC.put(TRACE_ID, traceId);
    try {
      line.run();
    } finally {
      MDC.remove(TRACE_ID);
    }
  }

  /** The trace id of a record: its event's trace_id when decodable, else its traceparent header. */
  private static String traceId(ConsumerRecord<String, byte[]> r) {
    try {
      if (r.value() != null) {
        String t = UsageEvent.parseFrom(r.value()).getTraceId();
        if (TRACE.matcher(t).matches()) {
          return t;
        }
      }
    } catch (InvalidProtocolBufferException ignored) {
      // poison: fall back to the header
    }
    return traceparentTraceId(r);
  }

  private static String traceparentTraceId(ConsumerRecord<String, byte[]> r) {
    Header h = r.headers().lastHeader("traceparent");
    if (h == null) {
      return null;
    }
    String[] parts = new String(h.value(), StandardCharsets.US_ASCII).split("-");
    return parts.length == 4 && TRACE.matcher(parts[1]).matches() ? parts[1] : null;
  }

  private CompletableFuture<?> deadLetter(ConsumerRecord<String, byte[]> r, String problem) {
    ProducerRecord<String, byte[]> out =
        new ProducerRecord<>(props.kafka().deadLetterTopic(), r.key(), r.value());
    out.headers().add(DLT_REASON_HEADER, problem.getBytes(StandardCharsets.UTF_8));
    out.headers()
        .add(
            "glm-dlt-origin",
            (r.topic() + "-" + r.partition() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
    return kafka.send(out);
  }
}
