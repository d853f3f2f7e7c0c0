package org.glmmaas.gateway.files;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.glmmaas.gateway.api.Admission;
import org.glmmaas.gateway.api.Responses;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.proto.auth.v1.Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.ResolvableType;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.MediaType;
import org.springframework.http.codec.multipart.DefaultPartHttpMessageReader;
import org.springframework.http.codec.multipart.FilePart;
import org.springframework.http.codec.multipart.FormFieldPart;
import org.springframework.http.codec.multipart.MultipartHttpMessageReader;
import org.springframework.http.codec.multipart.Part;
import org.springframework.util.MultiValueMap;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Files API of both dialects: upload (multipart {@code file} + {@code purpose}), list, get,
 * content and delete, each on the caller's own tenant's files only.
 */
public final class FilesHandler {

  private static final Logger log = LoggerFactory.getLogger(FilesHandler.class);

  /** The purposes a file may have: batch input, and knowledge-base documents. */
  static final Set<String> PURPOSES = Set.of("batch", "retrieval");

  static final Set<String> FORM_FIELDS = Set.of("file", "purpose", "knowledge_id");
  static final Set<String> LIST_PARAMS = Set.of("purpose", "limit", "after", "order");
  static final int MAX_LIST = 10_000;

  private static final ResolvableType FORM =
      ResolvableType.forClassWithGenerics(MultiValueMap.class, String.class, Part.class);

  private final Admission admission;
  private final FileStore store;
  private final long maxFileSize;
  private final long tenantQuota;
  private KnowledgeUploads knowledge;

  /**
   * Where {@code purpose=retrieval} uploads with a {@code knowledge_id} go (knowledge-service)
   * instead of this store; null: knowledge bases are not enabled.
   */
  public interface KnowledgeUploads {
    Mono<ObjectNode> upload(Principal p, String knowledgeId, String filename, Path content);
  }

  public FilesHandler withKnowledge(KnowledgeUploads uploads) {
    this.knowledge = uploads;
    return this;
  }

  public FilesHandler(Admission admission, FileStore store, long maxFileSize, long tenantQuota) {
    this.admission = admission;
    this.store = store;
    this.maxFileSize = maxFileSize;
    this.tenantQuota = tenantQuota;
  }

  private GlmException tooLarge() {
    return new GlmException(
        new GlmError.PayloadTooLarge(
            "the file exceeds the upload limit of " + maxFileSize + " bytes"));
  }

  private static <T> Mono<T> blocking(java.util.concurrent.Callable<T> c) {
    return StoreCalls.blocking("file store", c);
  }

  private static Mono<ServerResponse> json(Object node) {
    return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(Json.write(node));
  }

  private static GlmException notFound(String id) {
    return new GlmException(new GlmError.NotFound("no file '" + id + "' for this account"));
  }

  public Mono<ServerResponse> upload(ServerRequest req, Dialect d) {
    return admission
        .authenticate(req)
        .flatMap(p -> receive(req, p))
        .flatMap(FilesHandler::json)
        .onErrorResume(
            GlmException.class,
            e -> {
              // the body may be partly unread: the connection cannot carry another request
              req.exchange().getResponse().getHeaders().set("Connection", "close");
              return Responses.error(req, d, e.error());
            });
  }

