package org.glmmaas.worker.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.glmmaas.worker.engine.GreedyGenerator;
import org.glmmaas.worker.engine.GreedyGenerator.IdLogit;
import org.glmmaas.worker.engine.GreedyGenerator.Output;
import org.glmmaas.worker.engine.ffm.EngineOptions;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code glm engine generate}: greedy continuation of token-id prompts, one batch for all. */
final class EngineGenerateCommand implements Command {

  static final ObjectMapper JSON = JsonMapper.builder().build();

  @Override
  public String summary() {
    return "greedy continuation of token-id prompts (one batch), with top logits";
  }

  @Override
  public String usage() {
    return """
        Usage: glm engine generate --model FILE (--prompt-ids 1,2,3 | --prompts FILE) [options]
          --model FILE        GGUF model
          --prompt-ids LIST   one prompt as comma-separated token ids
          --prompts FILE      a JSON array of id arrays, run together in one batch
          --max-tokens N      tokens to generate per prompt (default 32; no stop on EOS)
          --top K             top-K logits of the last prompt position (default 20)
          --threads N         compute threads (default: one per core)
          --kv-type f16|f32   KV-cache type (default f32, as the reference outputs)
          --json              JSON output: {"prompt_ids","greedy_ids","top"} (an array for --prompts)
        """;
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    CliArgs a =
        CliArgs.parse(
            args,
            Set.of("model", "prompt-ids", "prompts", "max-tokens", "top", "threads", "kv-type"),
            Set.of("json"));
    Path model = a.existingFile("model");
    if (a.has("prompt-ids") == a.has("prompts")) {
      throw new UsageException("give exactly one of --prompt-ids and --prompts");
    }
    List<int[]> prompts =
        a.has("prompts")
            ? readPrompts(a.existingFile("prompts"))
            : List.of(a.intList("prompt-ids", null, 0, Integer.MAX_VALUE));
    int maxTokens = a.integer("max-tokens", 32, 1, 1 << 20);
    int topK = a.integer("top", 20, 0, 1 << 20);
    int threads = a.integer("threads", 0, 1, 1024);
    EngineOptions.KvType kv;
    try {
      kv = EngineOptions.KvType.parse(a.string("kv-type", "f32"));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    int totalPrompt = prompts.stream().mapToInt(p -> p.length).sum();
    int maxBatch = Math.clamp(totalPrompt, 64, 4096);
    EngineOptions opts =
        EngineOptions.defaults()
            .withThreads(threads)
            .withKvType(kv)
            .withKvBlockSize(16)
            .withKvBlocks(GreedyGenerator.blocksFor(prompts, maxTokens, 16))
            .withMaxBatchTokens(maxBatch)
            .withMaxBatchSeqs(Math.max(prompts.size(), 1));
    List<Output> results;
    try (NativeGlmEngine engine = NativeGlmEngine.open(model, opts)) {
      results = new GreedyGenerator(engine, maxBatch).run(prompts, maxTokens, topK, false);
    }
    if (a.flag("json")) {
      if (a.has("prompts")) {
        ArrayNode arr = JSON.createArrayNode();
        results.forEach(r -> arr.add(toJson(r)));
        out.println(JSON.writeValueAsString(arr));
      } else {
        out.println(JSON.writeValueAsString(toJson(results.getFirst())));
      }
    } else {
      for (int i = 0; i < results.size(); i++) {
        printText(out, i, results.get(i));
      }
    }
    return 0;
  }

  static List<int[]> readPrompts(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(file);
    } catch (JacksonException e) {
      throw new UsageException(
          "--prompts " + file + " is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isArray() || root.isEmpty()) {
      throw new UsageException(
          "--prompts " + file + " must hold a non-empty JSON array of" + " token-id arrays");
    }
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      JsonNode p = root.get(i);
      if (!p.isArray() || p.isEmpty()) {
        throw new UsageException(
            "--prompts " + file + ": item " + i + " is not a non-empty array of token ids");
      }
      int[] ids = new int[p.size()];
      for (int j = 0; j < ids.length; j++) {
        JsonNode v = p.get(j);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
          throw new UsageException(
              "--prompts " + file + ": item " + i + "[" + j + "] is not a" + " token id");
        }
        ids[j] = v.asInt();
      }
      out.add(ids);
    }
    return out;
  }

  static ObjectNode toJson(Output r) {
    ObjectNode o = JSON.createObjectNode();
    ArrayNode prompt = o.putArray("prompt_ids");
    for (int id : r.promptIds()) {
      prompt.add(id);
    }
    ArrayNode greedy = o.putArray("greedy_ids");
    for (int id : r.greedyIds()) {
      greedy.add(id);
    }
    ArrayNode top = o.putArray("top");
    for (IdLogit t : r.top()) {
      top.addArray().add(t.id()).add(t.logit());
    }
    return o;
  }

  private static void printText(PrintStream out, int i, Output r) {
    out.printf("prompt %d: %d tokens%n", i, r.promptIds().length);
    StringBuilder g = new StringBuilder();
    for (int id : r.greedyIds()) {
      g.append(g.isEmpty() ? "" : " ").append(id);
    }
    out.println("  greedy: " + g);
    out.println("  top logits at the last prompt position:");
    for (IdLogit t : r.top()) {
      out.printf("    %8d  %12.6f%n", t.id(), t.logit());
    }
  }
}
