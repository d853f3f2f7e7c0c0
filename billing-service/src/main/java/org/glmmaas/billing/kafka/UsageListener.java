package org.glmmaas.billing.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.account.AccountStatusPublisher;
import org.glmmaas.billing.ledger.IngestResult;
import org.glmmaas.billing.ledger.UsageLedger;
import org.glmmaas.billing.ledger.UsageValidation;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Consumes usage events one poll batch at a time: poison records (undecodable or invalid) are
 * written to the dead-letter topic, the rest are billed in ONE database transaction, and only then
 * does the container commit the batch's offsets. A crash anywhere before the offset commit
 * redelivers the batch, and the ledger's unique request id makes the redelivery a no-op.
 */
@Component
public class UsageListener {

  private static final Logger log = LoggerFactory.getLogger(UsageListener.class);
  public static final String DLT_REASON_HEADER = "glm-dlt-reason";

  private final UsageLedger ledger;
  private final AccountStatusPublisher statuses;
  private final KafkaTemplate<String, byte[]> kafka;
  private final BillingProperties props;
  private final Counter billed;
  private final Counter duplicates;
  private final Counter deadLettered;

  public UsageListener(UsageLedger ledger, AccountStatusPublisher statuses,
      KafkaTemplate<String, byte[]> kafka, BillingProperties props, MeterRegistry meters) {
    this.ledger = ledger;
    this.statuses = statuses;
    this.kafka = kafka;
    this.props = props;
    this.billed = Counter.builder("glm.billing.usage.events.billed").register(meters);
    this.duplicates = Counter.builder("glm.billing.usage.events.duplicate").register(meters);
    this.deadLettered = Counter.builder("glm.billing.usage.events.dead.lettered").register(meters);
  }

  @KafkaListener(id = "usage-ledger", topics = "${glm.billing.kafka.usage-topic:glm.usage.v1}",
      groupId = "${glm.billing.kafka.consumer-group:glm-billing}", batch = "true")
  public void onBatch(List<ConsumerRecord<String, byte[]>> records) throws Exception {
    List<UsageEvent> valid = new ArrayList<>(records.size());
    List<CompletableFuture<?>> dlt = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      String problem;
      try {
        UsageEvent e = r.value() == null ? null : UsageEvent.parseFrom(r.value());
        problem = e == null ? "empty record value"
            : UsageValidation.problem(e).orElse(null);
        if (problem == null) {
          valid.add(e);
          continue;
        }
      } catch (InvalidProtocolBufferException ex) {
        problem = "undecodable UsageEvent: " + ex.getMessage();
      }
      log.warn("Usage record {}-{}@{} dead-lettered: {}", r.topic(), r.partition(), r.offset(), problem);
      dlt.add(deadLetter(r, problem));
    }
    for (CompletableFuture<?> f : dlt) {
      f.get(30, TimeUnit.SECONDS);   // the DLT has them before the offsets move past them
    }
    IngestResult result = ledger.ingest(valid);
    billed.increment(result.numInserted());
    duplicates.increment(result.numDuplicates());
    deadLettered.increment(dlt.size());
    statuses.publish(result.tenants());
  }

  private CompletableFuture<?> deadLetter(ConsumerRecord<String, byte[]> r, String problem) {
    ProducerRecord<String, byte[]> out =
        new ProducerRecord<>(props.kafka().deadLetterTopic(), r.key(), r.value());
    out.headers().add(DLT_REASON_HEADER, problem.getBytes(StandardCharsets.UTF_8));
    out.headers().add("glm-dlt-origin",
        (r.topic() + "-" + r.partition() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
    return kafka.send(out);
  }
}
