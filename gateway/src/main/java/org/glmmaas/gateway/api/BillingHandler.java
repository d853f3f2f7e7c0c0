package org.glmmaas.gateway.api;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import org.glmmaas.gateway.billing.BillingClient;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** The caller's own balance and usage, proxied to billing-service with the caller's tenant. */
public final class BillingHandler {

  private final Admission admission;
  private final BillingClient billing;

  public BillingHandler(Admission admission, BillingClient billing) {
    this.admission = admission;
    this.billing = billing;
  }

  public Mono<ServerResponse> balance(ServerRequest req, Dialect d) {
    return admission
        .authenticate(req)
        .flatMap(p -> client().balance(p.getTenantId()))
        .flatMap(
            b -> {
              ObjectNode n = Json.object();
              n.put("balance_micros", b.getBalanceMicros());
              n.put("reserved_micros", b.getReservedMicros());
              n.put("currency", b.getCurrency().isEmpty() ? "CNY" : b.getCurrency());
              return ok(n);
            })
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  public Mono<ServerResponse> usage(ServerRequest req, Dialect d) {
    return admission
        .authenticate(req)
        .flatMap(
            p -> {
              LocalDate from = date(req, "from");
              LocalDate to = date(req, "to");
              if (to.isBefore(from)) {
                throw GlmException.invalid("'to' must not be before 'from'", "to");
              }
              if (ChronoUnit.DAYS.between(from, to) > 366) {
                throw GlmException.invalid("the period may span at most 366 days", "to");
              }
              return client().usage(p.getTenantId(), from.toString(), to.toString());
            })
        .flatMap(
            r -> {
              ObjectNode n = Json.object();
              ArrayNode rows = n.putArray("rows");
              for (var u : r.getRowsList()) {
                ObjectNode row = rows.addObject();
                row.put("date", u.getDate());
                row.put("model", u.getModel());
                row.put("key_id", u.getKeyId());
                row.put("requests", u.getRequests());
                row.put("prompt_tokens", u.getPromptTokens());
                row.put("cached_tokens", u.getCachedTokens());
                row.put("completion_tokens", u.getCompletionTokens());
                row.put("cost_micros", u.getCostMicros());
              }
              n.put("currency", r.getCurrency().isEmpty() ? "CNY" : r.getCurrency());
              return ok(n);
            })
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  private BillingClient client() {
    if (billing == null) {
      throw new GlmException(
          new GlmError.Unavailable(
              "billing is not configured on this gateway (glm.gateway.billing.address)", null));
    }
    return billing;
  }

  private static LocalDate date(ServerRequest req, String name) {
    String v =
        req.queryParam(name)
            .orElseThrow(
                () ->
                    GlmException.invalid(
                        "query parameter '" + name + "' is required (YYYY-MM-DD)", name));
    try {
      return LocalDate.parse(v);
    } catch (DateTimeParseException e) {
      throw GlmException.invalid("query parameter '" + name + "' must be a date YYYY-MM-DD", name);
    }
  }

  private static Mono<ServerResponse> ok(ObjectNode n) {
    return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(Json.write(n));
  }
}
