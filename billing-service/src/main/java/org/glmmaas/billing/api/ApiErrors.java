package org.glmmaas.billing.api;

import java.time.format.DateTimeParseException;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/** Bad input is a 400 with a precise message, never a 5xx or a stack trace. */
@RestControllerAdvice
public class ApiErrors {

  static String body(String code, String message) {
    return "{\"error\":{\"code\":\""
        + code
        + "\",\"message\":\""
        + message.replace("\\", "\\\\").replace("\"", "\\\"")
        + "\"}}";
  }

  private static ResponseEntity<Map<String, Object>> bad(String message) {
    return ResponseEntity.status(HttpStatus.BAD_REQUEST)
        .contentType(MediaType.APPLICATION_JSON)
        .body(Map.of("error", Map.of("code", "invalid_request", "message", message)));
  }

  @ExceptionHandler({IllegalArgumentException.class, ArithmeticException.class})
  ResponseEntity<Map<String, Object>> invalid(RuntimeException e) {
    return bad(e instanceof ArithmeticException ? "amount out of range" : e.getMessage());
  }

  @ExceptionHandler(DateTimeParseException.class)
  ResponseEntity<Map<String, Object>> date(DateTimeParseException e) {
    return bad(
        "invalid date '" + e.getParsedString() + "', expected YYYY-MM-DD (or YYYY-MM for a month)");
  }

  @ExceptionHandler(HttpMessageNotReadableException.class)
  ResponseEntity<Map<String, Object>> unreadable(HttpMessageNotReadableException e) {
    return bad("malformed JSON body");
  }

  @ExceptionHandler(MissingServletRequestParameterException.class)
  ResponseEntity<Map<String, Object>> missing(MissingServletRequestParameterException e) {
    return bad("missing query parameter '" + e.getParameterName() + "'");
  }

  @ExceptionHandler(MethodArgumentTypeMismatchException.class)
  ResponseEntity<Map<String, Object>> mismatch(MethodArgumentTypeMismatchException e) {
    return bad("invalid value for '" + e.getName() + "'");
  }
}