  private Mono<ObjectNode> receive(ServerRequest req, Principal p) {
    Optional<MediaType> ct;
    try {
      ct = req.headers().contentType();
    } catch (org.springframework.http.InvalidMediaTypeException e) {
      ct = Optional.empty();
    }
    if (ct.isEmpty() || !MediaType.MULTIPART_FORM_DATA.isCompatibleWith(ct.get())) {
      return Mono.error(
          GlmException.invalid(
              "an upload must be multipart/form-data with the fields 'file' and 'purpose'",
              "file"));
    }
    // the form's own fields and boundaries are small: a body much larger than the limit is a
    // 413 before a byte of it is read
    if (req.headers().contentLength().orElse(-1) > maxFileSize + 64 * 1024) {
      return Mono.error(tooLarge());
    }
    Path incoming;
    DefaultPartHttpMessageReader parts = new DefaultPartHttpMessageReader();
    try {
      incoming = store.incoming();
      parts.setFileStorageDirectory(incoming);
    } catch (IOException e) {
      return Mono.error(new UncheckedIOException(e));
    }
    parts.setMaxInMemorySize(256 * 1024);
    parts.setMaxDiskUsagePerPart(maxFileSize);
    parts.setMaxParts(8);
    MultipartHttpMessageReader reader = new MultipartHttpMessageReader(parts);
    Path tmp = incoming.resolve("upload-" + UUID.randomUUID());
    return reader
        .readMono(FORM, req.exchange().getRequest(), Map.of())
        .onErrorMap(DataBufferLimitException.class, e -> tooLarge())
        .onErrorMap(
            e -> !(e instanceof GlmException),
            e ->
                GlmException.invalid(
                    "the multipart body could not be read: " + e.getMessage(), "file"))
        .flatMap(
            form -> {
              for (String name : form.keySet()) {
                if (!FORM_FIELDS.contains(name)) {
                  return Mono.error(
                      GlmException.invalid(
                          "unknown form field '" + name + "'; an upload takes 'file' and 'purpose'",
                          name));
                }
              }
              if (form.get("purpose") == null
                  || !(form.getFirst("purpose") instanceof FormFieldPart pf)) {
                return Mono.error(
                    GlmException.invalid(
                        "'purpose' is required: one of " + String.join(", ", sorted()), "purpose"));
              }
              String purpose = pf.value().strip();
              if (!PURPOSES.contains(purpose)) {
                return Mono.error(
                    GlmException.invalid(
                        "purpose '"
                            + purpose
                            + "' is not supported; use one of "
                            + String.join(", ", sorted()),
                        "purpose"));
              }
              if (form.get("file") == null || !(form.getFirst("file") instanceof FilePart fp)) {
                return Mono.error(
                    GlmException.invalid("'file' is required: the file's content part", "file"));
              }
              String filename = filename(fp.filename());
              if (form.getFirst("knowledge_id") instanceof FormFieldPart kp) {
                if (!"retrieval".equals(purpose) || knowledge == null) {
                  return Mono.error(
                      GlmException.invalid(
                          knowledge == null
                              ? "knowledge bases are not enabled on this deployment"
                              : "'knowledge_id' goes with purpose 'retrieval'",
                          "knowledge_id"));
                }
                return fp.transferTo(tmp)
                    .then(knowledge.upload(p, kp.value().strip(), filename, tmp))
                    .doFinally(
                        s ->
                            form.values()
                                .forEach(
                                    l ->
                                        l.forEach(part -> part.delete().subscribe(null, e -> {}))));
              }
              return fp.transferTo(tmp)
                  .then(blocking(() -> check(p, filename, purpose, tmp)).map(StoredFile::view))
                  .doFinally(
                      s ->
                          form.values()
                              .forEach(
                                  l -> l.forEach(part -> part.delete().subscribe(null, e -> {}))));
            })
        .doFinally(
            s -> {
              try {
                Files.deleteIfExists(tmp);
              } catch (IOException e) {
                log.warn("cannot remove an upload's temporary file: {}", e.toString());
              }
            });
  }

  private static List<String> sorted() {
    return PURPOSES.stream().sorted().toList();
  }

