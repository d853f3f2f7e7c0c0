package org.glmmaas.auth.key;

import java.util.List;
import java.util.Map;
import org.glmmaas.auth.audit.AuditLog;
import org.glmmaas.auth.crypto.SecretCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Re-encrypts (and re-hashes) every stored secret under the newest configured master key version,
 * in small transactions, so the older versions can then be removed from configuration. Each row is
 * updated only if it still has the version it was read with, so concurrent rotations or key
 * rotations are safe. At start-up, refuses to run when rows use a version that is not configured.
 */
@Service
public class MasterKeyRotation implements SmartInitializingSingleton {

  private static final Logger log = LoggerFactory.getLogger(MasterKeyRotation.class);
  private static final int BATCH = 200;

  private final ApiKeyRepository keys;
  private final SecretCodec codec;
  private final AuditLog audit;
  private final TransactionTemplate tx;

  public MasterKeyRotation(
      ApiKeyRepository keys, SecretCodec codec, AuditLog audit, TransactionTemplate tx) {
    this.keys = keys;
    this.codec = codec;
    this.audit = audit;
    this.tx = tx;
  }

  /** Result of a rotation. */
  public record Result(int masterKeyVersion, int numReencrypted, List<Integer> versionsInUse) {}

  public Result rotateAll(String actor) {
    int target = codec.keyring().currentVersion();
    int total = 0;
    while (true) {
      List<Map.Entry<String, StoredSecret>> batch = keys.secretsNotUnder(target, BATCH);
      if (batch.isEmpty()) {
        break;
      }
      Integer done =
          tx.execute(
              status -> {
                int n = 0;
                for (Map.Entry<String, StoredSecret> e : batch) {
                  String id = e.getKey();
                  StoredSecret old = e.getValue();
                  String secret = codec.decrypt(id, old.ciphertext(), old.masterKeyVersion());
                  StoredSecret fresh =
                      new StoredSecret(
                          codec.hash(secret, target), codec.encrypt(id, secret, target), target);
                  if (keys.replaceSecret(id, fresh, old.masterKeyVersion())) {
                    n++;
                  }
                }
                return n;
              });
      total += done == null ? 0 : done;
    }
    final int numReencrypted = total;
    tx.executeWithoutResult(
        s ->
            audit.record(
                actor,
                "maintenance.rotate-master-key",
                "master-key",
                String.valueOf(target),
                Map.of("num_reencrypted", numReencrypted)));
    log.info("Master key rotation: {} secrets re-encrypted under version {}", total, target);
    return new Result(target, total, keys.masterKeyVersionsInUse());
  }

  @Override
  public void afterSingletonsInstantiated() {
    List<Integer> missing =
        keys.masterKeyVersionsInUse().stream().filter(v -> !codec.keyring().has(v)).toList();
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "stored API keys use master key version(s) "
              + missing
              + " which are not configured (configured: "
              + codec.keyring().versions()
              + "); add them to glm.auth.master-keys, run POST /admin/v1/maintenance/rotate-master-key, then remove them");
    }
  }
}
