package org.glmmaas.auth.tenant;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.glmmaas.auth.DomainException;
import org.glmmaas.auth.audit.AuditLog;
import org.glmmaas.auth.events.KeyChange;
import org.glmmaas.proto.auth.v1.KeyEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Creates, reads and changes tenants; every change is audited and announced. */
@Service
public class TenantService {

  static final int MAX_NAME = 128;

  private final TenantRepository tenants;
  private final AuditLog audit;
  private final ApplicationEventPublisher events;
  private final Clock clock;

  public TenantService(
      TenantRepository tenants, AuditLog audit, ApplicationEventPublisher events, Clock clock) {
    this.tenants = tenants;
    this.audit = audit;
    this.events = events;
    this.clock = clock;
  }

  /** Changes of a tenant; a null field stays as it is. */
  public record TenantPatch(
      String name,
      TenantStatus status,
      Integer requestsPerMinute,
      Long tokensPerMinute,
      Integer maxConcurrency) {}

  @Transactional
  public Tenant create(String actor, String name, Limits limits) {
    String clean = checkName(name);
    if (tenants.nameTaken(clean, null)) {
      throw new DomainException(
          DomainException.Kind.CONFLICT, "a tenant named '" + clean + "' already exists");
    }
    String id = UUID.randomUUID().toString();
    tenants.insert(id, clean, limits);
    audit.record(actor, "tenant.create", "tenant", id, Map.of("name", clean, "limits", limits));
    return get(id);
  }

  public Tenant get(String id) {
    return tenants.find(id).orElseThrow(() -> DomainException.notFound("tenant", id));
  }

  public List<Tenant> list() {
    return tenants.list();
  }

  @Transactional
  public Tenant update(String actor, String id, TenantPatch patch) {
    Tenant t = get(id);
    String name = patch.name() == null ? t.name() : checkName(patch.name());
    if (!name.equals(t.name()) && tenants.nameTaken(name, id)) {
      throw new DomainException(
          DomainException.Kind.CONFLICT, "a tenant named '" + name + "' already exists");
    }
    Limits limits =
        t.limits()
            .patched(patch.requestsPerMinute(), patch.tokensPerMinute(), patch.maxConcurrency());
    TenantStatus status = patch.status() != null ? patch.status() : t.status();
    tenants.update(new Tenant(id, name, status, limits, t.createdAt(), t.updatedAt()));
    Map<String, Object> details = new LinkedHashMap<>();
    if (!name.equals(t.name())) {
      details.put("name", name);
    }
    if (status != t.status()) {
      details.put("status", status);
    }
    if (!limits.equals(t.limits())) {
      details.put("limits", limits);
    }
    audit.record(
        actor,
        status == TenantStatus.SUSPENDED && t.status() != status
            ? "tenant.suspend"
            : status == TenantStatus.ACTIVE && t.status() != status
                ? "tenant.activate"
                : "tenant.update",
        "tenant",
        id,
        details);
    events.publishEvent(new KeyChange(KeyEvent.Kind.TENANT_UPDATED, null, id, clock.instant()));
    return get(id);
  }

  private static String checkName(String name) {
    if (name == null || name.isBlank()) {
      throw DomainException.invalid("name must not be empty");
    }
    String clean = name.strip();
    if (clean.length() > MAX_NAME) {
      throw DomainException.invalid("name must be at most " + MAX_NAME + " characters");
    }
    return clean;
  }
}
