package org.glmmaas.billing.api;

import org.glmmaas.billing.api.AdminDtos.StatementResponse;
import org.glmmaas.billing.api.AdminDtos.UsageRowDto;

/** RFC 4180 CSV of a monthly statement: one row per day/model/key, then a TOTAL row. */
final class StatementCsv {

  private StatementCsv() {}

  static String render(StatementResponse s) {
    StringBuilder out =
        new StringBuilder(
            "date,model,key_id,requests,prompt_tokens,cached_tokens,completion_tokens,cost_micros,currency\r\n");
    for (UsageRowDto r : s.rows()) {
      out.append(r.date())
          .append(',')
          .append(quote(r.model()))
          .append(',')
          .append(quote(r.keyId()))
          .append(',')
          .append(r.requests())
          .append(',')
          .append(r.promptTokens())
          .append(',')
          .append(r.cachedTokens())
          .append(',')
          .append(r.completionTokens())
          .append(',')
          .append(r.costMicros())
          .append(',')
          .append(s.currency())
          .append("\r\n");
    }
    out.append("TOTAL,,,")
        .append(s.totalRequests())
        .append(',')
        .append(s.totalPromptTokens())
        .append(',')
        .append(s.totalCachedTokens())
        .append(',')
        .append(s.totalCompletionTokens())
        .append(',')
        .append(s.totalCostMicros())
        .append(',')
        .append(s.currency())
        .append("\r\n");
    return out.toString();
  }

  static String quote(String v) {
    boolean formula = !v.isEmpty() && "=+-@".indexOf(v.charAt(0)) >= 0; // spreadsheet injection
    String safe = formula ? "'" + v : v;
    if (safe.contains(",")
        || safe.contains("\"")
        || safe.contains("\n")
        || safe.contains("\r")
        || formula) {
      return "\"" + safe.replace("\"", "\"\"") + "\"";
    }
    return safe;
  }
}
