package org.glmmaas.gateway.support;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.proto.inference.v1.Delta;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.GetInfoRequest;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.LoadReport;
import org.glmmaas.proto.inference.v1.ModelInfo;
import org.glmmaas.proto.inference.v1.TokenizeRequest;
import org.glmmaas.proto.inference.v1.TokenizeResponse;
import org.glmmaas.proto.inference.v1.WatchLoadRequest;
import org.glmmaas.proto.inference.v1.WorkerInfo;
import org.glmmaas.proto.inference.v1.WorkerState;

/**
 * An InferenceService gRPC server that streams scripted tokens. What it does is chosen by markers
 * in the last message: "[slow]" (many tokens, 50 ms apart), "[fail-after-first]" (an error after
 * one delta), "[fail-before-first]" (UNAVAILABLE at once), "[ctx]" (CONTEXT_LENGTH_EXCEEDED),
 * "[length]" (finish LENGTH), "[call]" (call the first tool), "[two-calls]" (two calls); the rest
 * follows the request as the real worker would ({@link FakeScript}: n choices, tool calls, JSON
 * output, reasoning, logprobs, echo) and so do its refusals (a schema with "not", "[no-fim]").
 * Tokenize counts tokens as Generate bills them. Its load report is settable; it records requests
 * and cancellations.
 */
public final class FakeWorker implements AutoCloseable {

  public static final List<String> TOKENS = List.of("Hello", ",", " world", "!");

  private final String workerId;
  private final String model;
  private final Server server;
  private final int port;
  private final String host;
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
  private final Set<StreamObserver<LoadReport>> watchers = ConcurrentHashMap.newKeySet();
  private volatile LoadReport load;
  public final AtomicInteger generateCalls = new AtomicInteger();
  public final AtomicInteger cancellations = new AtomicInteger();

  /** The latest Generate request (only the latest: the load benchmark sends millions). */
  public volatile GenerateRequest lastRequest;

  /** The latest Tokenize request. */
  public volatile TokenizeRequest lastTokenize;

  public final AtomicInteger tokenizeCalls = new AtomicInteger();

  /** Delay before the first token of every request, ms (routing tests). */
  public volatile long firstTokenDelayMs;

  /** When > 0: the prompt's token count Tokenize answers for any chat (long-prompt tests). */
  public volatile int chatPromptTokens;

  /**
   * Like the real worker: a request without max_tokens generates to the end of the 8,192-token
   * context (the usage says so; the deltas stay short), one with max_tokens generates all of them.
   */
  public volatile boolean generatesToTheLimit;

  /** Where usage events go (the real worker publishes each finished request's to Kafka). */
  public volatile java.util.function.Consumer<org.glmmaas.proto.billing.v1.UsageEvent> usage;

  /** Tokens per default request. */
  public volatile int numTokens = TOKENS.size();

  /**
   * Hung but open: every stream stays open and nothing is sent — no load reports (not even the
   * first one of a new WatchLoad) and no Generate responses.
   */
  public volatile boolean hung;

  /**
   * Generate calls stay open and silent (load reports still flow); with {@link #sendsAccepted} they
   * are accepted first, then silent.
   */
  public volatile boolean generateHangs;

  /**
   * Like the current worker: GetInfo lists the capability "accepted" and every Generate call gets
   * an {@code Accepted} after {@link #queueMs} (its time queued), before its first token. False: a
   * worker from before {@code Accepted}.
   */
  public volatile boolean sendsAccepted;

  /**
   * Time each Generate waits "in the queue" before it is accepted, ms (with sendsAccepted); a call
   * whose last message contains {@code [no-queue]} is accepted at once.
   */
  public volatile long queueMs;

  /**
   * Stuck mid-stream: after this many deltas a Generate call stays open and silent (negative: off).
   */
  public volatile int stallAfterDeltas = -1;

  /** "chat" (the default) or "embedding": what GetInfo says the model is. */
  public volatile String kind = "chat";