  /** The client's name without any folder part (it is shown back, never used as a path). */
  static String filename(String given) {
    String n = given == null ? "" : given;
    n = n.substring(Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\')) + 1).strip();
    if (n.isEmpty()) {
      throw GlmException.invalid("the file part needs a filename", "file");
    }
    if (n.length() > 255) {
      throw GlmException.invalid("the filename is longer than 255 characters", "file");
    }
    return n;
  }

  private StoredFile check(Principal p, String filename, String purpose, Path tmp)
      throws IOException {
    long bytes = Files.size(tmp);
    if (bytes == 0) {
      throw GlmException.invalid("the file '" + filename + "' is empty (0 bytes)", "file");
    }
    if (bytes > maxFileSize) {
      throw tooLarge();
    }
    if ("batch".equals(purpose)) {
      String problem = JsonlCheck.problem(tmp);
      if (problem != null) {
        throw GlmException.invalid("'" + filename + "': " + problem, "file");
      }
    }
    long used = 0;
    for (StoredFile f : store.list(p.getTenantId())) {
      used += f.bytes();
    }
    if (used + bytes > tenantQuota) {
      throw GlmException.invalid(
          "this account's files would take "
              + (used + bytes)
              + " bytes, over its quota of "
              + tenantQuota
              + "; delete files first",
          "file");
    }
    return store.create(p.getTenantId(), filename, purpose, tmp, bytes);
  }

  public Mono<ServerResponse> list(ServerRequest req, Dialect d) {
    return admission
        .authenticate(req)
        .flatMap(
            p -> {
              for (String q : req.queryParams().keySet()) {
                if (!LIST_PARAMS.contains(q)) {
                  return Mono.error(
                      GlmException.invalid(
                          "unknown query parameter '"
                              + q
                              + "'; the list takes purpose, limit, after and order",
                          q));
                }
              }
              String purpose = req.queryParam("purpose").orElse(null);
              // batch_output: the output and error files of batches (never uploaded)
              if (purpose != null
                  && !PURPOSES.contains(purpose)
                  && !purpose.equals("batch_output")) {
                return Mono.error(
                    GlmException.invalid(
                        "purpose '" + purpose + "' is not one of " + String.join(", ", sorted()),
                        "purpose"));
              }
              int limit;
              try {
                limit = Integer.parseInt(req.queryParam("limit").orElse("" + MAX_LIST));
              } catch (NumberFormatException e) {
                limit = -1;
              }
              if (limit < 1 || limit > MAX_LIST) {
                return Mono.error(
                    GlmException.invalid(
                        "limit must be an integer from 1 to " + MAX_LIST, "limit"));
              }
              String order = req.queryParam("order").orElse("desc");
              if (!order.equals("asc") && !order.equals("desc")) {
                return Mono.error(GlmException.invalid("order must be 'asc' or 'desc'", "order"));
              }
              String after = req.queryParam("after").orElse(null);
              int n = limit;
              return blocking(() -> page(store.list(p.getTenantId()), purpose, n, order, after));
            })
        .flatMap(FilesHandler::json)
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  static ObjectNode page(
      List<StoredFile> all, String purpose, int limit, String order, String after) {
    Comparator<StoredFile> c =
        Comparator.comparingLong(StoredFile::createdAt).thenComparing(StoredFile::id);
    List<StoredFile> files =
        new ArrayList<>(
            all.stream().filter(f -> purpose == null || purpose.equals(f.purpose())).toList());
    files.sort(order.equals("asc") ? c : c.reversed());
    int start = 0;
    if (after != null) {
      int i = 0;
      while (i < files.size() && !files.get(i).id().equals(after)) {
        i++;
      }
      if (i == files.size()) {
        throw GlmException.invalid("after '" + after + "' is not a file of this account", "after");
      }
      start = i + 1;
    }
    int end = Math.min(files.size(), start + limit);
    ObjectNode n = Json.object();
    n.put("object", "list");
    ArrayNode data = n.putArray("data");
    for (StoredFile f : files.subList(start, end)) {
      data.add(f.view());
    }
    if (end > start) {
      n.put("first_id", files.get(start).id());
      n.put("last_id", files.get(end - 1).id());
    } else {
      n.putNull("first_id");
      n.putNull("last_id");
    }
    n.put("has_more", end < files.size());
    return n;
  }

  public Mono<ServerResponse> get(ServerRequest req, Dialect d) {
    String id = req.pathVariable("id");
    return admission
        .authenticate(req)
        .flatMap(p -> blocking(() -> store.get(p.getTenantId(), id)))
        .flatMap(o -> o.map(f -> json(f.view())).orElseGet(() -> Mono.error(notFound(id))))
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  public Mono<ServerResponse> content(ServerRequest req, Dialect d) {
    String id = req.pathVariable("id");
    return admission
        .authenticate(req)
        .flatMap(
            p ->
                blocking(
                    () -> {
                      Optional<StoredFile> f = store.get(p.getTenantId(), id);
                      if (f.isEmpty()) {
                        return Optional.<Object[]>empty();
                      }
                      Optional<InputStream> in = store.open(p.getTenantId(), id);
                      return in.map(s -> new Object[] {f.get(), s});
                    }))
        .flatMap(
            o -> {
              if (o.isEmpty()) {
                return Mono.error(notFound(id));
              }
              StoredFile f = (StoredFile) o.get()[0];
              InputStream in = (InputStream) o.get()[1];
              return ServerResponse.ok()
                  .contentType(MediaType.APPLICATION_OCTET_STREAM)
                  .contentLength(f.bytes())
                  .body(
                      BodyInserters.fromDataBuffers(
                          DataBufferUtils.readInputStream(
                                  () -> in, DefaultDataBufferFactory.sharedInstance, 64 * 1024)
                              .subscribeOn(Schedulers.boundedElastic())));
            })
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  public Mono<ServerResponse> delete(ServerRequest req, Dialect d) {
    String id = req.pathVariable("id");
    return admission
        .authenticate(req)
        .flatMap(p -> blocking(() -> store.delete(p.getTenantId(), id)))
        .flatMap(
            gone -> {
              if (!gone) {
                return Mono.error(notFound(id));
              }
              ObjectNode n = Json.object();
              n.put("id", id);
              n.put("object", "file");
              n.put("deleted", true);
              return json(n);
            })
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }
}
