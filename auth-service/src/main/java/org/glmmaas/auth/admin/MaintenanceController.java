package org.glmmaas.auth.admin;

import java.util.LinkedHashMap;
import java.util.Map;
import org.glmmaas.auth.DomainException;
import org.glmmaas.auth.audit.AuditLog;
import org.glmmaas.auth.credential.KeyCache;
import org.glmmaas.auth.key.MasterKeyRotation;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Master-key rotation, the audit log, and the OpenAPI description. */
@RestController
class MaintenanceController {

  private final MasterKeyRotation rotation;
  private final KeyCache cache;
  private final AuditLog audit;

  MaintenanceController(MasterKeyRotation rotation, KeyCache cache, AuditLog audit) {
    this.rotation = rotation;
    this.cache = cache;
    this.audit = audit;
  }

  @PostMapping("/admin/v1/maintenance/rotate-master-key")
  Map<String, Object> rotateMasterKey() {
    MasterKeyRotation.Result r = rotation.rotateAll(TenantAdminController.ACTOR);
    cache.invalidateAll();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("master_key_version", r.masterKeyVersion());
    m.put("num_reencrypted", r.numReencrypted());
    m.put("versions_in_use", r.versionsInUse());
    return m;
  }

  @GetMapping("/admin/v1/audit")
  Map<String, Object> audit(
      @RequestParam(name = "target_id", required = false) String targetId,
      @RequestParam(name = "limit", defaultValue = "100") int limit) {
    if (limit < 1 || limit > 1000) {
      throw DomainException.invalid("limit must be 1..1000");
    }
    return Map.of(
        "data",
        audit.recent(targetId, limit).stream()
            .map(
                e -> {
                  Map<String, Object> m = new LinkedHashMap<>();
                  m.put("id", e.id());
                  m.put("at", e.at().toString());
                  m.put("actor", e.actor());
                  m.put("action", e.action());
                  m.put("target_type", e.targetType());
                  m.put("target_id", e.targetId());
                  m.put("details", e.details());
                  return m;
                })
            .toList());
  }

  @GetMapping(AdminTokenFilter.OPENAPI_PATH)
  ResponseEntity<ClassPathResource> openapi() {
    return ResponseEntity.ok()
        .contentType(MediaType.parseMediaType("application/yaml"))
        .body(new ClassPathResource("openapi/auth-admin.yaml"));
  }
}