  /** An embedding model's vector width (GetInfo). */
  public volatile int embeddingDimensions;

  /** Whether the embedding model declares Matryoshka support (GetInfo). */
  public volatile boolean matryoshka;

  /** The model's context (for an embedding model: the longest input, in tokens). */
  public volatile int contextLength = 8192;

  /** Embed calls received, and the last one. */
  public final AtomicInteger embedCalls = new AtomicInteger();

  public volatile org.glmmaas.proto.inference.v1.EmbedRequest lastEmbed;

  public FakeWorker(String workerId, String model) throws IOException {
    this(workerId, model, null);
  }

  /**
   * Listens on {@code bind} only (e.g. 127.0.0.2 and a port another fake uses on 127.0.0.1: one
   * port, several addresses, as behind a DNS name); null: all interfaces, a free port.
   */
  public FakeWorker(String workerId, String model, java.net.InetSocketAddress bind)
      throws IOException {
    this.workerId = workerId;
    this.model = model;
    this.load =
        LoadReport.newBuilder()
            .setWorkerId(workerId)
            .setModel(model)
            .setState(WorkerState.READY)
            .setNumKvBlocksTotal(1000)
            .setNumKvBlocksFree(1000)
            .build();
    // handlers never block (delays run on the timer), so they run on the transport thread: the
    // fake answers "at once" and benchmarks measure the gateway, not executor hops in the fake
    io.grpc.ServerBuilder<?> builder =
        bind == null
            ? Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            : io.grpc.netty.NettyServerBuilder.forAddress(bind, InsecureServerCredentials.create());
    this.server = builder.directExecutor().addService(new Service()).build().start();
    this.port = server.getPort();
    this.host = bind == null ? "127.0.0.1" : bind.getAddress().getHostAddress();
  }

  public int port() {
    return port;
  }

  public String address() {
    return host + ":" + port();
  }

  /** Publishes a new load report to all watchers. */
  public void setLoad(int numWaiting, int numRunning, WorkerState state) {
    load =
        load.toBuilder()
            .setNumWaiting(numWaiting)
            .setNumRunning(numRunning)
            .setState(state)
            .setTimestampUnixMs(System.currentTimeMillis())
            .build();
    if (hung) {
      return;
    }
    for (StreamObserver<LoadReport> w : watchers) {
      try {
        w.onNext(load);
      } catch (RuntimeException e) {
        watchers.remove(w);
      }
    }
  }

  /** Kills the server: open streams break at once. */
  public void kill() {
    server.shutdownNow();
  }

  @Override
  public void close() {
    server.shutdownNow();
    timer.shutdownNow();
  }

  private final class Service extends InferenceServiceGrpc.InferenceServiceImplBase {

    @Override
    public void getInfo(GetInfoRequest request, StreamObserver<WorkerInfo> out) {
      out.onNext(
          WorkerInfo.newBuilder()
              .setWorkerId(workerId)
              .setDevice("cpu")
              .setModel(
                  ModelInfo.newBuilder()
                      .setId(model)
                      .setContextLength(contextLength)
                      .setKind(kind)
                      .setEmbeddingDimensions(embeddingDimensions)
                      .setMatryoshka(matryoshka)
                      .setOwnedBy("zhipuai")
                      .setCreatedUnixS(1_700_000_000L))
              .setState(WorkerState.READY)
              .addAllCapabilities(sendsAccepted ? List.of("accepted") : List.of())
              .build());
      out.onCompleted();
    }

    @Override
    public void watchLoad(WatchLoadRequest request, StreamObserver<LoadReport> out) {
      if (hung) {
        return; // open and silent
      }
      watchers.add(out);
      ((ServerCallStreamObserver<LoadReport>) out).setOnCancelHandler(() -> watchers.remove(out));
      out.onNext(load);
    }

