package org.glmmaas.worker.api;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.proto.common.v1.ErrorReason;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.EmbedInput;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.EmbedResponse;
import org.glmmaas.proto.inference.v1.Embedding;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.GetInfoRequest;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.ListModelsRequest;
import org.glmmaas.proto.inference.v1.ListModelsResponse;
import org.glmmaas.proto.inference.v1.LoadReport;
import org.glmmaas.proto.inference.v1.ModelInfo;
import org.glmmaas.proto.inference.v1.TokenizeRequest;
import org.glmmaas.proto.inference.v1.TokenizeResponse;
import org.glmmaas.proto.inference.v1.WatchLoadRequest;
import org.glmmaas.proto.inference.v1.WorkerInfo;
import org.glmmaas.worker.lifecycle.EmbeddingModel;
import org.glmmaas.worker.lifecycle.ModelDescription;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.sample.SamplingConfig;
import org.glmmaas.worker.scheduler.EmbeddingLoop;
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
    requireChatModel(req.getModel());
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
