package org.glmmaas.gateway.async;

import java.time.Duration;
import java.util.UUID;
import java.util.regex.Pattern;
import org.glmmaas.gateway.api.Admission;
import org.glmmaas.gateway.api.ChatHandler;
import org.glmmaas.gateway.api.Responses;
import org.glmmaas.gateway.dialect.bigmodel.BigModelDialect;
import org.glmmaas.gateway.error.BigModelErrors;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * BigModel's async pair: POST /api/paas/v4/async/chat/completions admits the call like a normal
 * one, stores a PROCESSING task and answers at once; the generation runs on and stores SUCCESS
 * (with the completion) or FAIL. GET /api/paas/v4/async-result/{id} reads the caller's own task.
 */
public final class AsyncHandler {

  private static final Logger log = LoggerFactory.getLogger(AsyncHandler.class);
  private static final Pattern TASK_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private final Admission admission;
  private final ChatHandler chat;
  private final AsyncTaskStore store;
  private final BigModelDialect dialect;
  private final Duration staleAfter;
  private final AsyncRuns runs;

  /** As the six-argument constructor, with no drain at shutdown (tests). */
  public AsyncHandler(
      Admission admission,
      ChatHandler chat,
      AsyncTaskStore store,
      BigModelDialect dialect,
      Duration requestTimeout) {
    this(admission, chat, store, dialect, requestTimeout, new AsyncRuns(Duration.ZERO));
  }

  /**
   * @param runs where the background generations are tracked, so a shutdown drains them and stores
   *     those it has to cut as FAIL
   */
  public AsyncHandler(
      Admission admission,
      ChatHandler chat,
      AsyncTaskStore store,
      BigModelDialect dialect,
      Duration requestTimeout,
      AsyncRuns runs) {
    this.runs = runs;
    this.admission = admission;
    this.chat = chat;
    this.store = store;
    this.dialect = dialect;
    this.staleAfter = requestTimeout.plus(Duration.ofMinutes(1));
  }

  public Mono<ServerResponse> submit(ServerRequest req) {
    // the retrieval tool grounds the prompt before admission, as on the sync route
    return chat.prepare(req)
        .flatMap(r -> admission.admit(r, dialect))
        .flatMap(
            a -> {
              if (runs.stopping()) {
                admission.finish(a, 0, false).subscribe();
                return Mono.error(
                    new GlmException(
                        new GlmError.Unavailable(
                            "the gateway is shutting down; submit the task again",
                            Duration.ofSeconds(1))));
              }
              if (a.call().stream()) {
                admission.finish(a, 0, false).subscribe();
                return Mono.error(
                    GlmException.invalid("async calls cannot stream; drop 'stream'", "stream"));
              }
              String taskId = UUID.randomUUID().toString().replace("-", "");
              AsyncTask task =
                  new AsyncTask(
                      taskId,
                      a.responseId(),
                      a.principal().getTenantId(),
                      a.call().model(),
                      "PROCESSING",
                      System.currentTimeMillis(),
                      null);
              // until the generation runs in the background, this call owns the lease and the
              // holds: a store that fails or a client that leaves gives them back at once
              java.util.concurrent.atomic.AtomicBoolean started =
                  new java.util.concurrent.atomic.AtomicBoolean();
              return store
                  .put(task)
                  .onErrorMap(
                      e -> !(e instanceof GlmException),
                      e -> {
                        log.warn("storing a new async task failed: {}", e.toString());
                        return new GlmException(
                            new GlmError.Unavailable(
                                "the async task store is unavailable, retry shortly",
                                java.time.Duration.ofSeconds(1)));
                      })
                  .doOnError(e -> admission.finish(a, 0, false).subscribe())
                  .doOnCancel(
                      () -> {
                        if (!started.get()) {
                          admission.finish(a, 0, false).subscribe();
                        }
                      })
                  .then(
                      Mono.fromRunnable(
                          () -> {
                            started.set(true);
                            runInBackground(req, a, task);
                          }))
                  .then(
                      ServerResponse.ok()
                          .contentType(MediaType.APPLICATION_JSON)
                          .headers(
                              h ->
                                  Responses.rateLimitHeaders(
                                      h, Responses.rateLimits(req.exchange())))
                          .bodyValue(Json.write(view(task))));
            })
        .onErrorResume(GlmException.class, e -> Responses.error(req, dialect, e.error()));
  }

