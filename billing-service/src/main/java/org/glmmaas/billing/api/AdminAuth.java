package org.glmmaas.billing.api;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.glmmaas.billing.BillingProperties;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Guards {@code /admin/**} with {@code Authorization: Bearer <glm.billing.admin-token>}
 * (constant-time comparison). With no token configured the admin API refuses every call.
 */
@Configuration(proxyBeanMethods = false)
public class AdminAuth implements WebMvcConfigurer, HandlerInterceptor {

  private final byte[] token;

  public AdminAuth(BillingProperties props) {
    this.token = props.adminToken().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(this).addPathPatterns("/admin/**");
  }

  @Override
  public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
      throws Exception {
    String header = request.getHeader("Authorization");
    String message = null;
    if (token.length == 0) {
      message = "admin API disabled: glm.billing.admin-token is not configured";
    } else if (header == null || !header.startsWith("Bearer ")) {
      message = "missing Authorization: Bearer <admin token>";
    } else if (!MessageDigest.isEqual(
        token, header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8))) {
      message = "invalid admin token";
    }
    if (message == null) {
      return true;
    }
    response.setStatus(401);
    response.setHeader("WWW-Authenticate", "Bearer");
    response.setContentType("application/json");
    response.getWriter().write(ApiErrors.body("unauthenticated", message));
    return false;
  }
}
