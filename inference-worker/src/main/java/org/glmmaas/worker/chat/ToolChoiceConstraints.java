package org.glmmaas.worker.chat;

import java.util.ArrayList;
import java.util.List;
import org.glmmaas.worker.grammar.ConstraintFactory;
import org.glmmaas.worker.grammar.GrammarException;
import org.glmmaas.worker.grammar.TokenConstraint;
import org.glmmaas.worker.text.ToolSpec;

/**
 * The grammar that forces a tool call ({@code tool_choice} required or a named function): the
 * family's call markup as a literal, the function's {@code parameters} as a JSON Schema, then the
 * markup's end. The parser of the same family reads the call back.
 */
public final class ToolChoiceConstraints {

  private ToolChoiceConstraints() {}

  /**
   * @param functionName the function that must be called, or null for any of {@code tools}
   * @throws GrammarException (attributed to {@code tools[i].function.parameters}) when a schema
   *     does not compile
   */
  public static TokenConstraint forcedCall(
      ConstraintFactory factory, ToolCallParser family, List<ToolSpec> tools, String functionName) {
    List<TokenConstraint> alternatives = new ArrayList<>();
    for (int i = 0; i < tools.size(); i++) {
      ToolSpec t = tools.get(i);
      if (functionName != null && !functionName.equals(t.name())) {
        continue;
      }
      try {
        alternatives.add(
            factory.literalThenJson(
                family.callPrefix(t.name()), t.parametersJson(), family.callSuffix()));
      } catch (GrammarException e) {
        throw e.atParam("tools[" + i + "].function.parameters");
      }
    }
    if (alternatives.isEmpty()) {
      throw new IllegalArgumentException("no tool named " + functionName);
    }
    return alternatives.size() == 1 ? alternatives.getFirst() : factory.anyOf(alternatives);
  }
}
