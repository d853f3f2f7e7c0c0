package org.glmmaas.auth.admin;

import java.util.Map;
import org.glmmaas.auth.DomainException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * Every admin error as {@code {"error":{"code","message"}}}, with 400/404/405/409/415; never a
 * stack trace.
 */
@RestControllerAdvice(basePackageClasses = AdminExceptionHandler.class)
class AdminExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(AdminExceptionHandler.class);

  @ExceptionHandler(DomainException.class)
  ResponseEntity<Map<String, Object>> domain(DomainException e) {
    return switch (e.kind()) {
      case INVALID_REQUEST -> error(HttpStatus.BAD_REQUEST, "invalid_request", e.getMessage());
      case NOT_FOUND -> error(HttpStatus.NOT_FOUND, "not_found", e.getMessage());
      case CONFLICT -> error(HttpStatus.CONFLICT, "conflict", e.getMessage());
    };
  }

  @ExceptionHandler(HttpMessageNotReadableException.class)
  ResponseEntity<Map<String, Object>> unreadable(HttpMessageNotReadableException e) {
    String msg =
        e.getMessage() != null && e.getMessage().startsWith("Required request body is missing")
            ? "request body is required (a JSON object)"
            : "request body is not a valid JSON object";
    return error(HttpStatus.BAD_REQUEST, "invalid_request", msg);
  }

  @ExceptionHandler(MethodArgumentTypeMismatchException.class)
  ResponseEntity<Map<String, Object>> typeMismatch(MethodArgumentTypeMismatchException e) {
    return error(
        HttpStatus.BAD_REQUEST,
        "invalid_request",
        "parameter " + e.getName() + " has the wrong type");
  }

  @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
  ResponseEntity<Map<String, Object>> mediaType(HttpMediaTypeNotSupportedException e) {
    return error(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send Content-Type: application/json");
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<Map<String, Object>> internal(Exception e) {
    log.error("Admin request failed", e);
    return error(
        HttpStatus.INTERNAL_SERVER_ERROR, "internal", "internal error; see the service log");
  }

  static ResponseEntity<Map<String, Object>> error(HttpStatus status, String code, String message) {
    return ResponseEntity.status(status)
        .body(Map.of("error", Map.of("code", code, "message", message)));
  }
}
