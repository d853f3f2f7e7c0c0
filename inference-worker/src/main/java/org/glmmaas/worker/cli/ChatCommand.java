package org.glmmaas.worker.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.glmmaas.worker.text.ChatInput;
import org.glmmaas.worker.text.ChatTurn;
import org.glmmaas.worker.text.GlmTextModel;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code glm engine chat --model FILE --messages JSON [--no-generation-prompt] [--json]}: renders
 * the messages through the model's chat template (generation prompt added) and tokenizes the result
 * with special tokens parsed: exactly what the worker feeds the model.
 */
public final class ChatCommand {

  static final String USAGE =
      "usage: glm engine chat --model FILE --messages '[{\"role\":\"user\",\"content\":\"...\"}]'"
          + " [--no-generation-prompt] [--json]";

  private ChatCommand() {}

  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      TextCommandArgs a =
          TextCommandArgs.parse(
              args,
              Set.of("--model", "--messages"),
              Set.of("--json", "--no-generation-prompt", "--help"));
      if (a.flag("--help")) {
        out.println(USAGE);
        return 0;
      }
      String model = a.required("--model");
      List<ChatTurn> messages = parseMessages(a.required("--messages"));
      GlmTextModel textModel = TextCommandArgs.loadModel(model);
      var chat =
          textModel
              .chatTemplate()
              .render(ChatInput.of(messages), !a.flag("--no-generation-prompt"));
      String rendered = chat.text();
      int[] ids = chat.encode(textModel.tokenizer());
      if (a.flag("--json")) {
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode node = json.createObjectNode();
        node.put("rendered", rendered);
        var array = node.putArray("ids");
        for (int id : ids) {
          array.add(id);
        }
        out.println(json.writeValueAsString(node));
      } else {
        out.println("rendered prompt:");
        out.println(rendered);
        out.println(ids.length + " tokens: " + TextCommandArgs.idsJson(ids));
      }
      return 0;
    } catch (TextCommandArgs.UsageException e) {
      err.println("glm engine chat: " + e.getMessage());
      err.println(USAGE);
      return 2;
    } catch (java.io.IOException
        | IllegalArgumentException
        | org.glmmaas.worker.gguf.GgufFormatException e) {
      err.println("glm engine chat: " + e.getMessage());
      return 1;
    }
  }

  static List<ChatTurn> parseMessages(String text) throws TextCommandArgs.UsageException {
    JsonNode root;
    try {
      root = JsonMapper.builder().build().readTree(text);
    } catch (JacksonException e) {
      throw new TextCommandArgs.UsageException(
          "--messages is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isArray() || root.isEmpty()) {
      throw new TextCommandArgs.UsageException(
          "--messages must be a non-empty JSON array of {role, content}");
    }
    List<ChatTurn> turns = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      JsonNode m = root.get(i);
      if (!m.isObject() || !m.path("role").isString()) {
        throw new TextCommandArgs.UsageException("--messages[" + i + "] needs a string \"role\"");
      }
      JsonNode content = m.path("content");
      if (!content.isMissingNode() && !content.isNull() && !content.isString()) {
        throw new TextCommandArgs.UsageException("--messages[" + i + "].content must be a string");
      }
      turns.add(
          new ChatTurn(m.get("role").asString(), content.isString() ? content.asString() : ""));
    }
    return turns;
  }
}
