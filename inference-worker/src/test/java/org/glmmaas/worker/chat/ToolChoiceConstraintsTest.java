package org.glmmaas.worker.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.glmmaas.worker.grammar.ConstraintFactory;
import org.glmmaas.worker.grammar.GrammarException;
import org.glmmaas.worker.grammar.TokenConstraint;
import org.glmmaas.worker.text.ToolSpec;
import org.junit.jupiter.api.Test;

/** The forced call is the family's own markup around the function's schema. */
class ToolChoiceConstraintsTest {

  /** Records what was asked for; the constraints are descriptions, never applied. */
  static final class FakeConstraintFactory implements ConstraintFactory {
    final List<String> calls = new ArrayList<>();

    record Described(String what) implements TokenConstraint {
      @Override
      public void fillNextTokenBitmask(long[] words) {}

      @Override
      public void accept(int tokenId) {}

      @Override
      public boolean isComplete() {
        return false;
      }

      @Override
      public boolean isTerminated() {
        return false;
      }

      @Override
      public TokenConstraint copy() {
        return this;
      }
    }

    @Override
    public TokenConstraint jsonObject() {
      return new Described("object");
    }

    @Override
    public TokenConstraint jsonSchema(String schemaJson) {
      if (schemaJson.contains("patternProperties")) {
        throw new GrammarException("patternProperties", "patternProperties is not supported");
      }
      return new Described("schema " + schemaJson);
    }

    @Override
    public TokenConstraint literal(String literal) {
      return new Described("literal " + literal);
    }

    @Override
    public TokenConstraint sequence(List<TokenConstraint> parts) {
      String d = parts.stream().map(p -> ((Described) p).what()).toList().toString();
      calls.add("sequence " + d);
      return new Described("sequence " + d);
    }

    @Override
    public TokenConstraint anyOf(List<TokenConstraint> alternatives) {
      calls.add("anyOf " + alternatives.size());
      return new Described("anyOf");
    }
  }

  private static final List<ToolSpec> TOOLS =
      List.of(
          new ToolSpec("a", "", "{\"type\":\"object\"}"),
          new ToolSpec("b", "", "{\"type\":\"object\",\"required\":[\"x\"]}"));

  @Test
  void aNamedFunctionIsItsMarkupThenItsSchema() {
    FakeConstraintFactory f = new FakeConstraintFactory();
    TokenConstraint c = ToolChoiceConstraints.forcedCall(f, new Glm45ToolCallParser(), TOOLS, "b");

    assertThat(((FakeConstraintFactory.Described) c).what())
        .isEqualTo(
            "sequence [literal <tool_call>b\n, schema {\"type\":\"object\",\"required\":[\"x\"]},"
                + " literal </tool_call>]");
  }

  @Test
  void requiredIsAnyOfTheToolsInTheFamilysMarkup() {
    FakeConstraintFactory f = new FakeConstraintFactory();
    ToolChoiceConstraints.forcedCall(f, new Glm4ChatToolCallParser(), TOOLS, null);

    assertThat(f.calls)
        .containsExactly(
            "sequence [literal a\n, schema {\"type\":\"object\"}, literal ]",
            "sequence [literal b\n, schema {\"type\":\"object\",\"required\":[\"x\"]}, literal ]",
            "anyOf 2");
  }

  @Test
  void aSchemaTheGrammarCannotCompileNamesTheToolsParameters() {
    List<ToolSpec> tools =
        List.of(TOOLS.get(0), new ToolSpec("c", "", "{\"patternProperties\":{}}"));
    assertThatThrownBy(
            () ->
                ToolChoiceConstraints.forcedCall(
                    new FakeConstraintFactory(), new Glm4ChatToolCallParser(), tools, null))
        .isInstanceOfSatisfying(
            GrammarException.class,
            e -> {
              assertThat(e.param()).isEqualTo("tools[1].function.parameters");
              assertThat(e.construct()).isEqualTo("patternProperties");
            });
  }
}
