package org.glmmaas.worker.models;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Short names for known-good GLM GGUF files on Hugging Face. Sizes and SHA-256 are left empty
 * unless published next to the file: {@code glm pull} then takes the size from the server and the
 * SHA-256 from Hugging Face's {@code X-Linked-Etag} header (the LFS object id), and verifies both.
 */
public final class ModelCatalog {

  /**
   * @param name short name users type
   * @param repo Hugging Face repository
   * @param file file in the repository
   * @param sizeBytes expected size, or 0 when taken from the server
   * @param sha256 expected SHA-256 (hex), or empty when taken from the server
   * @param memoryNote memory needed to serve it (weights plus a 4k-token f16 KV cache)
   */
  public record Entry(
      String name, String repo, String file, long sizeBytes, String sha256, String memoryNote) {}

  private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

  static {
    // GLM-4-9B-chat (architecture chatglm, 151,552-token vocabulary, 128k context).
    add(
        new Entry(
            "glm-4-9b-chat:q8_0",
            "legraphista/glm-4-9b-chat-GGUF",
            "glm-4-9b-chat.Q8_0.gguf",
            0,
            "",
            "about 11 GB (9.99 GB weights + KV)"));
    add(
        new Entry(
            "glm-4-9b-chat:q6_k",
            "legraphista/glm-4-9b-chat-GGUF",
            "glm-4-9b-chat.Q6_K.gguf",
            0,
            "",
            "about 9.3 GB (8.26 GB weights + KV)"));
    add(
        new Entry(
            "glm-4-9b-chat:q4_0",
            "second-state/glm-4-9b-chat-GGUF",
            "glm-4-9b-chat-Q4_0.gguf",
            0,
            "",
            "about 6.5 GB (5.5 GB weights + KV)"));
    add(
        new Entry(
            "glm-4-9b-chat:q4_k_m",
            "second-state/glm-4-9b-chat-GGUF",
            "glm-4-9b-chat-Q4_K_M.gguf",
            0,
            "",
            "about 7.3 GB (6.3 GB weights + KV)"));
    // ChatGLM3-6B (architecture chatglm, SentencePiece vocabulary, 8k context; docs/moe.md). Repo
    // and file names from the Hugging Face file listing (sizes as listed there); not downloaded
    // or checked by hash here: glm pull takes both from the server.
    add(
        new Entry(
            "chatglm3-6b:q8_0",
            "mradermacher/chatglm3-6b-GGUF",
            "chatglm3-6b.Q8_0.gguf",
            0,
            "",
            "about 7.0 GB (6.64 GB weights + KV)"));
    add(
        new Entry(
            "chatglm3-6b:q4_k_m",
            "mradermacher/chatglm3-6b-GGUF",
            "chatglm3-6b.Q4_K_M.gguf",
            0,
            "",
            "about 4.7 GB (4.14 GB weights + KV)"));
    // GLM-4.5-Air (architecture glm4moe: 106 B parameters, 12 B active; 128 experts, 8 used;
    // 46 layers + 1 NextN layer; docs/moe.md). Published split by llama.cpp's gguf-split into
    // PREFIX-0000K-of-0000N.gguf parts (Hugging Face's 50 GB file limit): glm pull fetches every
    // part and the engine loads the model from its first. Seen in stored public pages (no network
    // here): the repository unsloth/GLM-4.5-Air-GGUF, unsloth's FOLDER/MODEL-QUANT-0000K-of-0000N
    // layout (GLM-4.6: BF16/GLM-4.6-BF16-00001-of-00015.gguf) and the merged sizes (Q4_K_M 73 GB,
    // Q8_0 117 GB); the part counts (2 and 3) follow from the 50 GB limit and were not seen. Not
    // downloaded or checked by hash here: glm pull takes both from the server per part.
    add(
        new Entry(
            "glm-4.5-air:q4_k_m",
            "unsloth/GLM-4.5-Air-GGUF",
            "Q4_K_M/GLM-4.5-Air-Q4_K_M-00001-of-00002.gguf",
            0,
            "",
            "about 80 GB (about 73 GB weights in 2 parts + KV; experts from disk below that)"));
    add(
        new Entry(
            "glm-4.5-air:q8_0",
            "unsloth/GLM-4.5-Air-GGUF",
            "Q8_0/GLM-4.5-Air-Q8_0-00001-of-00003.gguf",
            0,
            "",
            "about 125 GB (about 117 GB weights in 3 parts + KV; experts from disk below that)"));
  }

  private ModelCatalog() {}

  private static void add(Entry e) {
    ENTRIES.put(e.name(), e);
  }

  public static Optional<Entry> find(String name) {
    return Optional.ofNullable(ENTRIES.get(name));
  }

  public static Map<String, Entry> entries() {
    return Map.copyOf(ENTRIES);
  }
}
