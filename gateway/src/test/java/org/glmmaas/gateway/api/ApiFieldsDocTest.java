package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.gateway.request.ApiFields;
import org.glmmaas.gateway.request.ApiFields.Endpoint;
import org.glmmaas.gateway.request.ApiFields.Status;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Walks the request-field tables of docs/api.md: they must list exactly the gateway's fields with
 * the gateway's statuses ({@link ApiFields}), and every row's example, sent to a test gateway in
 * each dialect, must get what the row says: 200 when honoured or ignored, a 400 naming the field
 * when refused or not part of that dialect.
 */
class ApiFieldsDocTest {

  static final Path DOC = Path.of("..", "docs", "api.md");
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final String TOOLS =
      "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Current"
          + " weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
          + "\"string\"}},\"required\":[\"city\"]}}}]";

  record Row(Endpoint endpoint, String field, Status openAi, Status bigModel, String example) {
    Status status(Api api) {
      return api == Api.OPENAI ? openAi : bigModel;
    }
  }

  static List<Row> rows() throws Exception {
    List<Row> out = new ArrayList<>();
    Endpoint current = null; // the table a marker announced, until the table ends
    boolean inTable = false;
    for (String line : Files.readAllLines(DOC)) {
      String t = line.strip();
      if (t.startsWith("<!-- api-fields:")) {
        current =
            Endpoint.valueOf(t.substring("<!-- api-fields:".length(), t.indexOf("-->")).strip());
        inTable = false;
        continue;
      }
      if (current == null) {
        continue;
      }
      if (!t.startsWith("|")) {
        if (inTable) {
          current = null;
        }
        continue;
      }
      inTable = true;
      String[] cells = t.substring(1, t.length() - 1).split("(?<!\\\\)\\|", -1);
      String field = cells[0].strip();
      if (!field.startsWith("`")) {
        continue; // header and separator
      }
      out.add(
          new Row(
              current,
              unquote(field),
              status(cells[1].strip()),
              status(cells[2].strip()),
              unquote(cells[3].strip())));
    }
    return out;
  }

  static String unquote(String s) {
    return s.startsWith("`") && s.endsWith("`") ? s.substring(1, s.length() - 1) : s;
  }

  static Status status(String cell) {
    return switch (cell) {
      case "honoured" -> Status.HONOURED;
      case "ignored" -> Status.IGNORED;
      case "refused" -> Status.REFUSED;
      case "—" -> null;
      default -> throw new AssertionError("unknown status '" + cell + "' in docs/api.md");
    };
  }

  @Test
  void theDocumentedTablesAreTheGatewaysTable() throws Exception {
    Map<String, String> doc = new LinkedHashMap<>();
    for (Row r : rows()) {
      String prev = doc.put(r.endpoint() + " " + r.field(), r.openAi() + "/" + r.bigModel());
      assertThat(prev).as("row listed twice: " + r.field()).isNull();
    }
    Map<String, String> code = new LinkedHashMap<>();
    for (ApiFields.Field f : ApiFields.all()) {
      code.put(f.endpoint() + " " + f.path(), f.openAi() + "/" + f.bigModel());
    }
    List<String> drift = new ArrayList<>();
    for (var e : code.entrySet()) {
      String d = doc.get(e.getKey());
      if (d == null) {
        drift.add(e.getKey() + ": in ApiFields.java (" + e.getValue() + "), not in docs/api.md");
      } else if (!d.equals(e.getValue())) {
        drift.add(e.getKey() + ": docs/api.md says " + d + ", ApiFields.java " + e.getValue());
      }
    }
    for (String k : doc.keySet()) {
      if (!code.containsKey(k)) {
        drift.add(k + ": in docs/api.md, not in ApiFields.java");
      }
    }
    assertThat(doc).hasSizeGreaterThan(130);
    assertThat(drift).as("docs/api.md vs request/ApiFields.java").isEmpty();
  }

  /** The endpoint path of an endpoint in a dialect, or null where it has none. */
  static String path(Endpoint e, Api api) {
    return switch (e) {
      case CHAT -> api == Api.OPENAI ? "/v1/chat/completions" : "/api/paas/v4/chat/completions";
      case COMPLETIONS -> api == Api.OPENAI ? "/v1/completions" : null;
      case TOKENIZER -> api == Api.BIGMODEL ? "/api/paas/v4/tokenizer" : null;
      case TOKENIZE -> api == Api.OPENAI ? "/tokenize" : null;
      case DETOKENIZE -> api == Api.OPENAI ? "/detokenize" : null;
      case EMBEDDINGS -> api == Api.OPENAI ? "/v1/embeddings" : "/api/paas/v4/embeddings";
    };
  }

  static String base(Endpoint e) {
    String m = "\"model\":\"" + TestGateway.MODEL + "\"";
    return switch (e) {
      case CHAT, TOKENIZER -> "{" + m + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
      case COMPLETIONS, TOKENIZE -> "{" + m + ",\"prompt\":\"hi\"}";
      case DETOKENIZE -> "{" + m + ",\"tokens\":[1,2,3]}";
      case EMBEDDINGS -> "{\"model\":\"" + TestGateway.EMBED_MODEL + "\",\"input\":\"hi\"}";
    };
  }

  @Test
  void everyExampleGetsWhatItsRowSays() throws Exception {
    TestGateway gw = TestGateway.get();
    List<String> failures = new ArrayList<>();
    int sent = 0;
    for (Row r : rows()) {
      ObjectNode body = (ObjectNode) JSON.readTree(base(r.endpoint()));
      JsonNode example =
          JSON.readTree(r.example().replace("$TOOLS", TOOLS).replace("$MODEL", TestGateway.MODEL));
      for (var e : example.properties()) {
        body.set(e.getKey(), e.getValue());
      }
      for (Api api : Api.values()) {
        String path = path(r.endpoint(), api);
        if (path == null) {
          if (r.status(api) != null) {
            failures.add(r.field() + ": " + api + " has no " + r.endpoint() + " endpoint");
          }
          continue;
        }
        HttpResponse<String> resp = gw.post(path, TestGateway.KEY, JSON.writeValueAsString(body));
        sent++;
        String what = r.endpoint() + " " + r.field() + " on " + api + ": " + resp.statusCode();
        Status s = r.status(api);
        if (s == Status.HONOURED || s == Status.IGNORED) {
          if (resp.statusCode() != 200) {
            failures.add(what + " " + resp.body());
          }
          continue;
        }
        if (resp.statusCode() != 400) {
          failures.add(what + " (expected 400) " + resp.body());
          continue;
        }
        JsonNode err = JSON.readTree(resp.body()).get("error");
        String named = err.path("param").asString("") + " " + err.path("message").asString("");
        boolean names = false;
        for (String seg : r.field().replace("[]", "").split("\\.")) {
          names |= named.contains(seg);
        }
        if (!names) {
          failures.add(what + " does not name the field: " + resp.body());
        }
      }
    }
    assertThat(sent).isGreaterThan(150);
    assertThat(failures).isEmpty();
  }
}
