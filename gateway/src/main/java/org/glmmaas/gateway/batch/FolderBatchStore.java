package org.glmmaas.gateway.batch;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.glmmaas.gateway.error.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Durable batch state in the gateway's data folder, one folder per tenant ({@code
 * <data-dir>/batches/<sha-256 of the tenant, 32 hex>/}):
 *
 * <pre>
 * &lt;id&gt;.json          the batch object (rewritten atomically on every change)
 * &lt;id&gt;.input.jsonl   the validated lines, as uploaded (Kafka records point into it)
 * &lt;id&gt;.output.jsonl  one line per request that succeeded, appended (and fsynced) as it finishes
 * &lt;id&gt;.errors.jsonl  one line per request that failed, was cancelled or expired
 * </pre>
 *
 * Each custom_id has at most one line in output + errors together: {@link Results#claim} and {@link
 * Results#append} refuse a second one, across restarts (the sets are rebuilt from the files; a line
 * cut short by a crash is dropped, so that request runs again).
 */
public final class FolderBatchStore {

  private final Path root;
  private final Map<String, Results> results = new ConcurrentHashMap<>();

  public FolderBatchStore(Path dataDir) {
    this.root = dataDir.resolve("batches");
  }

  static String hash(String tenantId) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256").digest(tenantId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private Path dir(String tenantId) {
    return root.resolve(hash(tenantId));
  }

  private Path file(String tenantId, String id, String suffix) {
    return dir(tenantId).resolve(BatchIds.check(id) + suffix);
  }

  Path input(String tenantId, String id) {
    return file(tenantId, id, ".input.jsonl");
  }

  Path output(String tenantId, String id) {
    return file(tenantId, id, ".output.jsonl");
  }

  Path errors(String tenantId, String id) {
    return file(tenantId, id, ".errors.jsonl");
  }

  /** Writes the batch object (its {@code _tenant} says whose) atomically. */
  public void put(ObjectNode state) throws IOException {
    String tenant = state.get("_tenant").asString();
    String id = state.get("id").asString();
    Files.createDirectories(dir(tenant));
    Path tmp = file(tenant, id, ".json.tmp");
    Files.writeString(tmp, Json.write(state), StandardCharsets.UTF_8);
    try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      c.force(true);
    }
    try {
      Files.move(
          tmp,
          file(tenant, id, ".json"),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file(tenant, id, ".json"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The tenant's batch, or empty (also when another tenant owns the id). */
  public Optional<ObjectNode> get(String tenantId, String id) throws IOException {
    if (!BatchIds.valid(id)) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          (ObjectNode)
              Json.MAPPER.readTree(
                  Files.readString(file(tenantId, id, ".json"), StandardCharsets.UTF_8)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** The tenant's batches, in no particular order. */
  public List<ObjectNode> list(String tenantId) throws IOException {
    return read(dir(tenantId));
  }

  /** Every tenant's batches (for the sweeper). */
  public List<ObjectNode> all() throws IOException {
    List<ObjectNode> out = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
      for (Path d : ds) {
        if (Files.isDirectory(d)) {
          out.addAll(read(d));
        }
      }
    }
    return out;
  }

  private static List<ObjectNode> read(Path dir) throws IOException {
    List<ObjectNode> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "batch_*.json")) {
      for (Path p : ds) {
        try {
          out.add((ObjectNode) Json.MAPPER.readTree(Files.readString(p, StandardCharsets.UTF_8)));
        } catch (NoSuchFileException e) {
          // deleted meanwhile
        }
      }
    }
    return out;
  }

  /** Writes the validated input lines; answers each line's (offset, length) in the copy. */
  long[][] writeInput(String tenantId, String id, List<byte[]> lines) throws IOException {
    Files.createDirectories(dir(tenantId));
    long[][] at = new long[lines.size()][2];
    try (FileChannel c =
        FileChannel.open(
            input(tenantId, id),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      long pos = 0;
      for (int i = 0; i < lines.size(); i++) {
        byte[] l = lines.get(i);
        at[i][0] = pos;
        at[i][1] = l.length;
        ByteBuffer b = ByteBuffer.allocate(l.length + 1).put(l).put((byte) '\n').flip();
        while (b.hasRemaining()) {
          pos += c.write(b);
        }
      }
      c.force(true);
    }
    return at;
  }

  /** One validated line of the input copy. */
  byte[] readInput(String tenantId, String id, long offset, int length) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(input(tenantId, id).toFile(), "r")) {
      byte[] b = new byte[length];
      f.seek(offset);
      f.readFully(b);
      return b;
    }
  }

  /** Every custom_id of the input copy. */
  List<String> inputIds(String tenantId, String id) throws IOException {
    List<String> ids = new ArrayList<>();
    for (String l : Files.readAllLines(input(tenantId, id), StandardCharsets.UTF_8)) {
      if (!l.isBlank()) {
        ids.add(Json.MAPPER.readTree(l).get("custom_id").asString());
      }
    }
    return ids;
  }

  /** The result lines of a batch (loaded from its files on first use). */
  public Results results(String tenantId, String id) throws IOException {
    String key = hash(tenantId) + "/" + BatchIds.check(id);
    Results r = results.get(key);
    if (r == null) {
      Results loaded = new Results(output(tenantId, id), errors(tenantId, id));
      r = results.putIfAbsent(key, loaded);
      if (r == null) {
        r = loaded;
      }
    }
    return r;
  }

  /** The output and error lines of one batch, each custom_id once. */
  public static final class Results {
    private final Path output;
    private final Path errors;
    private final Set<String> done = new HashSet<>();
    private final Set<String> claimed = new HashSet<>();
    private int completed;
    private int failed;

    Results(Path output, Path errors) throws IOException {
      this.output = output;
      this.errors = errors;
      completed = load(output);
      failed = load(errors);
    }

    private int load(Path p) throws IOException {
      if (!Files.exists(p)) {
        return 0;
      }
      byte[] all = Files.readAllBytes(p);
      int end = all.length;
      while (end > 0 && all[end - 1] != '\n') {
        end--; // a line cut short by a crash: dropped, that request runs again
      }
      if (end < all.length) {
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
          c.truncate(end);
          c.force(true);
        }
      }
      int n = 0;
      for (String l : new String(all, 0, end, StandardCharsets.UTF_8).split("\n")) {
        if (!l.isBlank()) {
          JsonNode c = Json.MAPPER.readTree(l).get("custom_id");
          if (c != null && !c.isNull()) {
            done.add(c.asString());
          }
          n++;
        }
      }
      return n;
    }

    /** Whether {@code customId} has a line already. */
    public synchronized boolean has(String customId) {
      return done.contains(customId);
    }

    /** Claims a line to run: false when it has a result or runs already. */
    public synchronized boolean claim(String customId) {
      if (done.contains(customId) || claimed.contains(customId)) {
        return false;
      }
      claimed.add(customId);
      return true;
    }

    /** Gives a claim back without a result (the line will run again). */
    public synchronized void unclaim(String customId) {
      claimed.remove(customId);
    }

    /**
     * Appends (and fsyncs) the line of {@code customId} to the output or the error file; false when
     * it has a line already.
     */
    public synchronized boolean append(String customId, String json, boolean error)
        throws IOException {
      claimed.remove(customId);
      if (customId != null && !done.add(customId)) {
        return false;
      }
      Path p = error ? errors : output;
      Files.createDirectories(p.getParent());
      try (FileChannel c =
          FileChannel.open(
              p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
        ByteBuffer b = ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
          c.write(b);
        }
        c.force(false);
      }
      if (error) {
        failed++;
      } else {
        completed++;
      }
      return true;
    }

    /** custom_ids neither done nor running, among {@code ids}: claimed for the caller. */
    public synchronized List<String> claimMissing(List<String> ids) {
      List<String> out = new ArrayList<>();
      for (String id : ids) {
        if (!done.contains(id) && !claimed.contains(id)) {
          claimed.add(id);
          out.add(id);
        }
      }
      return out;
    }

    public synchronized int completed() {
      return completed;
    }

    public synchronized int failed() {
      return failed;
    }

    public synchronized int running() {
      return claimed.size();
    }

    /** The output line of {@code customId}, or empty. */
    public synchronized Optional<JsonNode> outputLine(String customId) throws IOException {
      if (!Files.exists(output)) {
        return Optional.empty();
      }
      for (String l : Files.readAllLines(output, StandardCharsets.UTF_8)) {
        if (l.isBlank()) {
          continue;
        }
        JsonNode n = Json.MAPPER.readTree(l);
        if (customId.equals(n.path("custom_id").asString(null))) {
          return Optional.of(n);
        }
      }
      return Optional.empty();
    }

    Path output() {
      return output;
    }

    Path errors() {
      return errors;
    }
  }
}
