package org.glmmaas.worker.api;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.glmmaas.proto.common.v1.ErrorReason;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.GetInfoRequest;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.ListModelsRequest;
import org.glmmaas.proto.inference.v1.ListModelsResponse;
import org.glmmaas.proto.inference.v1.LoadReport;
import org.glmmaas.proto.inference.v1.ModelInfo;
import org.glmmaas.proto.inference.v1.ResponseFormat;
import org.glmmaas.proto.inference.v1.TokenizeRequest;
import org.glmmaas.proto.inference.v1.TokenizeResponse;
import org.glmmaas.proto.inference.v1.WatchLoadRequest;
import org.glmmaas.proto.inference.v1.WorkerInfo;
import org.glmmaas.worker.grammar.GrammarException;
import org.glmmaas.worker.grammar.TokenConstraint;
import org.glmmaas.worker.lifecycle.ModelDescription;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.sample.SamplingConfig;
import org.glmmaas.worker.scheduler.EngineLoop;
import org.glmmaas.worker.scheduler.FinishReason;
import org.glmmaas.worker.scheduler.OverloadedException;
import org.glmmaas.worker.scheduler.Request;
import org.glmmaas.worker.scheduler.RequestMetadata;
import org.glmmaas.worker.text.ChatTurn;
import org.glmmaas.worker.text.TemplateException;
import org.glmmaas.worker.text.TextModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** glm.inference.v1.InferenceService over the worker runtime. */
public final class InferenceGrpcService extends InferenceServiceGrpc.InferenceServiceImplBase {

  private static final Logger log = LoggerFactory.getLogger(InferenceGrpcService.class);
  private static final int MAX_REQUEST_ID = 256;

  private final WorkerRuntime runtime;
  private final LoadReporter loadReporter;

  public InferenceGrpcService(WorkerRuntime runtime, LoadReporter loadReporter) {
    this.runtime = runtime;
    this.loadReporter = loadReporter;
  }

  @Override
  public void generate(GenerateRequest req, StreamObserver<GenerateResponse> observer) {
    ServerCallStreamObserver<GenerateResponse> call =
        (ServerCallStreamObserver<GenerateResponse>) observer;
    try {
      Request request = admit(req, call);
      if (request != null) {
        runtime.loop().submit(request);
      }
    } catch (GlmStatusException e) {
      observer.onError(e.toStatus());
    } catch (OverloadedException e) {
      observer.onError(new GlmStatusException(ErrorReason.OVERLOADED, e.getMessage()).toStatus());
    } catch (RuntimeException e) {
      log.error("Generate {} failed before admission: {}", req.getRequestId(), e.toString(), e);
      observer.onError(
          new GlmStatusException(
                  ErrorReason.INTERNAL, "internal error: " + e.getClass().getSimpleName())
              .toStatus());
    }
  }

  private Request admit(GenerateRequest req, ServerCallStreamObserver<GenerateResponse> call) {
    requireReady();
    checkModel(req.getModel());
    if (req.getRequestId().isEmpty() || req.getRequestId().length() > MAX_REQUEST_ID) {
      throw GlmStatusException.invalid("request_id must be 1.." + MAX_REQUEST_ID + " characters");
    }
    TextModel text = runtime.textModel();
    int[] prompt = promptTokens(req, text);
    int maxModelLen = runtime.maxModelLen();
    if (prompt.length >= maxModelLen) {
      throw new GlmStatusException(
          ErrorReason.CONTEXT_LENGTH_EXCEEDED,
          "the prompt has "
              + prompt.length
              + " tokens; this model's context is "
              + maxModelLen
              + " tokens, so at most "
              + (maxModelLen - 1)
              + " prompt tokens fit");
    }
    SamplingConfig sampling =
        SamplingParamsValidator.toConfig(req.getSampling(), maxModelLen - prompt.length);
    if (prompt.length + sampling.maxTokens() > maxModelLen) {
      throw new GlmStatusException(
          ErrorReason.CONTEXT_LENGTH_EXCEEDED,
          "prompt ("
              + prompt.length
              + " tokens) + max_tokens ("
              + sampling.maxTokens()
              + ") exceeds the context length of "
              + maxModelLen
              + " tokens");
    }
    TokenConstraint constraint = responseFormat(req, text, sampling);
    Context ctx = Context.current();
    Deadline deadline = ctx.getDeadline();
    Instant now = runtime.clock().instant();
    Instant deadlineAt =
        deadline == null ? null : now.plusNanos(deadline.timeRemaining(TimeUnit.NANOSECONDS));
    Sampler sampler = text.newSampler(sampling);
    for (int t : prompt) {
      sampler.accept(t, false);
    }
    GenerateStream stream =
        new GenerateStream(call, req, text.tokenizer(), runtime.properties().id());
    RequestMetadata meta =
        new RequestMetadata(
            runtime.properties().modelId(),
            req.getTenantId(),
            req.getKeyId(),
            req.getUserId(),
            TraceContext.currentTraceId(),
            true);
    Request request =
        new Request(
            req.getRequestId(),
            prompt,
            sampling,
            sampler,
            text.newStreamDecoder(sampling.stop()),
            text.tokenizer()::isEndOfGeneration,
            req.getPriority(),
            now,
            deadlineAt,
            meta,
            stream);
    if (constraint != null) {
      request.constrain(constraint);
    }
    EngineLoop loop = runtime.loop();
    call.setOnCancelHandler(
        () -> {
          boolean expired = deadline != null && deadline.isExpired();
          request.cancel(expired ? FinishReason.DEADLINE_EXCEEDED : FinishReason.CANCELLED);
          loop.wakeUp();
        });
    call.setOnReadyHandler(stream::drain);
    return request;
  }

