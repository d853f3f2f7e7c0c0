package org.glmmaas.gateway.console;

import org.springframework.cloud.gateway.route.RouteLocator;
import org.springframework.cloud.gateway.route.builder.RouteLocatorBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The console route: {@code GET /console/**} is answered from the jar by {@link
 * ConsoleAssetsFilter}, with a content security policy that allows only this origin (the console
 * calls only the gateway). Spring Cloud Gateway's own SecureHeaders filter is not used: it adds its
 * headers after the chain completes, which is too late for a response this route writes itself.
 */
@Configuration(proxyBeanMethods = false)
public class ConsoleRoutes {

  /** Scripts, styles, images and API calls from this origin only; no frames, no plugins. */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'"
          + " data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none';"
          + " base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

  @Bean
  RouteLocator consoleRouteLocator(RouteLocatorBuilder routes) {
    ConsoleAssetsFilter assets = new ConsoleAssetsFilter(ConsoleRoutes.class.getClassLoader());
    return routes
        .routes()
        .route(
            "console",
            r ->
                r.path(ConsoleAssetsFilter.PREFIX, ConsoleAssetsFilter.PREFIX + "/**")
                    .and()
                    .method("GET", "HEAD")
                    .filters(f -> f.filter(assets))
                    .uri("no://op"))
        .build();
  }
}
