package org.glmmaas.worker.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.engine.ffm.NativeEmbedder;
import org.glmmaas.worker.text.WordPieceTokenizer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code glm engine embed}: embeddings of a list of texts with a BERT-family GGUF model, all inputs
 * in one engine step (docs/embeddings.md).
 */
final class EngineEmbedCommand implements Command {

  static final ObjectMapper JSON = JsonMapper.builder().build();

  @Override
  public String summary() {
    return "embeddings of texts with an embedding (bert) model, all inputs in one batch";
  }

  @Override
  public String usage() {
    return """
        Usage: glm engine embed --model FILE (--inputs FILE | --text TEXT) [options]
          --model FILE     GGUF embedding model (architecture bert, WordPiece vocabulary)
          --inputs FILE    a JSON array of strings, embedded together in one batch
          --text TEXT      one input
          --threads N      compute threads (default: one per core)
          --bench N        throughput instead of vectors: one warm-up, then N timed runs of
                           the whole batch; prints tokens/s (median) and each run's seconds
          --json           JSON output: [{"token_ids", "embedding" (L2-normalised),
                           "embedding_raw" (pooled)}], one per input, in order
        """;
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    CliArgs a =
        CliArgs.parse(args, Set.of("model", "inputs", "text", "threads", "bench"), Set.of("json"));
    Path model = a.existingFile("model");
    if (a.has("inputs") == a.has("text")) {
      throw new UsageException("give exactly one of --inputs and --text");
    }
    List<String> texts =
        a.has("inputs") ? readInputs(a.existingFile("inputs")) : List.of(a.required("text"));
    int threads = a.integer("threads", 0, 1, 1024);
    WordPieceTokenizer tok;
    try {
      tok = WordPieceTokenizer.fromMetadata(TextCommandArgs.loadMetadata(model.toString()));
    } catch (IllegalArgumentException e) {
      throw new EngineException(model + " is not an embedding model: " + e.getMessage());
    }
    int[][] ids = new int[texts.size()][];
    long total = 0;
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tok.encode(texts.get(i), true, true);
      total += ids[i].length;
    }
    if (total > Integer.MAX_VALUE / 2) {
      throw new UsageException("the inputs hold " + total + " tokens: too many for one batch");
    }
    float[][] raw;
    try (NativeEmbedder e = NativeEmbedder.open(model, threads, (int) total)) {
      for (int i = 0; i < ids.length; i++) {
        if (ids[i].length > e.maxInputTokens()) {
          throw new EngineException(
              "input "
                  + i
                  + " has "
                  + ids[i].length
                  + " tokens ([CLS] and [SEP] included); the model takes at most "
                  + e.maxInputTokens());
        }
      }
      raw = e.embed(ids);
      if (a.has("bench")) {
        bench(e, ids, total, a.integer("bench", 5, 1, 1000), threads, a.flag("json"), out);
        return 0;
      }
    }
    if (a.flag("json")) {
      ArrayNode arr = JSON.createArrayNode();
      for (int i = 0; i < ids.length; i++) {
        ObjectNode o = arr.addObject();
        ArrayNode t = o.putArray("token_ids");
        for (int id : ids[i]) {
          t.add(id);
        }
        ArrayNode em = o.putArray("embedding");
        for (float v : NativeEmbedder.normalize(raw[i])) {
          em.add(v);
        }
        ArrayNode r = o.putArray("embedding_raw");
        for (float v : raw[i]) {
          r.add(v);
        }
      }
      out.println(JSON.writeValueAsString(arr));
    } else {
      for (int i = 0; i < ids.length; i++) {
        float[] n = NativeEmbedder.normalize(raw[i]);
        StringBuilder head = new StringBuilder();
        for (int j = 0; j < Math.min(6, n.length); j++) {
          head.append(String.format(" %.6f", n[j]));
        }
        out.printf("input %d: %d tokens, %d dims:%s ...%n", i, ids[i].length, n.length, head);
      }
    }
    return 0;
  }

  private static void bench(
      NativeEmbedder e,
      int[][] ids,
      long total,
      int runs,
      int threads,
      boolean json,
      PrintStream out) {
    double[] secs = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      e.embed(ids);
      secs[i] = (System.nanoTime() - t0) / 1e9;
    }
    double[] sorted = secs.clone();
    java.util.Arrays.sort(sorted);
    double median = sorted[runs / 2];
    double tokS = total / median;
    if (json) {
      ObjectNode o = JSON.createObjectNode();
      o.put("inputs", ids.length);
      o.put("tokens", total);
      o.put("threads", threads);
      o.put("tok_s", Math.round(tokS * 10) / 10.0);
      ArrayNode r = o.putArray("runs_s");
      for (double s : secs) {
        r.add(Math.round(s * 10000) / 10000.0);
      }
      out.println(JSON.writeValueAsString(o));
    } else {
      out.printf(
          "%d inputs, %d tokens, one batch: %.1f tok/s (median of %d runs, %.4f s)%n",
          ids.length, total, tokS, runs, median);
    }
  }

  static List<String> readInputs(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(file);
    } catch (JacksonException e) {
      throw new UsageException(
          "--inputs " + file + " is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isArray() || root.isEmpty()) {
      throw new UsageException("--inputs " + file + " must hold a non-empty JSON array of strings");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      if (!root.get(i).isString()) {
        throw new UsageException("--inputs " + file + ": item " + i + " is not a string");
      }
      out.add(root.get(i).asString());
    }
    return out;
  }
}