  /**
   * The constraint {@code response_format} asks for, or null for free text. A schema the grammar
   * engine cannot compile is INVALID_REQUEST with {@code param} = response_format and the schema
   * construct named ({@code construct} metadata and the message).
   */
  static TokenConstraint responseFormat(
      GenerateRequest req, TextModel text, SamplingConfig sampling) {
    if (!req.hasResponseFormat()) {
      return null;
    }
    ResponseFormat rf = req.getResponseFormat();
    if (rf.getType() == ResponseFormat.Type.TYPE_UNSPECIFIED
        || rf.getType() == ResponseFormat.Type.TEXT) {
      return null;
    }
    if (!sampling.stop().isEmpty()) {
      throw GlmStatusException.invalidParam(
          "stop",
          "stop cannot be combined with response_format "
              + rf.getType().name().toLowerCase(java.util.Locale.ROOT)
              + " (a stop string would cut the JSON short)",
          Map.of());
    }
    try {
      return switch (rf.getType()) {
        case JSON_OBJECT -> {
          TokenConstraint c = text.constraints().jsonObject();
          text.constraints().prime(c);
          yield c;
        }
        case JSON_SCHEMA -> {
          if (rf.getSchemaJson().isBlank()) {
            throw GlmStatusException.invalidParam(
                "response_format", "response_format json_schema needs a schema", Map.of());
          }
          TokenConstraint c = text.constraints().jsonSchema(rf.getSchemaJson());
          text.constraints().prime(c);
          yield c;
        }
        default ->
            throw GlmStatusException.invalidParam(
                "response_format", "unknown response_format type " + rf.getTypeValue(), Map.of());
      };
    } catch (GrammarException e) {
      throw GlmStatusException.invalidParam(
          "response_format",
          "response_format json_schema: " + e.getMessage(),
          Map.of("construct", e.construct()));
    }
  }

  private int[] promptTokens(GenerateRequest req, TextModel text) {
    int[] ids =
        switch (req.getPromptCase()) {
          case CHAT -> text.tokenizer().encode(render(req.getChat(), text), true);
          case TEXT -> text.tokenizer().encode(req.getText(), true);
          case TOKEN_IDS -> {
            int vocab = text.tokenizer().vocabSize();
            int[] t = req.getTokenIds().getIdsList().stream().mapToInt(Integer::intValue).toArray();
            for (int i = 0; i < t.length; i++) {
              if (t[i] < 0 || t[i] >= vocab) {
                throw GlmStatusException.invalid(
                    "token_ids["
                        + i
                        + "] = "
                        + t[i]
                        + " is outside the vocabulary [0, "
                        + vocab
                        + ")");
              }
            }
            yield t;
          }
          case FIM -> throw GlmStatusException.invalid("fill-in-the-middle is not supported yet");
          case PROMPT_NOT_SET ->
              throw GlmStatusException.invalid("a prompt is required: set chat, text or token_ids");
        };
    if (ids.length == 0) {
      throw GlmStatusException.invalid("the prompt is empty");
    }
    return ids;
  }