  private static final String CUT_MESSAGE =
      "the gateway shut down before this task finished; submit it again";

  private void runInBackground(ServerRequest req, Admission.Admitted a, AsyncTask task) {
    AsyncRuns.Run run =
        runs.begin(
            () ->
                store.put(
                    task.finish(
                        "FAIL",
                        BigModelErrors.body(
                            new GlmError.Unavailable(CUT_MESSAGE, Duration.ofSeconds(1))))));
    if (run == null) {
      // shutting down between the store write and here: this task ends at once, unrun
      admission.finish(a, 0, false).subscribe();
      store
          .put(
              task.finish(
                  "FAIL",
                  BigModelErrors.body(
                      new GlmError.Unavailable(CUT_MESSAGE, Duration.ofSeconds(1)))))
          .subscribe(null, e -> log.error("storing async task result failed: {}", e.toString()));
      return;
    }
    Disposable d =
        chat.complete(a, dialect)
            .map(
                c ->
                    task.finish(
                        "SUCCESS",
                        // the completion names the chunks it was grounded on, as a sync one does
                        Json.MAPPER.readTree(
                            chat.decorate(
                                req,
                                Json.write(
                                    dialect.completionNode(
                                        c.ctx(), c.choices(), c.finished().getUsage()))))))
            .onErrorResume(
                e ->
                    Mono.just(
                        task.finish(
                            "FAIL",
                            BigModelErrors.body(
                                e instanceof GlmException g
                                    ? g.error()
                                    : new GlmError.Internal("internal error")))))
            .flatMap(store::put)
            .doFinally(s -> run.end())
            .subscribe(null, e -> log.error("storing async task result failed: {}", e.toString()));
    run.attach(d);
  }

  public Mono<ServerResponse> result(ServerRequest req) {
    String id = req.pathVariable("id");
    return admission
        .authenticate(req)
        .flatMap(
            p -> {
              if (!TASK_ID.matcher(id).matches()) {
                return Mono.error(
                    GlmException.invalid(
                        "task id must be 1-128 letters, digits, '-' or " + "'_'", "id"));
              }
              return store
                  .get(p.getTenantId(), id)
                  .switchIfEmpty(
                      Mono.error(
                          () ->
                              new GlmException(
                                  new GlmError.NotFound(
                                      "no async task with this id for this account"))));
            })
        .flatMap(
            t ->
                ServerResponse.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(Json.write(view(stale(t)))))
        .onErrorResume(GlmException.class, e -> Responses.error(req, dialect, e.error()));
  }

  private AsyncTask stale(AsyncTask t) {
    if ("PROCESSING".equals(t.status())
        && System.currentTimeMillis() - t.createdMs() > staleAfter.toMillis()) {
      return t.finish(
          "FAIL",
          BigModelErrors.body(
              new GlmError.Internal("the gateway running this task stopped before it finished")));
    }
    return t;
  }

  /** The client's view: BigModel's task shape. */
  static ObjectNode view(AsyncTask t) {
    ObjectNode n = Json.object();
    n.put("id", t.id());
    n.put("request_id", t.requestId());
    n.put("model", t.model());
    n.put("task_status", t.status());
    JsonNode r = t.result();
    if ("SUCCESS".equals(t.status()) && r != null) {
      n.set("choices", r.get("choices"));
      n.set("usage", r.get("usage"));
      n.set("created", r.get("created"));
      if (r.has("retrieval")) {
        n.set("retrieval", r.get("retrieval")); // the chunks a retrieval tool grounded it on
      }
    } else if ("FAIL".equals(t.status()) && r != null && r.has("error")) {
      n.set("error", r.get("error"));
    }
    return n;
  }
}
