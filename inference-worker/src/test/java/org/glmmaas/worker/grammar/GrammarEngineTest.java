package org.glmmaas.worker.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.networknt.schema.Error;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The grammar engine on a synthetic byte-level vocabulary: random walks through the allowed tokens
 * end in JSON that a real validator (networknt) accepts, and at every step the mask equals the
 * brute-force answer (each token tried on a copy of the constraint).
 */
class GrammarEngineTest {

  static final String PERSON =
      """
      {"type":"object","properties":{
        "name":{"type":"string","maxLength":8},
        "age":{"type":"integer"},
        "tags":{"type":"array","items":{"enum":["a","b c","中文"]},"maxItems":3},
        "meta":{"type":"object","properties":{"ok":{"type":"boolean"},"none":{"type":"null"},
                "score":{"type":"number"}},"required":["ok"],"additionalProperties":false}
      },"required":["name","age"],"additionalProperties":false}
      """;

  static final String TREE =
      """
      {"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
        "kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},
        "required":["v"]}},
       "$ref":"#/$defs/node"}
      """;

  static final List<String> SCHEMAS =
      List.of(
          PERSON,
          TREE,
          "{\"anyOf\":[{\"type\":\"string\",\"maxLength\":4},{\"type\":\"number\"},{\"type\":\"null\"}]}",
          "{\"type\":\"string\",\"minLength\":2,\"maxLength\":5}",
          "{\"type\":[\"array\",\"boolean\"],\"items\":{\"const\":{\"k\":[1,\"x\"]}},\"minItems\":2,\"maxItems\":4}",
          "{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"maxLength\":3}},\"required\":[\"a\"]},{\"enum\":[1,\"two\",true]}]}",
          "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"minLength\":3,\"maxLength\":3}},\"required\":[\"s\"]}",
          "{\"type\":\"object\",\"properties\":{\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7},"
              + "\"t\":{\"type\":\"integer\",\"exclusiveMaximum\":-3},\"big\":{\"type\":\"integer\",\"minimum\":95,\"exclusiveMaximum\":1234.5}},"
              + "\"required\":[\"days\",\"t\",\"big\"]}");

  static Vocabulary vocab;
  static GrammarEngine engine;
  static final JsonMapper JSON = JsonMapper.builder().build();

