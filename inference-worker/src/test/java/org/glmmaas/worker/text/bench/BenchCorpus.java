package org.glmmaas.worker.text.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.gguf.GgufReader;

/**
 * Inputs of the text benchmarks: a long mixed Chinese/English text and the reference vocabulary.
 */
final class BenchCorpus {

  private static final String[] ZH = {
    "随着人工神经网络和深度学习技术的不断发展和应用场景的不断拓展，大型语言模型已经成为了自然语言处理领域中的重要研究方向之一。",
    "清华大学作为国内领先的科研机构之一，一直在该领域不断探索和创新。",
    "2022年，清华大学发布了一款具有重要意义的 GLM 大模型，它不仅在中文语言处理方面取得了显著的进展，还在英文语言处理方面表现出了强大的能力。",
    "GLM大模型属于开源大模型，可以本地部署进行行业微调、也可通过API方式在线获取GLM模型能力。",
    "本文将着重介绍GLM大模型的研究成果和应用，探讨GLM开源大模型在发展历程、技术原理、应用场景等内容。",
    "自回归空白填充（Autoregressive Blank Infilling）是GLM预训练的核心目标。",
    "请总结下面的文章，并给出三个要点：",
    "今天天气很好，我们一起去公园散步吧！",
  };

  private static final String[] EN = {
    "The quick brown fox jumps over the lazy dog.",
    "GLM is a General Language Model pretrained with an autoregressive blank-filling objective.",
    "It can be finetuned on various natural language understanding and generation tasks.",
    "I've been told they're shipping the model next week, but we'll see what happens.",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "Throughput is measured in tokens per second at a fixed batch size of 32 sequences.",
    "See https://github.com/THUDM/ChatGLM-6B for details (version 4.0, released 2024-06-05).",
  };

  private BenchCorpus() {}

  /**
   * About {@code bytes} bytes of UTF-8: random sentences, half Chinese, half English, numbers mixed
   * in.
   */
  static String mixedText(int bytes, long seed) {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder();
    int size = 0;
    while (size < bytes) {
      String s = r.nextBoolean() ? ZH[r.nextInt(ZH.length)] : EN[r.nextInt(EN.length)];
      if (r.nextInt(4) == 0) {
        s = s + " " + r.nextInt(1_000_000) + (r.nextBoolean() ? "\n" : " ");
      }
      sb.append(s);
      size += s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
    return sb.toString();
  }

  /** The reference vocabulary (1,536 tokens), from ../shared next to the repository. */
  static GgufMetadata referenceMetadata() {
    String shared = System.getProperty("glm.shared.dir");
    Path[] candidates = {
      shared == null ? null : Path.of(shared), Path.of("../shared"), Path.of("../../shared"),
    };
    for (Path dir : candidates) {
      if (dir == null) {
        continue;
      }
      Path model = dir.resolve("reference/models/tiny-glm4-f32.gguf");
      if (Files.exists(model)) {
        try {
          return GgufReader.read(model).metadata();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    throw new IllegalStateException(
        "reference model not found: set -Dglm.shared.dir=<path to shared>");
  }
}
