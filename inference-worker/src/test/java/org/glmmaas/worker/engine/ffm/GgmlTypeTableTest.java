package org.glmmaas.worker.engine.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.TreeMap;
import org.glmmaas.worker.gguf.GgmlType;
import org.junit.jupiter.api.Test;

/**
 * The Java ggml type table ({@link GgmlType}) and the native engine's ({@code ggml_types.h}, read
 * through {@code glm_type_info}) hold the same types with the same name, block size, bytes per
 * block and runnable flag: a model the Java side writes or sizes is read the same way by C.
 */
class GgmlTypeTableTest {

  /** One row of a type table. */
  record Row(String name, int blockSize, int typeSize, boolean runnable) {}

  @Test
  void javaAndNativeTypeTablesAgreeForEveryType() throws Throwable {
    NativeTestSupport.assumeLibrary();
    Map<Integer, Row> nativeTable = nativeTable();
    Map<Integer, Row> javaTable = new TreeMap<>();
    for (GgmlType t : GgmlType.values()) {
      javaTable.put(t.id, new Row(t.name(), t.blockSize, t.typeSize, t.runnable));
    }

    assertThat(nativeTable).as("C's table").containsKeys(0, 1, 2, 8, 12, 13, 14, 30);
    assertThat(javaTable).isEqualTo(nativeTable);
  }

  @Test
  void anUnknownTypeNumberIsNotFound() throws Throwable {
    NativeTestSupport.assumeLibrary();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment name = arena.allocate(ADDRESS);
      int status = (int) typeInfo().invokeExact(40, name, nullPtr(), nullPtr(), nullPtr());
      assertThat(status).isEqualTo(GlmNative.GLM_ERR_NOT_FOUND);
      assertThat(GlmNative.get().lastErrorMessage()).contains("40");
    }
  }

  private static MemorySegment nullPtr() {
    return MemorySegment.NULL;
  }

  private static MethodHandle typeInfo() {
    SymbolLookup lib = SymbolLookup.libraryLookup(GlmNative.get().libraryPath, Arena.global());
    return Linker.nativeLinker()
        .downcallHandle(
            lib.find("glm_type_info").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  }

  /** Every type number GGUF could store in a byte: the ones C knows. */
  private static Map<Integer, Row> nativeTable() throws Throwable {
    MethodHandle info = typeInfo();
    Map<Integer, Row> table = new TreeMap<>();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment name = arena.allocate(ADDRESS);
      MemorySegment block = arena.allocate(JAVA_INT);
      MemorySegment size = arena.allocate(JAVA_INT);
      MemorySegment runnable = arena.allocate(JAVA_INT);
      for (int id = 0; id < 256; id++) {
        int status = (int) info.invokeExact(id, name, block, size, runnable);
        if (status == GlmNative.GLM_ERR_NOT_FOUND) {
          continue;
        }
        assertThat(status).as("glm_type_info(%d)", id).isEqualTo(GlmNative.GLM_OK);
        table.put(
            id,
            new Row(
                name.get(ADDRESS, 0).reinterpret(64).getString(0),
                block.get(JAVA_INT, 0),
                size.get(JAVA_INT, 0),
                runnable.get(JAVA_INT, 0) != 0));
      }
    }
    return table;
  }
}
