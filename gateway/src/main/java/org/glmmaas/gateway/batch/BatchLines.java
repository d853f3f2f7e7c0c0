package org.glmmaas.gateway.batch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.gateway.request.ChatRequest;
import org.glmmaas.gateway.request.ChatRequestParser;
import org.glmmaas.gateway.request.EmbedCall;
import org.glmmaas.gateway.request.EmbeddingsParser;
import org.glmmaas.proto.auth.v1.Principal;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Checks a batch input file line by line, as OpenAI and BigModel do before a batch runs: each line
 * one JSON object with a unique {@code custom_id}, {@code method} POST, a {@code url} of the
 * batch's endpoint and a {@code body} that is a valid request for one model the key may use. Every
 * bad line is reported (line number, code, message), not only the first.
 */
final class BatchLines {

  /** The endpoints a batch may run, in every spelling the SDKs' samples use. */
  static final Set<String> CHAT =
      Set.of("/v1/chat/completions", "/v4/chat/completions", "/api/paas/v4/chat/completions");

  static final Set<String> EMBEDDINGS =
      Set.of("/v1/embeddings", "/v4/embeddings", "/api/paas/v4/embeddings");

  static final int MAX_CUSTOM_ID = 512;

  /** One valid line. */
  record Line(String customId, byte[] raw, long tokens) {}

  /** One bad line, as the batch's {@code errors.data} and the error file show it. */
  record Problem(int line, String customId, String code, String message, String param) {
    ObjectNode errorNode() {
      ObjectNode e = Json.object();
      e.put("code", code);
      e.put("message", message);
      if (param != null) {
        e.put("param", param);
      } else {
        e.putNull("param");
      }
      e.put("line", line);
      return e;
    }
  }

  /** What a file holds: its valid lines, its problems and the one model it asks for. */
  record Checked(List<Line> lines, List<Problem> problems, String model) {}

  /**
   * The request shape ({@link Api}) of a line's url: {@code /v1/…} is OpenAI's, else BigModel's.
   */
  static Api api(String url) {
    return url.startsWith("/v1/") ? Api.OPENAI : Api.BIGMODEL;
  }

  /**
   * Parses a line's body as an embeddings request of the url's shape (the /v1/embeddings and
   * /api/paas/v4/embeddings handlers' own parsing).
   */
  static EmbedCall embedCall(JsonNode body, String url) {
    byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
    return api(url) == Api.OPENAI
        ? EmbeddingsParser.openAi(bytes)
        : EmbeddingsParser.bigModel(bytes);
  }

