package org.glmmaas.worker.engine.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.CodeSource;
import org.glmmaas.worker.engine.EngineException;

/**
 * The FFM downcall handles of {@code libglm} ({@code inference-worker/native/include/glm.h}),
 * written by hand, and the struct layouts they exchange. Loaded once per JVM; the ABI version is
 * checked at load. Everything above this class sees Java types only.
 *
 * <p>The library is found, in order: at system property {@code glm.native.lib}; at {@code
 * native/linux-x86_64/libglm.so} next to this class's classes directory (a Maven build); as the
 * classpath resource of that name, extracted to a temporary file (the Boot fat jar).
 */
final class GlmNative {

  /** The header's {@code GLM_ABI_VERSION} this binding was written against. */
  static final int ABI_VERSION = 1;

  static final String RESOURCE = "native/linux-x86_64/libglm.so";

  // ---- status codes (enum glm_status) ----
  static final int GLM_OK = 0;
  static final int GLM_ERR_NOT_FOUND = 7;

  // ---- struct layouts, named for their C typedef; StructLayoutTest checks every one against the
  // offsets and sizes the library reports (glm_struct_layout) ----
  static final StructLayout MODEL_PARAMS =
      MemoryLayout.structLayout(JAVA_INT.withName("use_mmap"), JAVA_INT.withName("validate_data"))
          .withName("glm_model_params");

  static final StructLayout HPARAMS =
      MemoryLayout.structLayout(
              MemoryLayout.sequenceLayout(32, JAVA_BYTE).withName("architecture"),
              JAVA_INT.withName("n_vocab"),
              JAVA_INT.withName("n_ctx_train"),
              JAVA_INT.withName("n_embd"),
              JAVA_INT.withName("n_layer"),
              JAVA_INT.withName("n_head"),
              JAVA_INT.withName("n_head_kv"),
              JAVA_INT.withName("head_dim"),
              JAVA_INT.withName("n_rot"),
              JAVA_INT.withName("n_ff"),
              JAVA_FLOAT.withName("rope_freq_base"),
              JAVA_FLOAT.withName("rms_norm_eps"),
              JAVA_INT.withName("file_type"),
              JAVA_LONG.withName("n_params"),
              JAVA_LONG.withName("n_weight_bytes"))
          .withName("glm_model_hparams");

  static final StructLayout CONTEXT_PARAMS =
      MemoryLayout.structLayout(
              ADDRESS.withName("device"),
              JAVA_INT.withName("n_threads"),
              JAVA_INT.withName("kv_block_size"),
              JAVA_INT.withName("n_kv_blocks"),
              JAVA_INT.withName("kv_type"),
              JAVA_INT.withName("max_batch_tokens"),
              JAVA_INT.withName("max_batch_seqs"))
          .withName("glm_context_params");

  static final StructLayout BATCH =
      MemoryLayout.structLayout(
              JAVA_INT.withName("n_tokens"),
              MemoryLayout.paddingLayout(4),
              ADDRESS.withName("token_ids"),
              ADDRESS.withName("seq_idx"),
              ADDRESS.withName("positions"),
              ADDRESS.withName("slot_mapping"),
              JAVA_INT.withName("n_seqs"),
              MemoryLayout.paddingLayout(4),
              ADDRESS.withName("block_table_offsets"),
              ADDRESS.withName("block_tables"),
              JAVA_INT.withName("n_logits"),
              MemoryLayout.paddingLayout(4),
              ADDRESS.withName("logit_rows"))
          .withName("glm_batch");

  static long offset(StructLayout layout, String field) {
    return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
  }

  // ---- downcall handles ----
  final MethodHandle abiVersion;
  final MethodHandle lastError;
  final MethodHandle systemInfo;
  final MethodHandle modelDefaultParams;
  final MethodHandle modelLoad;
  final MethodHandle modelFree;
  final MethodHandle modelGetHparams;
  final MethodHandle metaCount;
  final MethodHandle metaKey;
  final MethodHandle metaFind;
  final MethodHandle metaType;
  final MethodHandle metaGetI64;
  final MethodHandle metaGetF64;
  final MethodHandle metaGetStr;
  final MethodHandle metaArrInfo;
  final MethodHandle metaArrStr;
  final MethodHandle metaArrData;
  final MethodHandle tensorCount;
  final MethodHandle tensorInfo;
  final MethodHandle contextDefaultParams;
  final MethodHandle kvBlockBytes;
  final MethodHandle contextCreate;
  final MethodHandle contextFree;
  final MethodHandle contextGetParams;
  final MethodHandle forward;
  final MethodHandle modelPooling;
  final MethodHandle modelMaxInput;
  final MethodHandle embed;
  final MethodHandle contextTriad;
  final MethodHandle contextProfile;
  final MethodHandle modelExpertBytes;
  final MethodHandle modelSetExpertsFromDisk;

