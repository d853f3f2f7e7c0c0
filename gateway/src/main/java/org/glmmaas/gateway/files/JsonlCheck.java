package org.glmmaas.gateway.files;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.glmmaas.gateway.error.Json;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Checks that a {@code purpose=batch} upload is UTF-8 JSON Lines: every non-blank line one JSON
 * object. Answers null when it is, else a message naming the first bad line (1-based).
 */
final class JsonlCheck {

  private JsonlCheck() {}

  static String problem(Path file) throws IOException {
    int line = 0;
    int objects = 0;
    try (InputStream in = Files.newInputStream(file);
        BufferedReader r =
            new BufferedReader(
                new InputStreamReader(
                    in,
                    StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)),
                1 << 16)) {
      String s;
      while (true) {
        try {
          s = r.readLine();
        } catch (CharacterCodingException e) {
          return "line "
              + (line + 1)
              + " is not UTF-8 text: a batch input file must be UTF-8 JSON Lines (is it a"
              + " binary file?)";
        }
        if (s == null) {
          break;
        }
        line++;
        if (line == 1 && s.startsWith("\uFEFF")) {
          s = s.substring(1);
        }
        if (s.indexOf('\u0000') >= 0) {
          return "line "
              + line
              + " holds a NUL byte: a batch input file must be UTF-8 JSON Lines"
              + " (is it a binary file?)";
        }
        if (s.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = Json.MAPPER.readTree(s);
        } catch (JacksonException e) {
          return "line " + line + " is not valid JSON: " + e.getOriginalMessage();
        }
        if (n == null || !n.isObject()) {
          return "line " + line + " is not a JSON object";
        }
        objects++;
      }
    }
    return objects == 0 ? "the file holds no JSON lines" : null;
  }
}
