package org.glmmaas.gateway.admin;

import java.net.URI;
import org.glmmaas.gateway.routing.WorkerPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.route.RouteLocator;
import org.springframework.cloud.gateway.route.builder.GatewayFilterSpec;
import org.springframework.cloud.gateway.route.builder.RouteLocatorBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * The admin entry as Spring Cloud Gateway routes, one public prefix for every admin API:
 *
 * <ul>
 *   <li>{@code /admin/auth/v1/**} → auth-service {@code /admin/v1/**} (tenants, keys, audit)
 *   <li>{@code /admin/billing/v1/**} → billing-service {@code /admin/v1/**} (top-ups, balances,
 *       usage, statements, prices)
 *   <li>{@code GET /admin/gateway/v1/workers} → this gateway's workers and their load
 * </ul>
 *
 * Each route runs the admin token check and the body size limit; the global {@link
 * RequestLogFilter} logs every call. The inference API stays functional handlers (they are matched
 * first, by Spring's RouterFunctionMapping, and never reach these routes).
 */
@Configuration(proxyBeanMethods = false)
public class AdminRoutes {

  private static final Logger log = LoggerFactory.getLogger(AdminRoutes.class);

  @Bean
  RequestLogFilter requestLogFilter() {
    return new RequestLogFilter();
  }

  @Bean
  RouteLocator adminRouteLocator(RouteLocatorBuilder routes, AdminProperties p) {
    if (p.token().isEmpty()) {
      log.info("glm.gateway.admin.token is not set: /admin/** refuses every call");
    }
    BodySizeLimitFilter size = new BodySizeLimitFilter(p.maxBodySize());
    return routes
        .routes()
        .route(
            "admin-auth",
            r ->
                r.path("/admin/auth/v1/**")
                    .filters(f -> upstream(f, p, p.auth(), "auth-service", "auth", size))
                    .uri(uri(p.auth())))
        .route(
            "admin-billing",
            r ->
                r.path("/admin/billing/v1/**")
                    .filters(f -> upstream(f, p, p.billing(), "billing-service", "billing", size))
                    .uri(uri(p.billing())))
        .route(
            "admin-gateway-workers",
            r ->
                r.path("/admin/gateway/v1/workers")
                    .and()
                    .method("GET")
                    .filters(
                        f ->
                            f.filter(new AdminTokenFilter(p.token(), "gateway", null)).filter(size))
                    .uri("forward:" + WorkersHandler.INTERNAL_PATH))
        .route(
            "admin-unknown",
            r ->
                r.order(1)
                    .path("/admin/**")
                    .filters(
                        f ->
                            f.filter(new AdminTokenFilter(p.token(), "gateway", null))
                                .filter(
                                    (ex, chain) ->
                                        AdminErrors.write(
                                            ex,
                                            HttpStatus.NOT_FOUND,
                                            "not_found",
                                            "no admin API at "
                                                + RequestLogFilter.printable(
                                                    ex.getRequest().getPath().value())
                                                + "; the prefixes are /admin/auth/v1,"
                                                + " /admin/billing/v1 and /admin/gateway/v1")))
                    .uri("no://op"))
        .build();
  }

  /**
   * Token check (then the service's own token), size limit, path /admin/{name}/v1/x → /admin/v1/x.
   */
  private static GatewayFilterSpec upstream(
      GatewayFilterSpec f,
      AdminProperties p,
      AdminProperties.Upstream u,
      String service,
      String prefix,
      BodySizeLimitFilter size) {
    f.filter(new AdminTokenFilter(p.token(), service, u.configured() ? u.token() : null))
        .filter(size);
    if (!u.configured()) {
      return f.filter(
          (ex, chain) ->
              AdminErrors.write(
                  ex,
                  HttpStatus.SERVICE_UNAVAILABLE,
                  "unavailable",
                  service
                      + "'s admin API is not configured on this gateway (glm.gateway.admin."
                      + prefix
                      + ".url and .token)"));
    }
    return f.rewritePath("/admin/" + prefix + "/v1(?<rest>/.*)?", "/admin/v1${rest}");
  }

  private static String uri(AdminProperties.Upstream u) {
    if (u.url().isBlank()) {
      return "no://op";
    }
    URI uri = URI.create(u.url());
    if (uri.getScheme() == null || !uri.getScheme().startsWith("http") || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "an admin upstream url must be http(s)://host:port, got '" + u.url() + "'");
    }
    return u.url();
  }

  @Bean
  RouterFunction<ServerResponse> adminLocalRoutes(WorkerPool pool) {
    WorkersHandler workers = new WorkersHandler(pool.workers());
    return RouterFunctions.route().GET(WorkersHandler.INTERNAL_PATH, workers::list).build();
  }
}