  /**
   * Checks every line of {@code in}.
   *
   * @param embeddings whether the batch's endpoint is an embeddings one (else chat completions):
   *     every line's url must be of the same kind
   * @param modelCheck throws a GlmException when no worker serves the model
   * @param embedCheck throws a GlmException when an embeddings line's model is a chat model or
   *     cannot honour its dimensions
   * @param defaultMaxTokens the completion tokens a line without max_tokens is counted at
   */
  static Checked check(
      InputStream in,
      Principal p,
      boolean embeddings,
      ChatRequestParser parser,
      java.util.function.Consumer<String> modelCheck,
      java.util.function.Consumer<EmbedCall> embedCheck,
      int defaultMaxTokens)
      throws IOException {
    List<Line> lines = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    String model = null;
    BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    String text;
    int no = 0;
    while ((text = r.readLine()) != null) {
      no++;
      if (text.isBlank()) {
        continue;
      }
      JsonNode n;
      try {
        n = Json.MAPPER.readTree(text);
      } catch (RuntimeException e) {
        problems.add(
            new Problem(no, null, "invalid_json_line", "line " + no + " is not valid JSON", null));
        continue;
      }
      if (n == null || !n.isObject()) {
        problems.add(
            new Problem(
                no, null, "invalid_json_line", "line " + no + " is not a JSON object", null));
        continue;
      }
      JsonNode cid = n.get("custom_id");
      if (cid == null || cid.isNull()) {
        problems.add(
            new Problem(
                no,
                null,
                "missing_required_parameter",
                "line " + no + " has no custom_id",
                "custom_id"));
        continue;
      }
      if (!cid.isString() || cid.asString().isEmpty() || cid.asString().length() > MAX_CUSTOM_ID) {
        problems.add(
            new Problem(
                no,
                null,
                "invalid_request",
                "line " + no + ": custom_id must be a string of 1-" + MAX_CUSTOM_ID + " characters",
                "custom_id"));
        continue;
      }
      String customId = cid.asString();
      if (!seen.add(customId)) {
        problems.add(
            new Problem(
                no,
                customId,
                "duplicate_custom_id",
                "line "
                    + no
                    + ": custom_id '"
                    + printable(customId)
                    + "' is used by an earlier line",
                "custom_id"));
        continue;
      }
      JsonNode method = n.get("method");
      if (method == null || !method.isString() || !method.asString().equals("POST")) {
        problems.add(
            new Problem(
                no,
                customId,
                "invalid_request",
                "line " + no + ": method must be \"POST\"",
                "method"));
        continue;
      }
      JsonNode url = n.get("url");
      String u = url != null && url.isString() ? url.asString() : "";
      if (!(embeddings ? EMBEDDINGS : CHAT).contains(u)) {
        problems.add(
            new Problem(
                no,
                customId,
                "invalid_url",
                "line "
                    + no
                    + ": url '"
                    + printable(u)
                    + "' is not this batch's endpoint; use "
                    + (embeddings
                        ? "/v1/embeddings or /v4/embeddings"
                        : "/v1/chat/completions or /v4/chat/completions"),
                "url"));
        continue;
      }
      JsonNode body = n.get("body");
      if (body == null || !body.isObject()) {
        problems.add(
            new Problem(
                no,
                customId,
                "invalid_request",
                "line " + no + ": body must be a JSON object",
                "body"));
        continue;
      }
      JsonNode m = body.get("model");
      if (m == null || !m.isString() || m.asString().isEmpty()) {
        problems.add(
            new Problem(
                no,
                customId,
                "missing_required_parameter",
                "line " + no + ": body.model is required",
                "body.model"));
        continue;
      }
      String lineModel = m.asString();
      if (p.getAllowedModelsCount() > 0 && !p.getAllowedModelsList().contains(lineModel)) {
        problems.add(
            new Problem(
                no,
                customId,
                "model_not_allowed",
                "line " + no + ": this API key may not use model '" + printable(lineModel) + "'",
                "body.model"));
        continue;
      }
      if (model != null && !model.equals(lineModel)) {
        problems.add(
            new Problem(
                no,
                customId,
                "mismatched_model",
                "line "
                    + no
                    + ": model '"
                    + printable(lineModel)
                    + "' differs from the batch's model '"
                    + printable(model)
                    + "'; a batch runs one model",
                "body.model"));
        continue;
      }
      JsonNode stream = body.get("stream");
      if (stream != null && stream.asBoolean(false)) {
        problems.add(
            new Problem(
                no,
                customId,
                "invalid_request",
                "line " + no + ": batch requests cannot stream",
                "body.stream"));
        continue;
      }
      long tokens;
      try {
        modelCheck.accept(lineModel);
        if (embeddings) {
          EmbedCall call = embedCall(body, u);
          embedCheck.accept(call);
          tokens = call.promptTokenBound();
        } else {
          ChatRequest call = parser.parse(body, api(u));
          int max = call.maxTokens() != null ? call.maxTokens() : defaultMaxTokens;
          tokens = call.promptTokenBound() + (long) max * call.n();
        }
      } catch (GlmException e) {
        String param = e.error().param();
        problems.add(
            new Problem(
                no,
                customId,
                e.error() instanceof org.glmmaas.gateway.error.GlmError.ModelNotFound
                    ? "model_not_found"
                    : "invalid_request",
                "line " + no + ": " + e.error().message(),
                param == null ? null : "body." + param));
        continue;
      }
      if (model == null) {
        model = lineModel;
      }
      lines.add(new Line(customId, text.getBytes(StandardCharsets.UTF_8), tokens));
    }
    return new Checked(lines, problems, model);
  }

  static String printable(String s) {
    String t = s.length() > 100 ? s.substring(0, 100) + "…" : s;
    return t.replaceAll("[\\x00-\\x1f\\x7f]", "?");
  }
}
