package org.glmmaas.auth.admin;

import java.util.Map;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * Requests that match no handler (unknown path, wrong method) get the same JSON error envelope as
 * the admin API; this advice is global because no controller is involved yet.
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
class RoutingErrorHandler {

  @ExceptionHandler(NoResourceFoundException.class)
  ResponseEntity<Map<String, Object>> noRoute(NoResourceFoundException e) {
    return AdminExceptionHandler.error(
        HttpStatus.NOT_FOUND, "not_found", "no such endpoint: /" + e.getResourcePath());
  }

  @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
  ResponseEntity<Map<String, Object>> method(HttpRequestMethodNotSupportedException e) {
    return AdminExceptionHandler.error(
        HttpStatus.METHOD_NOT_ALLOWED,
        "method_not_allowed",
        e.getMethod() + " is not supported here; allowed: " + e.getSupportedHttpMethods());
  }
}