    @Override
    public void generate(GenerateRequest req, StreamObserver<GenerateResponse> out) {
      generateCalls.incrementAndGet();
      lastRequest = req;
      var call = (ServerCallStreamObserver<GenerateResponse>) out;
      String last = FakeScript.lastMessage(req);
      call.setOnCancelHandler(cancellations::incrementAndGet);
      if (hung) {
        return; // open and silent
      }
      if (sendsAccepted && !last.contains("[fail-before-first]") && !last.contains("[ctx]")) {
        long queued = last.contains("[no-queue]") ? 0 : queueMs;
        Runnable accept =
            () -> {
              try {
                synchronized (call) {
                  call.onNext(
                      GenerateResponse.newBuilder()
                          .setAccepted(
                              org.glmmaas.proto.inference.v1.Accepted.newBuilder()
                                  .setQueuedMs(queued))
                          .build());
                }
              } catch (RuntimeException e) {
                return; // cancelled meanwhile
              }
              if (!generateHangs) {
                serve(req, out, call, last);
              }
            };
        if (queued > 0) {
          timer.schedule(() -> Thread.ofVirtual().start(accept), queued, TimeUnit.MILLISECONDS);
        } else {
          accept.run();
        }
        return;
      }
      if (generateHangs) {
        return; // open and silent
      }
      serve(req, out, call, last);
    }

    private void serve(
        GenerateRequest req,
        StreamObserver<GenerateResponse> out,
        ServerCallStreamObserver<GenerateResponse> call,
        String last) {
      if (last.contains("[fail-before-first]")) {
        out.onError(error(io.grpc.Status.Code.UNAVAILABLE, "UNAVAILABLE", "worker draining"));
        return;
      }
      if (last.contains("[ctx]")) {
        out.onError(
            error(
                io.grpc.Status.Code.INVALID_ARGUMENT,
                "CONTEXT_LENGTH_EXCEEDED",
                "prompt is 9000 tokens, the model's context is 8192"));
        return;
      }
      Throwable refused = refuse(req, last);
      if (refused != null) {
        out.onError(refused);
        return;
      }
      boolean slow = last.contains("[slow]");
      boolean shortSlow = last.contains("[short-slow]"); // 30 tokens 50 ms apart: 1.5 s
      int n = slow ? 200 : shortSlow ? 30 : numTokens;
      List<String> tokens = new java.util.ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        tokens.add(TOKENS.get(i % TOKENS.size()));
      }
      long gap = slow || shortSlow ? 50 : 0;
      FinishReason reason = last.contains("[length]") ? FinishReason.LENGTH : FinishReason.STOP;
      FakeScript.Script script = FakeScript.script(req, tokens, reason);
      boolean failAfterFirst = last.contains("[fail-after-first]");
      int stallAfter = stallAfterDeltas;
      Runnable body =
          () -> {
            int i = 0;
            int sent = 0;
            for (Delta d : script.deltas()) {
              if (call.isCancelled()) {
                return;
              }
              if (stallAfter >= 0 && sent++ == stallAfter) {
                return; // open and silent from here on
              }
              if (failAfterFirst && i++ == 1) {
                out.onError(error(io.grpc.Status.Code.INTERNAL, "INTERNAL", "engine fault"));
                return;
              }
              try {
                synchronized (call) {
                  call.onNext(GenerateResponse.newBuilder().setDelta(d).build());
                }
              } catch (RuntimeException e) {
                return;
              }
              if (gap > 0) {
                try {
                  Thread.sleep(gap);
                } catch (InterruptedException e) {
                  return;
                }
              }
            }
            org.glmmaas.proto.inference.v1.Usage u = script.usage();
            if (generatesToTheLimit) {
              int prompt = FakeScript.promptTokens(req);
              int completion =
                  req.getSampling().hasMaxTokens()
                      ? req.getSampling().getMaxTokens()
                      : 8192 - prompt;
              u =
                  u.toBuilder()
                      .setPromptTokens(prompt)
                      .setCompletionTokens(completion)
                      .setTotalTokens(prompt + completion)
                      .build();
            }
            var sink = usage;
            if (sink != null) {
              sink.accept(
                  org.glmmaas.proto.billing.v1.UsageEvent.newBuilder()
                      .setRequestId(req.getRequestId())
                      .setTenantId(req.getTenantId())
                      .setKeyId(req.getKeyId())
                      .setModel(req.getModel())
                      .setPromptTokens(u.getPromptTokens())
                      .setCachedTokens(u.getCachedTokens())
                      .setCompletionTokens(u.getCompletionTokens())
                      .setFinishReason("stop")
                      .setWorkerId(workerId)
                      .setStartTimeUnixMs(System.currentTimeMillis())
                      .setEndTimeUnixMs(System.currentTimeMillis())
                      .build());
            }
            try {
              out.onNext(
                  GenerateResponse.newBuilder()
                      .setFinished(
                          Finished.newBuilder()
                              .setFinishReason(script.reason())
                              .setWorkerId(workerId)
                              .setUsage(u)
                              .addAllChoices(script.choices()))
                      .build());
              out.onCompleted();
            } catch (RuntimeException e) {
              // cancelled meanwhile
            }
          };
      long delay = firstTokenDelayMs;
      if (delay > 0 || slow || shortSlow) {
        timer.schedule(() -> Thread.ofVirtual().start(body), delay, TimeUnit.MILLISECONDS);
      } else {
        body.run();
      }
    }

