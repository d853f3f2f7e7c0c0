package org.glmmaas.worker.cli;

import java.io.PrintStream;
import java.util.Set;
import org.glmmaas.worker.text.BpeTokenizer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code glm engine tokenize --model FILE --text TEXT [--no-special] [--json]}: the model's token
 * ids for a text (special tokens parsed unless {@code --no-special}) and the text decoded back.
 */
public final class TokenizeCommand {

  static final String USAGE =
      "usage: glm engine tokenize --model FILE --text TEXT [--no-special] [--json]";

  private TokenizeCommand() {}

  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      TextCommandArgs a =
          TextCommandArgs.parse(
              args, Set.of("--model", "--text"), Set.of("--no-special", "--json", "--help"));
      if (a.flag("--help")) {
        out.println(USAGE);
        return 0;
      }
      String model = a.required("--model");
      String text = a.required("--text");
      // the tokenizer alone: no chat template engine to start
      BpeTokenizer tok = BpeTokenizer.fromMetadata(TextCommandArgs.loadMetadata(model));
      int[] ids = tok.encode(text, !a.flag("--no-special"));
      String decoded = tok.decode(ids);
      if (a.flag("--json")) {
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode node = json.createObjectNode();
        var array = node.putArray("ids");
        for (int id : ids) {
          array.add(id);
        }
        node.put("text", decoded);
        out.println(json.writeValueAsString(node));
      } else {
        out.println(ids.length + " tokens");
        for (int id : ids) {
          String piece = new String(tok.tokenBytes(id), java.nio.charset.StandardCharsets.UTF_8);
          out.printf("%8d  %s%n", id, visible(piece));
        }
        out.println("decoded: " + decoded);
      }
      return 0;
    } catch (TextCommandArgs.UsageException e) {
      err.println("glm engine tokenize: " + e.getMessage());
      err.println(USAGE);
      return 2;
    } catch (java.io.IOException
        | IllegalArgumentException
        | org.glmmaas.worker.gguf.GgufFormatException e) {
      err.println("glm engine tokenize: " + e.getMessage());
      return 1;
    }
  }

  static String visible(String piece) {
    return "'"
        + piece.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        + "'";
  }
}
