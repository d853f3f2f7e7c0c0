package org.glmmaas.auth.admin;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Guards {@code /admin/*} with {@code Authorization: Bearer <glm.auth.admin-token>}; the OpenAPI
 * file is public.
 */
@Configuration(proxyBeanMethods = false)
public class AdminTokenFilter {

  static final String OPENAPI_PATH = "/admin/v1/openapi.yaml";

  @Bean
  FilterRegistrationBean<OncePerRequestFilter> adminTokenFilterRegistration(AdminToken token) {
    FilterRegistrationBean<OncePerRequestFilter> reg =
        new FilterRegistrationBean<>(new Guard(token));
    reg.addUrlPatterns("/admin/*");
    reg.setName("adminTokenFilter");
    return reg;
  }

  static final class Guard extends OncePerRequestFilter {
    private final AdminToken token;

    Guard(AdminToken token) {
      this.token = token;
    }

    @Override
    protected void doFilterInternal(
        HttpServletRequest req, HttpServletResponse res, FilterChain chain)
        throws ServletException, IOException {
      if ("GET".equals(req.getMethod()) && OPENAPI_PATH.equals(req.getRequestURI())) {
        chain.doFilter(req, res);
        return;
      }
      String header = req.getHeader("Authorization");
      if (header == null || header.isBlank()) {
        deny(res, "missing admin token: send Authorization: Bearer <glm.auth.admin-token>");
        return;
      }
      String value = header.strip();
      if (!value.regionMatches(true, 0, "Bearer ", 0, 7)
          || !token.matches(value.substring(7).strip())) {
        deny(res, "invalid admin token");
        return;
      }
      chain.doFilter(req, res);
    }

    private static void deny(HttpServletResponse res, String message) throws IOException {
      res.setStatus(401);
      res.setHeader("WWW-Authenticate", "Bearer realm=\"glm-auth-admin\"");
      res.setContentType("application/json");
      res.getOutputStream()
          .write(
              ("{\"error\":{\"code\":\"unauthorized\",\"message\":\"" + message + "\"}}")
                  .getBytes(StandardCharsets.UTF_8));
    }
  }
}