    @Override
    public void detokenize(
        org.glmmaas.proto.inference.v1.DetokenizeRequest req,
        StreamObserver<org.glmmaas.proto.inference.v1.DetokenizeResponse> out) {
      StringBuilder sb = new StringBuilder();
      for (int id : req.getIdsList()) {
        sb.append('<').append(id).append('>');
      }
      out.onNext(
          org.glmmaas.proto.inference.v1.DetokenizeResponse.newBuilder()
              .setText(sb.toString())
              .build());
      out.onCompleted();
    }

    /**
     * As the real worker's Embed: one unit-norm vector per input (a pseudo-random one seeded by the
     * input, so equal inputs get equal vectors), num_tokens = one per 4 UTF-8 bytes (or the ids)
     * plus [CLS] and [SEP]; an input over the context is CONTEXT_LENGTH_EXCEEDED naming it; one
     * usage event per answered call.
     */
    @Override
    public void embed(
        org.glmmaas.proto.inference.v1.EmbedRequest req,
        StreamObserver<org.glmmaas.proto.inference.v1.EmbedResponse> out) {
      embedCalls.incrementAndGet();
      lastEmbed = req;
      if (!"embedding".equals(kind)) {
        out.onError(invalid("model '" + model + "' is a chat model", "model"));
        return;
      }
      int width = req.getDimensions() > 0 ? req.getDimensions() : embeddingDimensions;
      var resp = org.glmmaas.proto.inference.v1.EmbedResponse.newBuilder().setModel(model);
      int total = 0;
      for (int i = 0; i < req.getInputsCount(); i++) {
        var in = req.getInputs(i);
        int tokens =
            in.hasTokenIds()
                ? in.getTokenIds().getIdsCount()
                : 2
                    + (in.getText().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 3)
                        / 4;
        if (tokens > contextLength) {
          out.onError(
              error(
                  io.grpc.Status.Code.INVALID_ARGUMENT,
                  "CONTEXT_LENGTH_EXCEEDED",
                  "input["
                      + i
                      + "] has "
                      + tokens
                      + " tokens; the model takes at most "
                      + contextLength
                      + " per input"));
          return;
        }
        java.util.Random rnd =
            new java.util.Random(
                in.hasTokenIds() ? in.getTokenIds().hashCode() : in.getText().hashCode());
        float[] v = new float[width];
        double norm = 0;
        for (int k = 0; k < width; k++) {
          v[k] = (float) rnd.nextGaussian();
          norm += v[k] * (double) v[k];
        }
        var e = org.glmmaas.proto.inference.v1.Embedding.newBuilder().setNumTokens(tokens);
        for (float x : v) {
          e.addValues((float) (x / Math.sqrt(norm)));
        }
        resp.addEmbeddings(e);
        total += tokens;
      }
      resp.setPromptTokens(total);
      var sink = usage;
      if (sink != null) {
        sink.accept(
            org.glmmaas.proto.billing.v1.UsageEvent.newBuilder()
                .setRequestId(req.getRequestId())
                .setTenantId(req.getTenantId())
                .setKeyId(req.getKeyId())
                .setModel(req.getModel())
                .setPromptTokens(total)
                .setFinishReason("stop")
                .setWorkerId(workerId)
                .setStartTimeUnixMs(System.currentTimeMillis())
                .setEndTimeUnixMs(System.currentTimeMillis())
                .build());
      }
      out.onNext(resp.build());
      out.onCompleted();
    }