  final Path libraryPath;

  private GlmNative(Path libraryPath) {
    this.libraryPath = libraryPath;
    Linker linker = Linker.nativeLinker();
    SymbolLookup lib = SymbolLookup.libraryLookup(libraryPath, Arena.global());
    Binder b = new Binder(linker, lib);
    abiVersion = b.bind("glm_abi_version", FunctionDescriptor.of(JAVA_INT));
    lastError = b.bind("glm_last_error", FunctionDescriptor.of(ADDRESS));
    systemInfo = b.bind("glm_system_info", FunctionDescriptor.of(ADDRESS));
    modelDefaultParams = b.bind("glm_model_default_params", FunctionDescriptor.of(MODEL_PARAMS));
    modelLoad =
        b.bind("glm_model_load", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    modelFree = b.bind("glm_model_free", FunctionDescriptor.ofVoid(ADDRESS));
    modelGetHparams =
        b.bind("glm_model_get_hparams", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    metaCount = b.bind("glm_meta_count", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    metaKey =
        b.bind(
            "glm_meta_key", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    metaFind = b.bind("glm_meta_find", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS));
    metaType = b.bind("glm_meta_type", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    metaGetI64 =
        b.bind("glm_meta_get_i64", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
    metaGetF64 =
        b.bind("glm_meta_get_f64", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
    metaGetStr =
        b.bind(
            "glm_meta_get_str",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    metaArrInfo =
        b.bind(
            "glm_meta_arr_info",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    metaArrStr =
        b.bind(
            "glm_meta_arr_str",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS));
    metaArrData =
        b.bind("glm_meta_arr_data", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
    tensorCount = b.bind("glm_tensor_count", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    tensorInfo =
        b.bind(
            "glm_tensor_info",
            FunctionDescriptor.of(
                JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    contextDefaultParams =
        b.bind("glm_context_default_params", FunctionDescriptor.of(CONTEXT_PARAMS));
    kvBlockBytes =
        b.bind("glm_kv_block_bytes", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT));
    contextCreate =
        b.bind("glm_context_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    contextFree = b.bind("glm_context_free", FunctionDescriptor.ofVoid(ADDRESS));
    contextGetParams =
        b.bind("glm_context_get_params", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    forward = b.bind("glm_forward", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    modelPooling = b.bind("glm_model_pooling", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    modelMaxInput = b.bind("glm_model_max_input", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    embed =
        b.bind(
            "glm_embed",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    contextTriad =
        b.bind(
            "glm_context_triad",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
    contextProfile =
        b.bind(
            "glm_context_profile",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    modelExpertBytes = b.bind("glm_model_expert_bytes", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    modelSetExpertsFromDisk =
        b.bind(
            "glm_model_set_experts_from_disk", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    int abi;
    try {
      abi = (int) abiVersion.invokeExact();
    } catch (Throwable t) {
      throw new EngineException("glm_abi_version failed: " + t, t);
    }
    if (abi != ABI_VERSION) {
      throw new EngineException(
          "libglm at "
              + libraryPath
              + " has ABI version "
              + abi
              + ", this binding needs "
              + ABI_VERSION
              + ": rebuild inference-worker");
    }
  }

  private record Binder(Linker linker, SymbolLookup lib) {
    MethodHandle bind(String name, FunctionDescriptor fd) {
      MemorySegment sym =
          lib.find(name).orElseThrow(() -> new EngineException("libglm lacks the symbol " + name));
      return linker.downcallHandle(sym, fd);
    }
  }

  // ---- the one instance ----

  private static final Object LOCK = new Object();
  private static volatile GlmNative instance;
  private static volatile EngineException loadFailure;

  /** The loaded library; throws {@link EngineException} with the reason when it cannot load. */
  static GlmNative get() {
    GlmNative n = instance;
    if (n != null) {
      return n;
    }
    synchronized (LOCK) {
      if (instance != null) {
        return instance;
      }
      if (loadFailure != null) {
        throw loadFailure;
      }
      try {
        instance = new GlmNative(locateLibrary());
        return instance;
      } catch (EngineException e) {
        loadFailure = e;
        throw e;
      } catch (RuntimeException | LinkageError e) {
        loadFailure = new EngineException("cannot load libglm: " + e.getMessage(), e);
        throw loadFailure;
      }
    }
  }

  static Path locateLibrary() {
    String explicit = System.getProperty("glm.native.lib");
    if (explicit != null && !explicit.isBlank()) {
      Path p = Path.of(explicit);
      if (!Files.isRegularFile(p)) {
        throw new EngineException("glm.native.lib=" + explicit + " is not a file");
      }
      return p;
    }
    String os = System.getProperty("os.name", "").toLowerCase();
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new EngineException(
          "libglm is built for linux-x86_64 only, not "
              + os
              + "/"
              + arch
              + "; set -Dglm.native.lib to a library built for this machine");
    }
    Path besideClasses = besideClasses();
    if (besideClasses != null) {
      return besideClasses;
    }
    URL resource = GlmNative.class.getClassLoader().getResource(RESOURCE);
    if (resource == null) {
      throw new EngineException(
          "libglm not found: no -Dglm.native.lib, no "
              + RESOURCE
              + " next to the classes or on the classpath (build inference-worker with its native"
              + " part)");
    }
    try (InputStream in = resource.openStream()) {
      Path tmp = Files.createTempFile("libglm-", ".so");
      tmp.toFile().deleteOnExit();
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      return tmp;
    } catch (IOException e) {
      throw new EngineException(
          "cannot extract " + RESOURCE + " to a temporary file: " + e.getMessage(), e);
    }
  }

  private static Path besideClasses() {
    CodeSource cs = GlmNative.class.getProtectionDomain().getCodeSource();
    if (cs == null || cs.getLocation() == null || !"file".equals(cs.getLocation().getProtocol())) {
      return null;
    }
    try {
      Path loc = Path.of(cs.getLocation().toURI());
      if (!Files.isDirectory(loc)) {
        return null;
      }
      Path lib = loc.resolve(RESOURCE);
      return Files.isRegularFile(lib) ? lib : null;
    } catch (URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }

  // ---- helpers ----

  /** The calling thread's last native error message. */
  String lastErrorMessage() {
    try {
      MemorySegment p = (MemorySegment) lastError.invokeExact();
      if (p.equals(MemorySegment.NULL)) {
        return "";
      }
      return p.reinterpret(Long.MAX_VALUE).getString(0);
    } catch (Throwable t) {
      return "(glm_last_error failed: " + t + ")";
    }
  }

  /** Throws an EngineException with the native message when {@code status} is not GLM_OK. */
  void check(int status, String what) {
    if (status != GLM_OK) {
      String msg = lastErrorMessage();
      throw new EngineException(
          what + " failed (" + statusName(status) + ")" + (msg.isEmpty() ? "" : ": " + msg));
    }
  }

  static String statusName(int status) {
    return switch (status) {
      case 0 -> "OK";
      case 1 -> "INVALID_ARGUMENT";
      case 2 -> "IO";
      case 3 -> "FORMAT";
      case 4 -> "UNSUPPORTED";
      case 5 -> "OUT_OF_MEMORY";
      case 6 -> "INTERNAL";
      case 7 -> "NOT_FOUND";
      default -> "status " + status;
    };
  }

  static String utf8(MemorySegment ptr, long len) {
    if (len == 0) {
      return "";
    }
    byte[] b = ptr.reinterpret(len).toArray(JAVA_BYTE);
    return new String(b, StandardCharsets.UTF_8);
  }

  String systemInfoString() {
    try {
      MemorySegment p = (MemorySegment) systemInfo.invokeExact();
      return p.equals(MemorySegment.NULL) ? "" : p.reinterpret(Long.MAX_VALUE).getString(0);
    } catch (Throwable t) {
      throw new EngineException("glm_system_info failed: " + t, t);
    }
  }
}