  private static String render(ChatPrompt chat, TextModel text) {
    if (chat.getMessagesCount() == 0) {
      throw GlmStatusException.invalid("chat.messages must not be empty");
    }
    List<ChatTurn> turns = new ArrayList<>();
    for (ChatMessage m : chat.getMessagesList()) {
      String role = m.getRole();
      if (!List.of("system", "user", "assistant", "tool", "observation").contains(role)) {
        throw GlmStatusException.invalid(
            "chat message role must be system, user, assistant, tool or observation, got '"
                + role
                + "'");
      }
      turns.add(new ChatTurn(role, m.getContent()));
    }
    try {
      return text.chatTemplate().render(turns, true);
    } catch (TemplateException e) {
      throw GlmStatusException.invalid(
          "the chat template cannot render these messages: " + e.getMessage());
    }
  }

  private void requireReady() {
    if (!runtime.isReady()) {
      String why =
          runtime.failure() != null ? runtime.failure() : "the worker is " + runtime.state();
      throw new GlmStatusException(ErrorReason.UNAVAILABLE, why + "; retry on another worker");
    }
  }

  private void checkModel(String model) {
    String served = runtime.properties().modelId();
    if (!model.isEmpty() && !model.equals(served)) {
      throw new GlmStatusException(
          ErrorReason.MODEL_NOT_FOUND,
          "model '" + model + "' is not served here (this worker serves '" + served + "')");
    }
  }

  @Override
  public void tokenize(TokenizeRequest req, StreamObserver<TokenizeResponse> observer) {
    try {
      if (runtime.textModel() == null) {
        requireReady();
      }
      checkModel(req.getModel());
      TextModel text = runtime.textModel();
      TokenizeResponse.Builder b = TokenizeResponse.newBuilder();
      int[] ids =
          switch (req.getInputCase()) {
            case TEXT -> text.tokenizer().encode(req.getText(), req.getParseSpecial());
            case CHAT -> {
              String rendered = render(req.getChat(), text);
              b.setRendered(rendered);
              yield text.tokenizer().encode(rendered, true);
            }
            case INPUT_NOT_SET -> throw GlmStatusException.invalid("set text or chat");
          };
      for (int id : ids) {
        b.addIds(id);
      }
      observer.onNext(b.setNumTokens(ids.length).build());
      observer.onCompleted();
    } catch (GlmStatusException e) {
      observer.onError(e.toStatus());
    }
  }

  @Override
  public void listModels(ListModelsRequest req, StreamObserver<ListModelsResponse> observer) {
    ListModelsResponse.Builder b = ListModelsResponse.newBuilder();
    if (runtime.description() != null) {
      b.addModels(modelInfo());
    }
    observer.onNext(b.build());
    observer.onCompleted();
  }

  @Override
  public void getInfo(GetInfoRequest req, StreamObserver<WorkerInfo> observer) {
    var p = runtime.properties();
    WorkerInfo.Builder b =
        WorkerInfo.newBuilder()
            .setWorkerId(p.id())
            .setDevice(p.device())
            .setKvBlockSize(p.kvCache().blockSize())
            .setMaxNumSeqs(p.scheduler().maxNumSeqs())
            .setMaxNumBatchedTokens(p.scheduler().maxNumBatchedTokens())
            .addCapabilities("chat")
            .addCapabilities("logprobs")
            .addCapabilities("seed")
            .addCapabilities("stop")
            .setState(runtime.state());
    if (p.kvCache().enablePrefixCaching()) {
      b.addCapabilities("prefix-caching");
    }
    if (runtime.description() != null) {
      b.setModel(modelInfo());
    }
    if (runtime.loop() != null) {
      b.setNumKvBlocks(runtime.loop().snapshot().numKvBlocksTotal());
    }
    observer.onNext(b.build());
    observer.onCompleted();
  }

  private ModelInfo modelInfo() {
    ModelDescription d = runtime.description();
    return ModelInfo.newBuilder()
        .setId(runtime.properties().modelId())
        .setArchitecture(d.architecture())
        .setContextLength(runtime.maxModelLen() > 0 ? runtime.maxModelLen() : d.contextLength())
        .setNumParameters(d.numParameters())
        .setQuantization(d.quantization())
        .setVocabSize(d.vocabSize())
        .setOwnedBy("glm-maas")
        .setCreatedUnixS(runtime.loadedAt().getEpochSecond())
        .build();
  }

  @Override
  public void watchLoad(WatchLoadRequest req, StreamObserver<LoadReport> observer) {
    if (req.getMinIntervalMs() < 0) {
      observer.onError(
          GlmStatusException.invalid("min_interval_ms must be >= 0, got " + req.getMinIntervalMs())
              .toStatus());
      return;
    }
    loadReporter.subscribe(req, (ServerCallStreamObserver<LoadReport>) observer);
  }
}
