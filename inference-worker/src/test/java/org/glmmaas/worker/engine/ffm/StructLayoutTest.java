package org.glmmaas.worker.engine.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The struct layouts {@link GlmNative} writes by hand match the C library's, field by field: every
 * offset and size and every struct's size as the library reports them ({@code glm_struct_layout}),
 * and neither side has a field the other lacks. A header change that the binding misses fails here
 * rather than as corrupt memory.
 */
class StructLayoutTest {

  /** Offset and size of one field, or of a whole struct (field ""). */
  record Entry(long offset, long size) {}

  @Test
  void everyJavaStructLayoutMatchesTheLibrary() throws Throwable {
    NativeTestSupport.assumeLibrary();
    Map<String, Map<String, Entry>> c = nativeLayouts();
    Map<String, Map<String, Entry>> java = javaLayouts();

    assertThat(java).as("GlmNative's struct layouts").isNotEmpty();
    assertThat(java.keySet()).as("structs").isEqualTo(c.keySet());
    for (var s : c.entrySet()) {
      assertThat(java.get(s.getKey())).as(s.getKey()).isEqualTo(s.getValue());
    }
  }

  /** Per struct: "" (the struct) and each named field, from GlmNative's static StructLayouts. */
  private static Map<String, Map<String, Entry>> javaLayouts() throws IllegalAccessException {
    Map<String, Map<String, Entry>> out = new TreeMap<>();
    for (Field f : GlmNative.class.getDeclaredFields()) {
      if (!Modifier.isStatic(f.getModifiers()) || f.getType() != StructLayout.class) {
        continue;
      }
      StructLayout layout = (StructLayout) f.get(null);
      String name =
          layout
              .name()
              .orElseThrow(() -> new AssertionError(f.getName() + " has no C struct name"));
      Map<String, Entry> fields = new TreeMap<>();
      fields.put("", new Entry(0, layout.byteSize()));
      for (MemoryLayout m : layout.memberLayouts()) {
        if (m.name().isEmpty()) {
          continue; // padding
        }
        MemoryLayout.PathElement p = MemoryLayout.PathElement.groupElement(m.name().get());
        fields.put(m.name().get(), new Entry(layout.byteOffset(p), m.byteSize()));
      }
      out.put(name, fields);
    }
    return out;
  }

  private static Map<String, Map<String, Entry>> nativeLayouts() throws Throwable {
    SymbolLookup lib = SymbolLookup.libraryLookup(GlmNative.get().libraryPath, Arena.global());
    Linker linker = Linker.nativeLinker();
    MethodHandle count =
        linker.downcallHandle(
            lib.find("glm_struct_layout_count").orElseThrow(), FunctionDescriptor.of(JAVA_LONG));
    MethodHandle entry =
        linker.downcallHandle(
            lib.find("glm_struct_layout").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    Map<String, Map<String, Entry>> out = new TreeMap<>();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment struct = arena.allocate(ADDRESS);
      MemorySegment field = arena.allocate(ADDRESS);
      MemorySegment offset = arena.allocate(JAVA_LONG);
      MemorySegment size = arena.allocate(JAVA_LONG);
      long n = (long) count.invokeExact();
      assertThat(n).as("glm_struct_layout_count").isPositive();
      for (long i = 0; i < n; i++) {
        int status = (int) entry.invokeExact(i, struct, field, offset, size);
        assertThat(status).as("glm_struct_layout(%d)", i).isEqualTo(GlmNative.GLM_OK);
        String s = struct.get(ADDRESS, 0).reinterpret(256).getString(0);
        String f = field.get(ADDRESS, 0).reinterpret(256).getString(0);
        Entry e = new Entry(offset.get(JAVA_LONG, 0), size.get(JAVA_LONG, 0));
        assertThat(out.computeIfAbsent(s, k -> new TreeMap<>()).put(f, e))
            .as("%s.%s listed twice", s, f)
            .isNull();
      }
      int past = (int) entry.invokeExact(n, struct, field, offset, size);
      assertThat(past).isEqualTo(1); // GLM_ERR_INVALID_ARGUMENT
    }
    return out;
  }
}
