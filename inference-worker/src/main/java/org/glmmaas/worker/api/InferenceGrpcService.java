package org.glmmaas.worker.api;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.proto.common.v1.ErrorReason;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.EmbedInput;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.EmbedResponse;
import org.glmmaas.proto.inference.v1.Embedding;
import org.glmmaas.proto.inference.v1.FillInMiddle;
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
import org.glmmaas.proto.inference.v1.ToolCall;
import org.glmmaas.proto.inference.v1.ToolChoice;
import org.glmmaas.proto.inference.v1.ToolDefinition;
import org.glmmaas.proto.inference.v1.WatchLoadRequest;
import org.glmmaas.proto.inference.v1.WorkerInfo;
import org.glmmaas.worker.chat.ChoiceOutput;
import org.glmmaas.worker.chat.ReasoningSplitter;
import org.glmmaas.worker.chat.ToolCallParser;
import org.glmmaas.worker.chat.ToolCallParsers;
import org.glmmaas.worker.chat.ToolChoiceConstraints;
import org.glmmaas.worker.grammar.GrammarException;
import org.glmmaas.worker.grammar.TokenConstraint;
import org.glmmaas.worker.lifecycle.EmbeddingModel;
import org.glmmaas.worker.lifecycle.ModelDescription;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.sample.SamplingConfig;
import org.glmmaas.worker.scheduler.ChoiceGroup;
import org.glmmaas.worker.scheduler.EmbeddingLoop;
import org.glmmaas.worker.scheduler.EngineLoop;
import org.glmmaas.worker.scheduler.FinishReason;
import org.glmmaas.worker.scheduler.OverloadedException;
import org.glmmaas.worker.scheduler.Request;
import org.glmmaas.worker.scheduler.RequestMetadata;
import org.glmmaas.worker.text.ChatInput;
import org.glmmaas.worker.text.ChatTurn;
import org.glmmaas.worker.text.RenderedChat;
import org.glmmaas.worker.text.TemplateException;
import org.glmmaas.worker.text.TextModel;
import org.glmmaas.worker.text.ToolSpec;
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
      List<Request> requests = admit(req, call);
      if (requests.size() == 1) {
        runtime.loop().submit(requests.getFirst());
      } else {
        runtime.loop().submitAll(requests);
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

  private List<Request> admit(
      GenerateRequest req, ServerCallStreamObserver<GenerateResponse> call) {
    requireReady();
    checkModel(req.getModel());
    if (req.getRequestId().isEmpty() || req.getRequestId().length() > MAX_REQUEST_ID) {
      throw GlmStatusException.invalid("request_id must be 1.." + MAX_REQUEST_ID + " characters");
    }
    requireChatModel(req.getModel());
    TextModel text = runtime.textModel();
    RenderedChat chat =
        req.getPromptCase() == GenerateRequest.PromptCase.CHAT ? render(req.getChat(), text) : null;
    String renderedPrompt = chat == null ? null : chat.text();
    int[] prompt = promptTokens(req, text, chat);
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
    int n = req.getN() == 0 ? 1 : req.getN();
    if (n < 1 || n > MAX_CHOICES) {
      throw GlmStatusException.invalidParam("n", "n must be in [1, " + MAX_CHOICES + "], got " + n);
    }
    if (req.getEcho() && sampling.logprobs()) {
      throw GlmStatusException.invalidParam(
          "echo", "echo cannot be combined with logprobs here (prompt logprobs are not computed)");
    }
    ToolCallParser toolParser = toolParser(req, text);
    TokenConstraint forced = forcedToolCall(req, text, toolParser, sampling);
    if (forced != null) {
      if (constraint != null) {
        throw GlmStatusException.invalidParam(
            "response_format",
            "response_format cannot be combined with tool_choice required or a named function");
      }
      constraint = forced;
    }
    Set<String> toolNames = new HashSet<>();
    for (ToolDefinition t : req.getChat().getToolsList()) {
      toolNames.add(t.getName());
    }
    boolean thinks =
        req.getPromptCase() == GenerateRequest.PromptCase.CHAT
            && ToolCallParsers.thinks(templateSource(text));
    boolean startsInside = thinks && renderedPrompt != null && endsInsideThink(renderedPrompt);
    ChoiceOutput[] outputs = new ChoiceOutput[n];
    for (int i = 0; i < n; i++) {
      outputs[i] =
          new ChoiceOutput(
              thinks ? new ReasoningSplitter(startsInside) : null,
              toolParser == null
                  ? null
                  : toolParser.newSession(
                      toolNames, !req.hasParallelToolCalls() || req.getParallelToolCalls()));
    }
    GenerateStream stream =
        new GenerateStream(call, req, text.tokenizer(), runtime.properties().id(), outputs);
    if (req.getEcho()) {
      stream.echo(echoText(req, text, prompt));
    }
    RequestMetadata meta =
        new RequestMetadata(
            runtime.properties().modelId(),
            req.getTenantId(),
            req.getKeyId(),
            req.getUserId(),
            TraceContext.currentTraceId(),
            true,
            req.getBatchId());
    ChoiceGroup group = n > 1 ? new ChoiceGroup(n) : null;
    List<Request> requests = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      SamplingConfig choiceSampling =
          i == 0 ? sampling : withSeed(sampling, choiceSeed(sampling.seed(), i));
      Sampler sampler = text.newSampler(choiceSampling);
      for (int t : prompt) {
        sampler.accept(t, false);
      }
      Request r =
          new Request(
              req.getRequestId(),
              prompt,
              choiceSampling,
              sampler,
              text.newStreamDecoder(sampling.stop()),
              text.tokenizer()::isEndOfGeneration,
              req.getPriority(),
              now,
              deadlineAt,
              meta,
              n == 1 ? stream : stream.choice(i));
      TokenConstraint c = constraint == null ? null : i == 0 ? constraint : constraint.copy();
      if (c != null) {
        r.constrain(c);
      }
      if (group != null) {
        r.joinGroup(group, i);
      }
      requests.add(r);
    }
    EngineLoop loop = runtime.loop();
    call.setOnCancelHandler(
        () -> {
          boolean expired = deadline != null && deadline.isExpired();
          for (Request r : requests) {
            r.cancel(expired ? FinishReason.DEADLINE_EXCEEDED : FinishReason.CANCELLED);
          }
          loop.wakeUp();
        });
    call.setOnReadyHandler(stream::drain);
    return requests;
  }

  static final int MAX_CHOICES = 16;

  /** The parser of the model family's tool calls, or null when no tool may be called. */
  private static ToolCallParser toolParser(GenerateRequest req, TextModel text) {
    if (req.getPromptCase() != GenerateRequest.PromptCase.CHAT
        || req.getChat().getToolsCount() == 0) {
      if (req.hasToolChoice()
          && req.getToolChoice().getMode() != ToolChoice.Mode.NONE
          && req.getToolChoice().getMode() != ToolChoice.Mode.MODE_UNSPECIFIED) {
        throw GlmStatusException.invalidParam(
            "tool_choice", "tool_choice " + req.getToolChoice().getMode() + " needs tools");
      }
      return null;
    }
    ToolChoice.Mode mode =
        req.hasToolChoice() ? req.getToolChoice().getMode() : ToolChoice.Mode.AUTO;
    return switch (mode) {
      case NONE -> null;
      case AUTO, MODE_UNSPECIFIED -> ToolCallParsers.forTemplate(templateSource(text));
      case REQUIRED, FUNCTION -> {
        if (mode == ToolChoice.Mode.FUNCTION
            && req.getChat().getToolsList().stream()
                .noneMatch(t -> t.getName().equals(req.getToolChoice().getFunctionName()))) {
          throw GlmStatusException.invalidParam(
              "tool_choice",
              "tool_choice names '"
                  + req.getToolChoice().getFunctionName()
                  + "', which is not among the tools");
        }
        yield ToolCallParsers.forTemplate(templateSource(text));
      }
      case UNRECOGNIZED -> throw GlmStatusException.invalidParam("tool_choice", "unknown mode");
    };
  }

  /**
   * The grammar that forces a call when {@code tool_choice} is required or names a function: the
   * family's markup around the function's parameters (the parser reads it back), or null.
   */
  private static TokenConstraint forcedToolCall(
      GenerateRequest req, TextModel text, ToolCallParser parser, SamplingConfig sampling) {
    if (parser == null || !req.hasToolChoice()) {
      return null;
    }
    ToolChoice choice = req.getToolChoice();
    if (choice.getMode() != ToolChoice.Mode.REQUIRED
        && choice.getMode() != ToolChoice.Mode.FUNCTION) {
      return null;
    }
    if (!sampling.stop().isEmpty()) {
      throw GlmStatusException.invalidParam(
          "stop",
          "stop cannot be combined with tool_choice required or a named function (a stop string"
              + " would cut the call short)");
    }
    List<ToolSpec> tools = new ArrayList<>();
    for (ToolDefinition t : req.getChat().getToolsList()) {
      tools.add(new ToolSpec(t.getName(), t.getDescription(), t.getParametersJson()));
    }
    try {
      TokenConstraint c =
          ToolChoiceConstraints.forcedCall(
              text.constraints(),
              parser,
              tools,
              choice.getMode() == ToolChoice.Mode.FUNCTION ? choice.getFunctionName() : null);
      text.constraints().prime(c); // the first masks off the engine thread, as response_format
      return c;
    } catch (GrammarException e) {
      throw GlmStatusException.invalidParam(
          e.param() == null ? "tools" : e.param(),
          "tool parameters: " + e.getMessage(),
          Map.of("construct", e.construct()));
    }
  }

  private static String templateSource(TextModel text) {
    return text.chatTemplate().source();
  }

  /** Whether the rendered prompt leaves the model inside an open reasoning block. */
  static boolean endsInsideThink(String rendered) {
    String s = rendered.stripTrailing();
    return s.endsWith("<think>");
  }

  private static String echoText(GenerateRequest req, TextModel text, int[] prompt) {
    return switch (req.getPromptCase()) {
      case TEXT -> req.getText();
      case FIM -> req.getFim().getPrefix();
      default -> text.tokenizer().decode(prompt);
    };
  }

  /** Choice i's seed: a SplitMix64 step away from the request's, so streams never overlap. */
  static long choiceSeed(long seed, int index) {
    long z = seed + index * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static SamplingConfig withSeed(SamplingConfig c, long seed) {
    return new SamplingConfig(
        c.temperature(),
        c.topP(),
        c.topK(),
        c.minP(),
        c.repetitionPenalty(),
        c.presencePenalty(),
        c.frequencyPenalty(),
        c.doSample(),
        seed,
        c.maxTokens(),
        c.stop(),
        c.ignoreEos(),
        c.logprobs(),
        c.topLogprobs());
  }

  static final String FIM_PREFIX = "<|code_prefix|>";
  static final String FIM_SUFFIX = "<|code_suffix|>";
  static final String FIM_MIDDLE = "<|code_middle|>";

  /**
   * CodeGeeX4's fill-in-the-middle prompt: the optional path and language lines, then {@code
   * <|code_suffix|>suffix<|code_prefix|>prefix<|code_middle|>} in a user turn. Code is user data
   * (never control tokens). Without the FIM tokens a suffix is refused; a bare prefix is completed
   * as text.
   */
  static int[] fimTokens(FillInMiddle fim, TextModel text) {
    var tok = text.tokenizer();
    boolean hasFim =
        isSpecial(tok, FIM_PREFIX) && isSpecial(tok, FIM_SUFFIX) && isSpecial(tok, FIM_MIDDLE);
    if (!hasFim) {
      if (!fim.getSuffix().isEmpty()) {
        throw GlmStatusException.invalidParam(
            "suffix",
            "this model's vocabulary has no fill-in-the-middle tokens ("
                + FIM_PREFIX
                + ", "
                + FIM_SUFFIX
                + ", "
                + FIM_MIDDLE
                + "): suffix is not supported");
      }
      return tok.encode(fim.getPrefix(), false);
    }
    StringBuilder sb = new StringBuilder();
    java.util.BitSet literal = new java.util.BitSet();
    java.util.function.BiConsumer<String, Boolean> add =
        (s, data) -> {
          if (data) {
            literal.set(sb.length(), sb.length() + s.length());
          }
          sb.append(s);
        };
    if (isSpecial(tok, "[gMASK]") && isSpecial(tok, "<sop>")) {
      add.accept("[gMASK]<sop>", false);
    }
    add.accept(isSpecial(tok, "<|user|>") ? "<|user|>\n" : "", false);
    if (!fim.getPath().isEmpty()) {
      add.accept("###PATH:", false);
      add.accept(fim.getPath(), true);
      add.accept("\n", false);
    }
    if (!fim.getLanguage().isEmpty()) {
      add.accept("###LANGUAGE:", false);
      add.accept(fim.getLanguage(), true);
      add.accept("\n", false);
    }
    add.accept("###MODE:BLOCK\n" + FIM_SUFFIX, false);
    add.accept(fim.getSuffix(), true);
    add.accept(FIM_PREFIX, false);
    add.accept(fim.getPrefix(), true);
    add.accept(FIM_MIDDLE, false);
    if (isSpecial(tok, "<|assistant|>")) {
      add.accept("<|assistant|>\n", false);
    }
    return tok.encode(sb.toString(), literal);
  }

  private static boolean isSpecial(org.glmmaas.worker.text.Tokenizer tok, String text) {
    return tok.encode(text, true).length == 1 && tok.encode(text, false).length > 1;
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

  private int[] promptTokens(GenerateRequest req, TextModel text, RenderedChat chat) {
    int[] ids =
        switch (req.getPromptCase()) {
          case CHAT -> chat.encode(text.tokenizer());
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
          case FIM -> fimTokens(req.getFim(), text);
          case PROMPT_NOT_SET ->
              throw GlmStatusException.invalid(
                  "a prompt is required: set chat, text, token_ids or fim");
        };
    if (ids.length == 0) {
      throw GlmStatusException.invalid("the prompt is empty");
    }
    return ids;
  }

  static RenderedChat render(ChatPrompt chat, TextModel text) {
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
      List<ChatTurn.ToolCallSpec> calls = new ArrayList<>();
      for (ToolCall c : m.getToolCallsList()) {
        calls.add(new ChatTurn.ToolCallSpec(c.getId(), c.getName(), c.getArguments()));
      }
      turns.add(
          new ChatTurn(
              role,
              m.getContent(),
              m.getName(),
              m.getToolCallId(),
              calls,
              m.getReasoningContent()));
    }
    List<ToolSpec> tools = new ArrayList<>();
    for (ToolDefinition t : chat.getToolsList()) {
      tools.add(new ToolSpec(t.getName(), t.getDescription(), t.getParametersJson()));
    }
    ChatInput input =
        new ChatInput(turns, tools, chat.hasEnableThinking() ? chat.getEnableThinking() : null);
    try {
      return text.chatTemplate().render(input, true);
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

  private void requireChatModel(String model) {
    if (runtime.embeddingModel() != null) {
      throw GlmStatusException.invalid(
          "model '"
              + runtime.properties().modelId()
              + "' is an embedding model: it has no chat or text generation (use embeddings)");
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
      requireChatModel(req.getModel());
      TextModel text = runtime.textModel();
      TokenizeResponse.Builder b = TokenizeResponse.newBuilder();
      int[] ids =
          switch (req.getInputCase()) {
            case TEXT -> text.tokenizer().encode(req.getText(), req.getParseSpecial());
            case CHAT -> {
              RenderedChat rendered = render(req.getChat(), text);
              b.setRendered(rendered.text());
              yield rendered.encode(text.tokenizer());
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
    TextModel text = runtime.textModel();
    if (text != null) {
      b.addCapabilities("tools").addCapabilities("n").addCapabilities("echo");
      // Generate sends Accepted when its prefill is scheduled (the gateway times from there)
      b.addCapabilities("accepted");
      var tok = text.tokenizer();
      if (isSpecial(tok, FIM_PREFIX) && isSpecial(tok, FIM_SUFFIX) && isSpecial(tok, FIM_MIDDLE)) {
        b.addCapabilities("fim");
      }
      if (ToolCallParsers.thinks(templateSource(text))) {
        b.addCapabilities("thinking");
      }
    }
    if (runtime.embeddingModel() != null) {
      b.clearCapabilities().addCapabilities("embeddings");
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
        .setKind(d.kind())
        .setEmbeddingDimensions(d.embeddingDimensions())
        .setMatryoshka(runtime.embeddingModel() != null && runtime.embeddingModel().matryoshka())
        .build();
  }

  /** Most inputs one Embed call may carry (the gateway's own limit is lower). */
  static final int MAX_EMBED_INPUTS = 4096;

  @Override
  public void embed(EmbedRequest req, StreamObserver<EmbedResponse> observer) {
    try {
      requireReady();
      checkModel(req.getModel());
      EmbeddingModel em = runtime.embeddingModel();
      if (em == null) {
        throw GlmStatusException.invalid(
            "model '"
                + runtime.properties().modelId()
                + "' is a chat model, not an embedding model");
      }
      if (req.getRequestId().isEmpty() || req.getRequestId().length() > MAX_REQUEST_ID) {
        throw GlmStatusException.invalid("request_id must be 1.." + MAX_REQUEST_ID + " characters");
      }
      int n = req.getInputsCount();
      if (n == 0) {
        throw GlmStatusException.invalid("inputs must not be empty");
      }
      if (n > MAX_EMBED_INPUTS) {
        throw GlmStatusException.invalid(
            "inputs has " + n + " entries; at most " + MAX_EMBED_INPUTS + " per call");
      }
      int dims = req.getDimensions();
      if (dims != 0 && dims != em.dimensions()) {
        if (!em.matryoshka()) {
          throw GlmStatusException.invalid(
              "dimensions: model '"
                  + runtime.properties().modelId()
                  + "' has "
                  + em.dimensions()
                  + "-dimensional vectors and cannot shorten them (not a Matryoshka model)");
        }
        if (dims < 1 || dims > em.dimensions()) {
          throw GlmStatusException.invalid(
              "dimensions must be 1.." + em.dimensions() + ", got " + dims);
        }
      }
      int[][] inputs = new int[n][];
      int vocab = em.tokenizer().vocabSize();
      long total = 0;
      for (int i = 0; i < n; i++) {
        EmbedInput in = req.getInputs(i);
        int[] ids =
            switch (in.getInputCase()) {
              case TEXT -> {
                if (in.getText().isEmpty()) {
                  throw GlmStatusException.invalid("input[" + i + "] is an empty string");
                }
                yield em.tokenizer().encode(in.getText(), true, false);
              }
              case TOKEN_IDS -> {
                int[] t =
                    in.getTokenIds().getIdsList().stream().mapToInt(Integer::intValue).toArray();
                if (t.length == 0) {
                  throw GlmStatusException.invalid("input[" + i + "] has no token ids");
                }
                for (int j = 0; j < t.length; j++) {
                  if (t[j] < 0 || t[j] >= vocab) {
                    throw GlmStatusException.invalid(
                        "input["
                            + i
                            + "]["
                            + j
                            + "] = "
                            + t[j]
                            + " is outside the vocabulary [0, "
                            + vocab
                            + ")");
                  }
                }
                yield t;
              }
              case INPUT_NOT_SET -> throw GlmStatusException.invalid("input[" + i + "] is not set");
            };
        if (ids.length > em.maxInputTokens()) {
          throw new GlmStatusException(
              ErrorReason.CONTEXT_LENGTH_EXCEEDED,
              "input["
                  + i
                  + "] has "
                  + ids.length
                  + " tokens; the model takes at most "
                  + em.maxInputTokens()
                  + " per input");
        }
        inputs[i] = ids;
        total += ids.length;
      }
      Instant start = runtime.clock().instant();
      EmbeddingLoop.Job job = new EmbeddingLoop.Job(inputs, null);
      runtime.embeddingLoop().submit(job);
      float[][] vectors;
      try {
        vectors = job.result().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new GlmStatusException(ErrorReason.UNAVAILABLE, "the worker is stopping");
      } catch (java.util.concurrent.ExecutionException e) {
        log.error("Embed {} failed: {}", req.getRequestId(), e.getCause().toString());
        throw new GlmStatusException(ErrorReason.INTERNAL, "the embedding step failed");
      }
      EmbedResponse.Builder b =
          EmbedResponse.newBuilder()
              .setModel(runtime.properties().modelId())
              .setPromptTokens((int) total);
      for (int i = 0; i < n; i++) {
        float[] v = vectors[i];
        if (dims != 0 && dims < v.length) {
          v = java.util.Arrays.copyOf(v, dims);
        }
        float[] unit = org.glmmaas.worker.engine.Embedder.normalize(v);
        Embedding.Builder e = Embedding.newBuilder().setNumTokens(inputs[i].length);
        for (float f : unit) {
          e.addValues(f);
        }
        b.addEmbeddings(e);
      }
      publishUsage(req, total, start);
      observer.onNext(b.build());
      observer.onCompleted();
    } catch (GlmStatusException e) {
      observer.onError(e.toStatus());
    } catch (OverloadedException e) {
      observer.onError(new GlmStatusException(ErrorReason.OVERLOADED, e.getMessage()).toStatus());
    } catch (RuntimeException e) {
      log.error("Embed {} failed: {}", req.getRequestId(), e.toString(), e);
      observer.onError(
          new GlmStatusException(
                  ErrorReason.INTERNAL, "internal error: " + e.getClass().getSimpleName())
              .toStatus());
    }
  }

  /** One usage event per answered Embed call: its tokens as prompt tokens. */
  private void publishUsage(EmbedRequest req, long tokens, Instant start) {
    UsageEvent event =
        UsageEvent.newBuilder()
            .setRequestId(req.getRequestId())
            .setTenantId(req.getTenantId())
            .setKeyId(req.getKeyId())
            .setModel(runtime.properties().modelId())
            .setPromptTokens((int) tokens)
            .setFinishReason("stop")
            .setWorkerId(runtime.properties().id())
            .setStartTimeUnixMs(start.toEpochMilli())
            .setEndTimeUnixMs(runtime.clock().instant().toEpochMilli())
            .setUserId(req.getUserId())
            .setBatchId(req.getBatchId())
            .build();
    try {
      runtime.usageSink().publish(event);
    } catch (RuntimeException e) {
      log.error("usage sink refused the event of request {}: {}", req.getRequestId(), e.toString());
    }
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
