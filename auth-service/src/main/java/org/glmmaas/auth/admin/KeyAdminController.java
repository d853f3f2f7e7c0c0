package org.glmmaas.auth.admin;

import java.time.Clock;
import java.util.Map;
import java.util.Set;
import org.glmmaas.auth.DomainException;
import org.glmmaas.auth.key.ApiKeyService;
import org.springframework.http.CacheControl;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code /admin/v1/keys/{key_id}}: read, scope, limit, revoke, rotate one key. */
@RestController
@RequestMapping("/admin/v1/keys")
class KeyAdminController {

  private final ApiKeyService keys;
  private final Clock clock;

  KeyAdminController(ApiKeyService keys, Clock clock) {
    this.keys = keys;
    this.clock = clock;
  }

  @GetMapping("/{keyId}")
  Map<String, Object> get(@PathVariable String keyId) {
    return Views.key(keys.get(keyId), clock.instant());
  }

  @PatchMapping("/{keyId}")
  Map<String, Object> update(@PathVariable String keyId, @RequestBody Map<String, Object> body) {
    JsonBody b =
        new JsonBody(
            body,
            Set.of(
                "name",
                "allowed_models",
                "requests_per_minute",
                "tokens_per_minute",
                "max_concurrency",
                "expires_at"));
    if (b.has("name") && b.string("name") == null) {
      throw DomainException.invalid("name must not be null");
    }
    if (b.has("allowed_models") && b.stringList("allowed_models") == null) {
      throw DomainException.invalid("allowed_models must be an array ([] means all models)");
    }
    var expiresAt = b.instant("expires_at");
    if (expiresAt != null && !expiresAt.isAfter(clock.instant())) {
      throw DomainException.invalid("expires_at " + expiresAt + " is not in the future");
    }
    var patch =
        new ApiKeyService.KeyPatch(
            b.string("name"),
            b.stringList("allowed_models"),
            b.nonNegativeInt("requests_per_minute"),
            b.nonNegativeLong("tokens_per_minute"),
            b.nonNegativeInt("max_concurrency"),
            expiresAt,
            b.has("expires_at"));
    return Views.key(keys.update(TenantAdminController.ACTOR, keyId, patch), clock.instant());
  }

  @PostMapping("/{keyId}/revoke")
  Map<String, Object> revoke(@PathVariable String keyId) {
    return Views.key(keys.revoke(TenantAdminController.ACTOR, keyId), clock.instant());
  }

  @PostMapping("/{keyId}/rotate")
  ResponseEntity<Map<String, Object>> rotate(@PathVariable String keyId) {
    return ResponseEntity.ok()
        .cacheControl(CacheControl.noStore())
        .body(Views.created(keys.rotate(TenantAdminController.ACTOR, keyId), clock.instant()));
  }
}