  @BeforeAll
  static void setUp() {
    vocab = SyntheticVocabulary.of(2000, 7);
    engine = new GrammarEngine(vocab);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7})
  void randomWalksValidateAndMasksAreExact(int which) {
    String schema = SCHEMAS.get(which);
    var validator =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schema);
    int finished = 0;
    for (int seed = 0; seed < 40; seed++) {
      String out = generate(engine.jsonSchema(schema), new SplittableRandom(seed), 300, seed < 2);
      if (out == null) {
        continue;
      }
      finished++;
      JsonNode node = JSON.readTree(out);
      List<Error> errors = validator.validate(node);
      assertThat(errors).as("output %s of schema %s", out, schema).isEmpty();
    }
    assertThat(finished).as("walks that reached end of generation").isGreaterThan(20);
  }

  @Test
  void jsonObjectIsAnyObject() {
    int finished = 0;
    for (int seed = 0; seed < 40; seed++) {
      String out = generate(engine.jsonObject(), new SplittableRandom(seed), 300, seed < 2);
      if (out != null) {
        finished++;
        assertThat(JSON.readTree(out).isObject()).as(out).isTrue();
      }
    }
    assertThat(finished).isGreaterThan(10);
  }

  @Test
  void forcedToolCallIsMarkupAroundValidArguments() {
    String params =
        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":6}},"
            + "\"required\":[\"city\"]}";
    TokenConstraint call =
        engine.anyOf(
            List.of(
                engine.literalThenJson("<tool_call>weather\n", params, "</tool_call>"),
                engine.literalThenJson(
                    "<tool_call>time\n", "{\"type\":\"object\"}", "</tool_call>")));
    for (int seed = 0; seed < 20; seed++) {
      String out = generate(call.copy(), new SplittableRandom(seed), 300, seed < 2);
      if (out == null) {
        continue;
      }
      assertThat(out).startsWith("<tool_call>").endsWith("</tool_call>");
      String name = out.substring(11, out.indexOf('\n'));
      String args = out.substring(out.indexOf('\n') + 1, out.length() - 12);
      JsonNode a = JSON.readTree(args);
      if (name.equals("weather")) {
        assertThat(
                SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                    .getSchema(params)
                    .validate(a))
            .isEmpty();
      } else {
        assertThat(name).isEqualTo("time");
        assertThat(a.isObject()).isTrue();
      }
    }
  }

  @Test
  void endOfGenerationOnlyWhenComplete() {
    TokenConstraint c = engine.jsonSchema("{\"type\":\"boolean\"}");
    int eos = vocab.endOfGeneration()[0];
    long[] words = new long[TokenConstraint.wordsFor(vocab.size())];
    c.fillNextTokenBitmask(words);
    assertThat(bit(words, eos)).isFalse();
    assertThat(c.isComplete()).isFalse();
    assertThatThrownBy(() -> c.accept(eos)).isInstanceOf(IllegalStateException.class);
    accept(c, "true");
    assertThat(c.isComplete()).isTrue();
    c.fillNextTokenBitmask(words);
    assertThat(bit(words, eos)).isTrue();
    assertThat(java.util.Arrays.stream(words).map(Long::bitCount).sum()).isEqualTo(1);
    c.accept(eos);
    assertThat(c.isTerminated()).isTrue();
  }

  @Test
  void controlTokensAndWrongTokensAreRefused() {
    TokenConstraint c = engine.jsonObject();
    int control = vocab.size() - 2;
    long[] words = new long[TokenConstraint.wordsFor(vocab.size())];
    c.fillNextTokenBitmask(words);
    assertThat(bit(words, control)).isFalse();
    assertThatThrownBy(() -> c.accept(control)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> accept(c, "[")).isInstanceOf(IllegalStateException.class);
    accept(c, "{"); // the refused token left the state as it was
  }

  @Test
  void copyForksIndependently() {
    TokenConstraint a = engine.jsonSchema("{\"enum\":[\"ab\",\"cd\"]}");
    accept(a, "\"");
    TokenConstraint b = a.copy();
    accept(a, "a");
    accept(b, "c");
    assertThatThrownBy(() -> accept(b, "b")).isInstanceOf(IllegalStateException.class);
    accept(a, "b\"");
    assertThat(a.isComplete()).isTrue();
    assertThat(b.isComplete()).isFalse();
  }

  @Test
  void unsupportedConstructsAreNamed() {
    assertConstruct("{\"type\":\"string\",\"pattern\":\"^a\"}", "pattern");
    assertConstruct("{\"type\":\"number\",\"minimum\":3}", "minimum");
    assertConstruct("{\"type\":\"integer\",\"minimum\":3,\"maximum\":2}", "minimum");
    assertConstruct("{\"type\":\"object\",\"patternProperties\":{}}", "patternProperties");
    assertConstruct("{\"allOf\":[{\"type\":\"string\"}]}", "allOf");
    assertConstruct("{\"$ref\":\"https://example.com/s.json\"}", "$ref");
    assertConstruct("{\"$ref\":\"#/$defs/missing\"}", "$ref");
    assertConstruct("{\"type\":\"array\",\"uniqueItems\":true}", "uniqueItems");
    assertConstruct("{\"type\":\"strin\"}", "type");
    assertConstruct("{\"type\":\"object\",\"properties\":{\"a\":{\"not\":{}}}}", "not");
    assertConstruct("{not json", "schema");
    assertThatThrownBy(() -> engine.jsonSchema("{\"type\":\"number\",\"maximum\":3}"))
        .hasMessageContaining("maximum")
        .hasMessageContaining("not supported");
  }

  @Test
  void integerBoundsAcceptExactlyTheIntegersWithin() {
    assertRange("{\"type\":\"integer\",\"minimum\":-12,\"maximum\":105}", -12, 105);
    assertRange("{\"type\":\"integer\",\"exclusiveMinimum\":0.5,\"exclusiveMaximum\":10}", 1, 9);
    assertRange("{\"type\":\"integer\",\"minimum\":-250}", -250, Long.MAX_VALUE);
    assertRange("{\"type\":\"integer\",\"maximum\":-5}", Long.MIN_VALUE, -5);
    assertRange("{\"type\":\"integer\",\"minimum\":0,\"maximum\":0}", 0, 0);
  }

  private static void assertRange(String schema, long lo, long hi) {
    for (long v = -400; v <= 400; v++) {
      TokenConstraint c = engine.jsonSchema(schema);
      boolean ok;
      try {
        accept(c, Long.toString(v));
        ok = c.isComplete();
      } catch (IllegalStateException e) {
        ok = false;
      }
      assertThat(ok).as("%d under %s", v, schema).isEqualTo(v >= lo && v <= hi);
    }
    for (String bad : List.of("01", "-0", "007", "1.0")) {
      TokenConstraint c = engine.jsonSchema(schema);
      boolean ok;
      try {
        accept(c, bad);
        ok = c.isComplete();
      } catch (IllegalStateException e) {
        ok = false;
      }
      assertThat(ok).as("%s under %s", bad, schema).isFalse();
    }
  }

  @Test
  void composingAnAdvancedConstraintIsRefused() {
    TokenConstraint a = engine.literal("ab");
    accept(a, "a");
    assertThatThrownBy(() -> engine.anyOf(List.of(a))).isInstanceOf(IllegalArgumentException.class);
  }

  private static void assertConstruct(String schema, String construct) {
    assertThatThrownBy(() -> engine.jsonSchema(schema))
        .isInstanceOfSatisfying(
            GrammarException.class, e -> assertThat(e.construct()).isEqualTo(construct));
  }

  /** Feeds the text byte by byte through single-byte tokens (ids 0..255 are the bytes). */
  static void accept(TokenConstraint c, String text) {
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      c.accept(b & 0xff);
    }
  }

  static boolean bit(long[] words, int id) {
    return (words[id >>> 6] & (1L << id)) != 0;
  }

  /**
   * Draws uniformly among the allowed tokens until end of generation; null when {@code maxSteps}
   * run out first. With {@code exact}, checks every step's mask against trying each token.
   */
  static String generate(TokenConstraint c, SplittableRandom rnd, int maxSteps, boolean exact) {
    long[] words = new long[TokenConstraint.wordsFor(vocab.size())];
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int eos = vocab.endOfGeneration()[0];
    for (int step = 0; step < maxSteps; step++) {
      c.fillNextTokenBitmask(words);
      List<Integer> allowed = new ArrayList<>();
      for (int id = 0; id < vocab.size(); id++) {
        boolean on = bit(words, id);
        if (exact) {
          TokenConstraint probe = c.copy();
          boolean ok;
          try {
            probe.accept(id);
            ok = true;
          } catch (IllegalStateException e) {
            ok = false;
          }
          assertThat(on)
              .as("token %d %s after %s", id, show(id), out.toString(StandardCharsets.UTF_8))
              .isEqualTo(ok);
        }
        if (on && id != eos) {
          allowed.add(id);
        }
      }
      if (bit(words, eos) && (allowed.isEmpty() || rnd.nextInt(4) == 0)) {
        c.accept(eos);
        return out.toString(StandardCharsets.UTF_8);
      }
      assertThat(allowed).as("a dead end after %s", out).isNotEmpty();
      int id = allowed.get(rnd.nextInt(allowed.size()));
      c.accept(id);
      out.writeBytes(vocab.bytes(id));
    }
    return null;
  }

  private static String show(int id) {
    return "'" + new String(vocab.bytes(id), StandardCharsets.UTF_8) + "'";
  }
}