    @Override
    public void tokenize(TokenizeRequest req, StreamObserver<TokenizeResponse> out) {
      tokenizeCalls.incrementAndGet();
      lastTokenize = req;
      int count =
          req.hasChat()
              ? (chatPromptTokens > 0 ? chatPromptTokens : FakeScript.chatTokens(req.getChat()))
              : 1 + req.getText().length() / 4;
      TokenizeResponse.Builder b = TokenizeResponse.newBuilder().setNumTokens(count);
      for (int i = 0; i < count; i++) {
        b.addIds(100 + i);
      }
      out.onNext(b.build());
      out.onCompleted();
    }
  }

  /**
   * What the real worker refuses with INVALID_ARGUMENT + ErrorInfo param: a schema construct its
   * grammar cannot compile ("not" here), a suffix for a vocabulary without FIM tokens ("[no-fim]"
   * in the prefix).
   */
  private static Throwable refuse(GenerateRequest req, String last) {
    if (req.hasFim() && req.getFim().getPrefix().contains("[no-fim]")) {
      return invalid("this model's vocabulary has no fill-in-the-middle tokens", "suffix");
    }
    if (req.getResponseFormat().getType()
        == org.glmmaas.proto.inference.v1.ResponseFormat.Type.JSON_SCHEMA) {
      String at =
          FakeScript.unsupported(FakeScript.schema(req.getResponseFormat().getSchemaJson()), "#");
      if (at != null) {
        return invalid(
            "JSON Schema construct 'not' is not supported (at " + at + ")", "response_format");
      }
    }
    for (int i = 0; i < req.getChat().getToolsCount(); i++) {
      String at =
          FakeScript.unsupported(
              FakeScript.schema(req.getChat().getTools(i).getParametersJson()), "#");
      if (at != null) {
        return invalid(
            "JSON Schema construct 'not' is not supported (at " + at + ")",
            "tools[" + i + "].function.parameters");
      }
    }
    return null;
  }

  static Throwable invalid(String message, String param) {
    com.google.rpc.Status s =
        com.google.rpc.Status.newBuilder()
            .setCode(io.grpc.Status.Code.INVALID_ARGUMENT.value())
            .setMessage(message)
            .addDetails(
                Any.pack(
                    ErrorInfo.newBuilder()
                        .setReason("INVALID_REQUEST")
                        .setDomain("glm-maas")
                        .putMetadata("param", param)
                        .build()))
            .build();
    return StatusProto.toStatusRuntimeException(s);
  }

  static Throwable error(io.grpc.Status.Code code, String reason, String message) {
    com.google.rpc.Status s =
        com.google.rpc.Status.newBuilder()
            .setCode(code.value())
            .setMessage(message)
            .addDetails(
                Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain("glm-maas").build()))
            .build();
    return StatusProto.toStatusRuntimeException(s);
  }
}
