package org.glmmaas.gateway.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.dialect.openai.OpenAiCompletions;
import org.glmmaas.gateway.dialect.openai.OpenAiDialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.request.CompletionRequest;
import org.glmmaas.gateway.request.CompletionRequestParser;
import org.glmmaas.proto.inference.v1.Delta;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.TokenLogprob;
import org.glmmaas.proto.inference.v1.Usage;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * OpenAI's legacy {@code POST /v1/completions}: a prompt (or several: one worker request each, run
 * side by side), n choices per prompt, numbered prompt × n + choice; {@code suffix} as
 * fill-in-the-middle, {@code echo}, {@code logprobs} in the completions shape.
 */
public final class CompletionsHandler {

  private final Admission admission;
  private final ChatHandler chat;
  private final OpenAiDialect dialect;
  private final CompletionRequestParser parser;

  public CompletionsHandler(
      Admission admission, ChatHandler chat, OpenAiDialect dialect, int maxTokensLimit) {
    this.admission = admission;
    this.chat = chat;
    this.dialect = dialect;
    this.parser = new CompletionRequestParser(maxTokensLimit);
  }

  public Mono<ServerResponse> complete(ServerRequest req) {
    return admission
        .admit(req, dialect, parser::parse)
        .flatMap(a -> a.call().stream() ? stream(req, a) : unary(req, a))
        .onErrorResume(GlmException.class, e -> Responses.error(req, dialect, e.error()));
  }

  /** Per choice (global index): text so far, logprobs so far. */
  private static final class Acc {
    final String id;
    final long created = System.currentTimeMillis() / 1000;
    final CompletionRequest call;
    final int n;
    final StringBuilder[] text;
    final List<List<TokenLogprob>> logprobs = new ArrayList<>();
    final Finished[] finished;
    final AtomicInteger done = new AtomicInteger();

    Acc(Admission.Admitted a) {
      this.id = a.call().requestId() != null ? a.call().requestId() : OpenAiCompletions.newId();
      this.call = (CompletionRequest) a.call();
      this.n = call.n();
      int total = n * a.generates().size();
      this.text = new StringBuilder[total];
      for (int i = 0; i < total; i++) {
        text[i] = new StringBuilder();
        logprobs.add(new ArrayList<>());
      }
      this.finished = new Finished[a.generates().size()];
    }

    int index(int prompt, Delta d) {
      return prompt * n + d.getChoiceIndex();
    }

    /** Records a delta; returns its chunk choice (null when it carries nothing). */
    OpenAiCompletions.Choice accept(int prompt, Delta d) {
      int i = index(prompt, d);
      if (i < 0 || i >= text.length) {
        return null;
      }
      int offset = text[i].length();
      text[i].append(d.getText());
      var lp =
          call.logprobs() != null ? OpenAiCompletions.logprobs(d.getLogprobsList(), offset) : null;
      logprobs.get(i).addAll(d.getLogprobsList());
      return d.getText().isEmpty() && d.getLogprobsCount() == 0
          ? null
          : new OpenAiCompletions.Choice(i, d.getText(), lp, null);
    }

    List<OpenAiCompletions.Choice> finishes(int prompt, Finished f) {
      List<OpenAiCompletions.Choice> out = new ArrayList<>(n);
      for (int c = 0; c < n; c++) {
        var reason = f.getFinishReason();
        for (var cf : f.getChoicesList()) {
          if (cf.getIndex() == c) {
            reason = cf.getFinishReason();
          }
        }
        out.add(new OpenAiCompletions.Choice(prompt * n + c, "", null, reason));
      }
      return out;
    }

    List<OpenAiCompletions.Choice> whole() {
      List<OpenAiCompletions.Choice> out = new ArrayList<>(text.length);
      for (int i = 0; i < text.length; i++) {
        Finished f = finished[i / n];
        var reason = f.getFinishReason();
        for (var cf : f.getChoicesList()) {
          if (cf.getIndex() == i % n) {
            reason = cf.getFinishReason();
          }
        }
        out.add(
            new OpenAiCompletions.Choice(
                i,
                text[i].toString(),
                call.logprobs() != null ? OpenAiCompletions.logprobs(logprobs.get(i), 0) : null,
                reason));
      }
      return out;
    }

    Usage usage() {
      Usage.Builder u = Usage.newBuilder();
      for (Finished f : finished) {
        if (f != null) {
          u.setPromptTokens(u.getPromptTokens() + f.getUsage().getPromptTokens())
              .setCachedTokens(u.getCachedTokens() + f.getUsage().getCachedTokens())
              .setCompletionTokens(u.getCompletionTokens() + f.getUsage().getCompletionTokens())
              .setReasoningTokens(u.getReasoningTokens() + f.getUsage().getReasoningTokens());
        }
      }
      return u.setTotalTokens(u.getPromptTokens() + u.getCompletionTokens()).build();
    }
  }

  private Mono<ServerResponse> unary(ServerRequest req, Admission.Admitted a) {
    Acc acc = new Acc(a);
    return chat.runAll(a)
        .doOnNext(
            t -> {
              var r = t.response();
              if (r.hasDelta()) {
                acc.accept(t.prompt(), r.getDelta());
              } else if (r.hasFinished()) {
                GlmError err = ChatHandler.failure(r.getFinished());
                if (err != null) {
                  throw new GlmException(err);
                }
                acc.finished[t.prompt()] = r.getFinished();
                acc.done.incrementAndGet();
              }
            })
        .then(
            Mono.defer(
                () -> {
                  if (acc.done.get() < acc.finished.length) {
                    return Mono.error(ChatHandler.unfinished());
                  }
                  return ServerResponse.ok()
                      .contentType(MediaType.APPLICATION_JSON)
                      .headers(
                          h -> Responses.rateLimitHeaders(h, Responses.rateLimits(req.exchange())))
                      .bodyValue(
                          OpenAiCompletions.completion(
                                  acc.id, acc.created, acc.call.model(), acc.whole(), acc.usage())
                              .getBytes(StandardCharsets.UTF_8));
                }));
  }

  private Mono<ServerResponse> stream(ServerRequest req, Admission.Admitted a) {
    Acc acc = new Acc(a);
    Dialect d = dialect;
    boolean usage = acc.call.includeUsage();
    return ChatHandler.sse(
        req,
        d,
        chat.runAll(a),
        t -> {
          var r = t.response();
          if (r.hasDelta()) {
            var c = acc.accept(t.prompt(), r.getDelta());
            return c == null
                ? List.of()
                : List.of(
                    ChatHandler.sse(
                        OpenAiCompletions.chunk(
                            acc.id, acc.created, acc.call.model(), List.of(c), usage)));
          }
          if (!r.hasFinished()) {
            return List.of();
          }
          GlmError err = ChatHandler.failure(r.getFinished());
          if (err != null) {
            throw new GlmException(err);
          }
          acc.finished[t.prompt()] = r.getFinished();
          List<byte[]> out = new ArrayList<>(3);
          out.add(
              ChatHandler.sse(
                  OpenAiCompletions.chunk(
                      acc.id,
                      acc.created,
                      acc.call.model(),
                      acc.finishes(t.prompt(), r.getFinished()),
                      usage)));
          if (acc.done.incrementAndGet() == acc.finished.length) {
            if (usage) {
              out.add(
                  ChatHandler.sse(
                      OpenAiCompletions.usageChunk(
                          acc.id, acc.created, acc.call.model(), acc.usage())));
            }
            out.add(ChatHandler.DONE);
          }
          return out;
        },
        () -> acc.done.get() == acc.finished.length);
  }
}
