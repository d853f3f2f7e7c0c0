package org.glmmaas.worker.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelMaker;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import tools.jackson.databind.node.ObjectNode;

/** {@code glm engine make-model}: writes a seeded random-weight GLM model as GGUF. */
final class MakeModelCommand implements Command {

  @Override
  public String summary() {
    return "write a seeded random-weight GLM model (GGUF) for tests and benchmarks";
  }

  @Override
  public String usage() {
    return """
        Usage: glm engine make-model --out FILE [options]
          --arch glm4|chatglm|glm4moe|bert  architecture (default glm4; glm4moe: mixture of
                                         experts, docs/moe.md; bert: an embedding model)
          --preset tiny|small|1b|scale   shape (default tiny; 1b: docs/performance.md bench model;
                   moe-1b                glm4moe bench model: 16 experts, 2 used, docs/moe.md;
                   bert-tiny|bge-small   bert: default bert-tiny; bge-small: bge-small-zh's shape)
          --type f32|f16|q8_0|q4_0       2-D weight type (default f32; q4_0 keeps output in Q6_K)
          --seed N                       same seed, same bytes (default 42)
          --tools                        a chat template with tools and the FIM tokens (demo model)
          --out FILE                     where to write
          --json                         JSON output
        """;
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    CliArgs a =
        CliArgs.parse(
            args, Set.of("arch", "preset", "type", "seed", "out"), Set.of("json", "tools"));
    ModelMaker.Spec spec;
    try {
      ModelArch arch = ModelArch.parse(a.string("arch", "glm4"));
      spec =
          new ModelMaker.Spec(
              arch,
              ModelPreset.parse(a.string("preset", arch == ModelArch.BERT ? "bert-tiny" : "tiny")),
              WeightType.parse(a.string("type", "f32")),
              a.longValue("seed", 42),
              a.flag("tools"));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    Path file = Path.of(a.required("out"));
    long t0 = System.nanoTime();
    ModelMaker.Result r;
    try {
      r = ModelMaker.make(spec, file);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    if (a.flag("json")) {
      ObjectNode o = EngineGenerateCommand.JSON.createObjectNode();
      o.put("path", file.toString());
      o.put("arch", spec.arch().ggufName);
      o.put("preset", spec.preset().name());
      o.put("type", spec.type().name().toLowerCase());
      o.put("seed", spec.seed());
      o.put("tools", spec.tools());
      o.put("params", r.numParams());
      o.put("bytes", r.bytes());
      o.put("seconds", Math.round(secs * 100) / 100.0);
      out.println(EngineGenerateCommand.JSON.writeValueAsString(o));
    } else {
      out.printf(
          "wrote %s: %s %s %s, seed %d, %,d parameters, %,d bytes in %.1f s%n",
          file,
          spec.arch().ggufName,
          spec.preset().name(),
          spec.type().name().toLowerCase(),
          spec.seed(),
          r.numParams(),
          r.bytes(),
          secs);
    }
    return 0;
  }
}
