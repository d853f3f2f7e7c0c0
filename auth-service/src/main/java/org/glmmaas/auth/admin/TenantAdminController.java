package org.glmmaas.auth.admin;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.glmmaas.auth.DomainException;
import org.glmmaas.auth.key.ApiKeyService;
import org.glmmaas.auth.key.CreatedKey;
import org.glmmaas.auth.tenant.DefaultLimits;
import org.glmmaas.auth.tenant.Limits;
import org.glmmaas.auth.tenant.TenantService;
import org.glmmaas.auth.tenant.TenantStatus;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code /admin/v1/tenants}: tenants and the keys they own. */
@RestController
@RequestMapping("/admin/v1/tenants")
class TenantAdminController {

  static final String ACTOR = "admin-token";
  private static final Set<String> LIMIT_FIELDS =
      Set.of("requests_per_minute", "tokens_per_minute", "max_concurrency");

  private final TenantService tenants;
  private final ApiKeyService keys;
  private final Clock clock;

  private final DefaultLimits defaults;

  TenantAdminController(
      TenantService tenants, ApiKeyService keys, Clock clock, DefaultLimits defaults) {
    this.defaults = defaults;
    this.tenants = tenants;
    this.keys = keys;
    this.clock = clock;
  }

  @PostMapping
  ResponseEntity<Map<String, Object>> create(@RequestBody Map<String, Object> body) {
    JsonBody b = new JsonBody(body, with(LIMIT_FIELDS, "name"));
    var t = tenants.create(ACTOR, b.requiredString("name"), limits(b, defaults.tenant()));
    return ResponseEntity.status(HttpStatus.CREATED).body(Views.tenant(t));
  }

  @GetMapping
  Map<String, Object> list() {
    return Map.of("data", tenants.list().stream().map(Views::tenant).toList());
  }

  @GetMapping("/{id}")
  Map<String, Object> get(@PathVariable String id) {
    return Views.tenant(tenants.get(id));
  }

  @PatchMapping("/{id}")
  Map<String, Object> update(@PathVariable String id, @RequestBody Map<String, Object> body) {
    JsonBody b = new JsonBody(body, with(LIMIT_FIELDS, "name", "status"));
    TenantStatus status = null;
    String s = b.string("status");
    if (s != null) {
      try {
        status = TenantStatus.valueOf(s);
      } catch (IllegalArgumentException e) {
        throw DomainException.invalid("status must be ACTIVE or SUSPENDED");
      }
    }
    if (b.has("name") && b.string("name") == null) {
      throw DomainException.invalid("name must not be null");
    }
    return Views.tenant(
        tenants.update(
            ACTOR,
            id,
            new TenantService.TenantPatch(
                b.string("name"),
                status,
                b.nonNegativeInt("requests_per_minute"),
                b.nonNegativeLong("tokens_per_minute"),
                b.nonNegativeInt("max_concurrency"))));
  }

  @PostMapping("/{id}/keys")
  ResponseEntity<Map<String, Object>> createKey(
      @PathVariable String id, @RequestBody Map<String, Object> body) {
    JsonBody b = new JsonBody(body, with(LIMIT_FIELDS, "name", "allowed_models", "expires_at"));
    CreatedKey created =
        keys.create(
            ACTOR,
            id,
            new ApiKeyService.NewKey(
                b.requiredString("name"),
                b.stringList("allowed_models"),
                limits(b, defaults.key()),
                b.instant("expires_at")));
    return ResponseEntity.status(HttpStatus.CREATED)
        .cacheControl(CacheControl.noStore())
        .body(Views.created(created, clock.instant()));
  }

  @GetMapping("/{id}/keys")
  Map<String, Object> listKeys(@PathVariable String id) {
    var now = clock.instant();
    return Map.of("data", keys.listByTenant(id).stream().map(k -> Views.key(k, now)).toList());
  }

  /** The request's limits; each one it leaves out takes {@code dflt}'s (0 = unlimited). */
  private static Limits limits(JsonBody b, Limits dflt) {
    Integer rpm = b.nonNegativeInt("requests_per_minute");
    Long tpm = b.nonNegativeLong("tokens_per_minute");
    Integer conc = b.nonNegativeInt("max_concurrency");
    return new Limits(
        rpm == null ? dflt.requestsPerMinute() : rpm,
        tpm == null ? dflt.tokensPerMinute() : tpm,
        conc == null ? dflt.maxConcurrency() : conc);
  }

  static Set<String> with(Set<String> base, String... more) {
    var s = new java.util.HashSet<>(base);
    s.addAll(List.of(more));
    return s;
  }
}
