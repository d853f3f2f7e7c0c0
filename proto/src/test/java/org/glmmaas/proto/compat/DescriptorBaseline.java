package org.glmmaas.proto.compat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A flat, diffable record of every field and enum value of a set of proto files, and the wire
 * compatibility rule we hold v1 contracts to: nothing that was published may disappear, change its
 * number, or change its type or cardinality. Adding is always allowed.
 *
 * <p>One line per element: {@code field <message>.<name> <number> <type> <label>} or {@code enum
 * <enum>.<name> <number>}.
 */
final class DescriptorBaseline {

  private DescriptorBaseline() {}

  /** Every element of the files, keyed by its qualified name, in a stable order. */
  static Map<String, String> snapshot(List<FileDescriptor> files) {
    Map<String, String> out = new TreeMap<>();
    for (FileDescriptor file : files) {
      file.getMessageTypes().forEach(m -> addMessage(out, m));
      file.getEnumTypes().forEach(e -> addEnum(out, e));
    }
    return out;
  }

  private static void addMessage(Map<String, String> out, Descriptor message) {
    for (FieldDescriptor f : message.getFields()) {
      String label = f.isRepeated() ? "repeated" : f.hasPresence() ? "optional" : "singular";
      String type =
          f.getType() == FieldDescriptor.Type.MESSAGE
              ? "message:" + f.getMessageType().getFullName()
              : f.getType() == FieldDescriptor.Type.ENUM
                  ? "enum:" + f.getEnumType().getFullName()
                  : f.getType().name();
      out.put("field " + f.getFullName(), f.getNumber() + " " + type + " " + label);
    }
    message.getNestedTypes().forEach(m -> addMessage(out, m));
    message.getEnumTypes().forEach(e -> addEnum(out, e));
  }

  private static void addEnum(Map<String, String> out, EnumDescriptor e) {
    for (EnumValueDescriptor v : e.getValues()) {
      out.put("enum " + e.getFullName() + "." + v.getName(), Integer.toString(v.getNumber()));
    }
  }

  static String format(Map<String, String> snapshot) {
    StringBuilder sb = new StringBuilder();
    snapshot.forEach((k, v) -> sb.append(k).append(' ').append(v).append('\n'));
    return sb.toString();
  }

  static Map<String, String> parse(String text) {
    Map<String, String> out = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split(" ", 3);
      out.put(parts[0] + " " + parts[1], parts[2]);
    }
    return out;
  }

  /** Breaking changes from baseline to current; empty when current is wire compatible. */
  static List<String> breakingChanges(Map<String, String> baseline, Map<String, String> current) {
    List<String> problems = new ArrayList<>();
    baseline.forEach(
        (element, was) -> {
          String now = current.get(element);
          if (now == null) {
            problems.add(element + " was removed (was " + was + "); reserve its number instead");
          } else if (!now.equals(was)) {
            problems.add(element + " changed from [" + was + "] to [" + now + "]");
          }
        });
    return problems;
  }
}
