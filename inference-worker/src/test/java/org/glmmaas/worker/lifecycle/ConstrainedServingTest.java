package org.glmmaas.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.rpc.ErrorInfo;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.ResponseFormat;
import org.glmmaas.proto.inference.v1.SamplingParams;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelMaker;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * response_format end to end: the whole worker (gRPC, scheduler, sampler) on the native engine with
 * a random-weight model (ModelMaker: GLM-4 layout, a real byte-level BPE vocabulary). Whatever the
 * weights, the grammar makes every output valid against the schema — checked by a real JSON Schema
 * validator over many seeds. Skips without libglm.
 */
class ConstrainedServingTest {

  static final String SCHEMA =
      """
      {"type":"object","properties":{
        "name":{"type":"string","minLength":1,"maxLength":10},
        "age":{"type":"integer"},
        "admin":{"type":"boolean"},
        "tags":{"type":"array","items":{"enum":["red","green","蓝"]},"maxItems":3},
        "address":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/address"}]}
      },"required":["name","age","address"],"additionalProperties":false,
      "$defs":{"address":{"type":"object","properties":{"city":{"type":"string","maxLength":8},
        "zip":{"type":"number"}},"required":["city"],"additionalProperties":false}}}
      """;

  static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir static Path dir;
  static InProcessWorker worker;
  static InferenceServiceGrpc.InferenceServiceBlockingStub stub;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(
        NativeGlmEngine.isAvailable(),
        () -> "libglm not loadable: " + NativeGlmEngine.unavailableReason());
    Path model = dir.resolve("random-glm4.gguf");
    ModelMaker.make(
        new ModelMaker.Spec(
            ModelArch.GLM4,
            new ModelPreset("micro", 64, 1, 2, 1, 32, 16, 128, 64, 1536, 10000f, 1e-5f),
            WeightType.F32,
            17),
        model);
    WorkerProperties props =
        new WorkerProperties(
            "grammar-test",
            model.toString(),
            "random",
            "cpu",
            2,
            "",
            Duration.ofSeconds(5),
            GrpcServerProperties.onPort(0),
            new WorkerProperties.Scheduler(16, 512, 1024, 64),
            new WorkerProperties.KvCache(16, DataSize.ofMegabytes(16), "f16", true),
            new WorkerProperties.LoadReport(Duration.ofMillis(100)));
    worker = InProcessWorker.start(props, e -> {});
    stub = worker.stub;
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.close();
    }
  }

  record Result(String text, Finished finished) {}

  static Result generate(GenerateRequest r) {
    StringBuilder text = new StringBuilder();
    Finished fin = null;
    var it = stub.generate(r);
    while (it.hasNext()) {
      GenerateResponse m = it.next();
      if (m.hasDelta()) {
        text.append(m.getDelta().getText());
      } else {
        fin = m.getFinished();
      }
    }
    return new Result(text.toString(), fin);
  }

  static GenerateRequest request(String id, ResponseFormat format, SamplingParams sampling) {
    return GenerateRequest.newBuilder()
        .setRequestId(id)
        .setChat(
            ChatPrompt.newBuilder()
                .addMessages(
                    ChatMessage.newBuilder().setRole("user").setContent("A user record, as JSON")))
        .setTenantId("t")
        .setSampling(sampling)
        .setResponseFormat(format)
        .build();
  }

  static SamplingParams seeded(long seed, int maxTokens) {
    return SamplingParams.newBuilder()
        .setTemperature(1f)
        .setSeed(seed)
        .setMaxTokens(maxTokens)
        .build();
  }

  static ResponseFormat schema(String json) {
    return ResponseFormat.newBuilder()
        .setType(ResponseFormat.Type.JSON_SCHEMA)
        .setName("user")
        .setSchemaJson(json)
        .build();
  }

  @Test
  void everySeedGivesJsonValidAgainstTheSchema() throws Exception {
    var validator =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(SCHEMA);
    List<GenerateRequest> requests = new ArrayList<>();
    for (int seed = 0; seed < 24; seed++) {
      requests.add(request("s" + seed, schema(SCHEMA), seeded(seed, 600)));
    }
    requests.add(
        request(
            "greedy",
            schema(SCHEMA),
            SamplingParams.newBuilder().setTemperature(0f).setMaxTokens(600).build()));
    List<Result> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Result>> fs = new ArrayList<>();
      for (GenerateRequest r : requests) {
        fs.add(pool.submit(() -> generate(r)));
      }
      for (Future<Result> f : fs) {
        results.add(f.get());
      }
    }
    for (Result r : results) {
      assertThat(r.finished().getFinishReason()).as(r.text()).isEqualTo(FinishReason.STOP);
      JsonNode node = JSON.readTree(r.text());
      assertThat(validator.validate(node)).as(r.text()).isEmpty();
    }
    assertThat(results.stream().map(Result::text).distinct().count())
        .as("different seeds, different outputs")
        .isGreaterThan(10);
  }

  @Test
  void jsonObjectGivesAnObject() {
    int stopped = 0;
    for (int seed = 0; seed < 6; seed++) {
      Result r =
          generate(
              request(
                  "o" + seed,
                  ResponseFormat.newBuilder().setType(ResponseFormat.Type.JSON_OBJECT).build(),
                  seeded(seed, 300)));
      if (r.finished().getFinishReason() == FinishReason.STOP) {
        stopped++;
        assertThat(JSON.readTree(r.text()).isObject()).as(r.text()).isTrue();
      } else {
        assertThat(r.text()).startsWith("{");
      }
    }
    assertThat(stopped).as("outputs that ended within 300 tokens").isPositive();
  }

  @Test
  void theJsonEndsTheRequestEvenWithIgnoreEos() {
    for (int seed = 0; seed < 4; seed++) {
      SamplingParams p = seeded(seed, 50).toBuilder().setIgnoreEos(true).build();
      Result r = generate(request("eos" + seed, schema("{\"enum\":[\"yes\",\"no\",42]}"), p));
      assertThat(r.finished().getFinishReason()).isEqualTo(FinishReason.STOP);
      assertThat(r.text()).isIn("\"yes\"", "\"no\"", "42");
      assertThat(r.finished().getUsage().getCompletionTokens()).isLessThan(10);
    }
  }

  @Test
  void anUnsupportedConstructIsInvalidArgumentNamingIt() throws Exception {
    String bad =
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"pattern\":\"^a\"}}}";
    StatusRuntimeException e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            StatusRuntimeException.class,
            () -> generate(request("bad", schema(bad), seeded(1, 10))));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription()).contains("pattern").contains("/properties/id");
    ErrorInfo info = StatusProto.fromThrowable(e).getDetails(0).unpack(ErrorInfo.class);
    assertThat(info.getReason()).isEqualTo("INVALID_REQUEST");
    assertThat(info.getMetadataMap())
        .containsEntry("param", "response_format")
        .containsEntry("construct", "pattern");
  }

  @Test
  void stopStringsWithAFormatAreRefusedNamingStop() {
    SamplingParams withStop = seeded(1, 10).toBuilder().addStop("}").build();
    assertThatThrownBy(() -> generate(request("stop", schema(SCHEMA), withStop)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("stop");
            });
  }
}
