package org.glmmaas.worker.usage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded, append-only, crash-safe queue of byte records on local disk: the usage publisher's
 * write-ahead log.
 *
 * <p>Records live in segment files {@code segment-<id>.log}; each record is {@code [int length][int
 * crc32c(payload)][payload]}. Durability is in two steps: {@link #append} returns once the bytes
 * are written to the file (the OS page cache: the record survives the JVM being killed), and {@link
 * #sync} forces everything appended so far to disk with one fdatasync (group commit: it survives a
 * host crash too). {@link #ack} moves the delivered cursor in memory only; {@link #checkpoint}
 * persists it in a {@code cursor} file (replaced atomically) and deletes segments wholly before it.
 * A crash therefore re-delivers at most the records acknowledged since the last checkpoint:
 * delivery is at-least-once and the consumer deduplicates. On open, a torn or corrupt tail of the
 * last segment (a crash mid-append) is cut off; earlier records are kept. Thread-safe: {@link
 * #sync} and {@link #checkpoint} do their disk flushes outside the monitor, so appends never wait
 * for an fsync (only a segment roll forces under it, once per segment).
 */
public final class UsageSpool implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UsageSpool.class);
  static final int HEADER = 8;
  static final int MAX_RECORD = 1 << 20;

  /** A position: segment id and byte offset in it. */
  public record Position(long segment, long offset) implements Comparable<Position> {
    @Override
    public int compareTo(Position o) {
      int c = Long.compare(segment, o.segment);
      return c != 0 ? c : Long.compare(offset, o.offset);
    }
  }

  /** A stored record and the position just after it (what to {@link #ack}). */
  public record Entry(byte[] payload, Position next) {}

  private final Path dir;
  private final long maxBytes;
  private final long segmentBytes;
  private final TreeMap<Long, Long> segments = new TreeMap<>(); // id -> size
  private final Object checkpointLock = new Object();
  private FileChannel active;
  private long activeId;
  private Position cursor;
  private Position persistedCursor;
  private long pendingRecords;
  private long numAppended; // records appended since open
  private volatile long numSynced; // records appended since open and known forced to disk
  private long numSyncs;
  private boolean closed;

  public UsageSpool(Path dir, long maxBytes, long segmentBytes) {
    if (maxBytes < 1024 || segmentBytes < 1024) {
      throw new IllegalArgumentException("spool sizes must be at least 1 KiB");
    }
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.segmentBytes = Math.min(segmentBytes, maxBytes);
    try {
      Files.createDirectories(dir);
      open();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open usage spool " + dir, e);
    }
  }

  private void open() throws IOException {
    try (var files = Files.list(dir)) {
      files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.matches("segment-\\d{16}\\.log"))
          .forEach(n -> segments.put(Long.parseLong(n.substring(8, 24)), 0L));
    }
    for (long id : segments.keySet()) {
      segments.put(id, Files.size(segment(id)));
    }
    cursor = readCursor();
    if (segments.isEmpty()) {
      activeId = Math.max(cursor.segment(), 0);
      segments.put(activeId, 0L);
    } else {
      activeId = segments.lastKey();
      long valid = scanValidLength(activeId);
      if (valid < segments.get(activeId)) {
        log.warn(
            "Usage spool: cut a torn tail of {} bytes off {} (crash during an append)",
            segments.get(activeId) - valid,
            segment(activeId).getFileName());
        try (FileChannel ch = FileChannel.open(segment(activeId), StandardOpenOption.WRITE)) {
          ch.truncate(valid);
          ch.force(true);
        }
        segments.put(activeId, valid);
      }
    }
    active =
        FileChannel.open(segment(activeId), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    if (cursor.segment() < segments.firstKey()) {
      cursor = new Position(segments.firstKey(), 0);
    }
    pendingRecords = countFrom(cursor);
    persistedCursor = cursor;
    if (pendingRecords == 0 && bytes() > 0) {
      if (segments.get(activeId) > 0) {
        roll(); // everything was delivered: start afresh so the old segments can go
      }
      cursor = new Position(activeId, 0);
      checkpoint();
    }
  }

  private Path segment(long id) {
    return dir.resolve("segment-%016d.log".formatted(id));
  }

  private Position readCursor() throws IOException {
    Path file = dir.resolve("cursor");
    if (!Files.exists(file)) {
      return new Position(segments.isEmpty() ? 0 : segments.firstKey(), 0);
    }
    String[] parts = Files.readString(file, StandardCharsets.US_ASCII).trim().split(" ");
    try {
      return new Position(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    } catch (RuntimeException e) {
      log.error("Usage spool: unreadable cursor file, re-sending from the oldest segment");
      return new Position(segments.isEmpty() ? 0 : segments.firstKey(), 0);
    }
  }

  /** Length of the prefix of a segment made of whole records with good checksums. */
  private long scanValidLength(long id) throws IOException {
    long pos = 0;
    try (FileChannel ch = FileChannel.open(segment(id), StandardOpenOption.READ)) {
      byte[] payload;
      while ((payload = readAt(ch, pos)) != null) {
        pos += HEADER + payload.length;
      }
    }
    return pos;
  }

  /** The payload at {@code pos}, or null at the end, on a torn record or a checksum mismatch. */
  private byte[] readAt(FileChannel ch, long pos) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(HEADER);
    if (!readFully(ch, header, pos)) {
      return null;
    }
    int length = header.getInt(0);
    int crc = header.getInt(4);
    if (length < 0 || length > MAX_RECORD) {
      return null;
    }
    ByteBuffer body = ByteBuffer.allocate(length);
    if (!readFully(ch, body, pos + HEADER)) {
      return null;
    }
    CRC32C c = new CRC32C();
    c.update(body.array(), 0, length);
    if ((int) c.getValue() != crc) {
      return null;
    }
    return body.array();
  }

  private static boolean readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) {
        return false;
      }
    }
    return true;
  }

  private long countFrom(Position from) throws IOException {
    long n = 0;
    Position p = from;
    while (true) {
      List<Entry> batch = readFrom(p, 10_000);
      if (batch.isEmpty()) {
        return n;
      }
      n += batch.size();
      p = batch.getLast().next();
    }
  }

  /**
   * Appends one record: written to the file (it survives the process being killed) but not yet
   * forced to disk; call {@link #sync} for that.
   *
   * @return the position just after the record (what to {@link #ack} once it is delivered)
   * @throws SpoolFullException when the spool would pass its size limit (the record is not stored)
   */
  public synchronized Position append(byte[] payload) {
    ensureOpen();
    if (payload.length > MAX_RECORD) {
      throw new IllegalArgumentException("record of " + payload.length + " bytes is too large");
    }
    long size = HEADER + payload.length;
    if (bytes() + size > maxBytes) {
      throw new SpoolFullException("usage spool full (" + bytes() + " of " + maxBytes + " bytes)");
    }
    try {
      if (segments.get(activeId) > 0 && segments.get(activeId) + size > segmentBytes) {
        roll();
      }
      CRC32C c = new CRC32C();
      c.update(payload);
      ByteBuffer buf = ByteBuffer.allocate((int) size);
      buf.putInt(payload.length).putInt((int) c.getValue()).put(payload).flip();
      long pos = segments.get(activeId);
      while (buf.hasRemaining()) {
        pos += active.write(buf, pos);
      }
      segments.put(activeId, pos);
      pendingRecords++;
      numAppended++;
      return new Position(activeId, pos);
    } catch (IOException e) {
      throw new UncheckedIOException("usage spool append failed", e);
    }
  }

  /**
   * Forces every record appended so far to disk. Concurrent and repeated calls share one fdatasync
   * (group commit); it runs outside the monitor, so appends go on meanwhile.
   */
  public void sync() {
    FileChannel ch;
    long upTo;
    synchronized (this) {
      ensureOpen();
      if (numSynced == numAppended) {
        return;
      }
      ch = active;
      upTo = numAppended;
    }
    try {
      ch.force(false);
    } catch (java.nio.channels.ClosedChannelException e) {
      synchronized (this) { // rolled meanwhile (roll forces the old segment) or closed
        if (closed) {
          return;
        }
        ch = active;
      }
      try {
        ch.force(false);
      } catch (IOException again) {
        throw new UncheckedIOException("usage spool sync failed", again);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("usage spool sync failed", e);
    }
    synchronized (this) {
      numSynced = Math.max(numSynced, upTo);
      numSyncs++;
    }
  }

  /**
   * fdatasync calls made by {@link #sync} since open (records per sync = the group-commit size).
   */
  public synchronized long numSyncs() {
    return numSyncs;
  }

  private void roll() throws IOException {
    active.force(false);
    active.close();
    activeId++;
    segments.put(activeId, 0L);
    active =
        FileChannel.open(
            segment(activeId), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    forceDir();
  }

  /** Up to {@code max} undelivered records, oldest first. */
  public synchronized List<Entry> peek(int max) {
    ensureOpen();
    try {
      return readFrom(cursor, max);
    } catch (IOException e) {
      throw new UncheckedIOException("usage spool read failed", e);
    }
  }

  private List<Entry> readFrom(Position from, int max) throws IOException {
    List<Entry> out = new ArrayList<>();
    long seg = from.segment();
    long pos = from.offset();
    while (out.size() < max && segments.containsKey(seg)) {
      long end = segments.get(seg);
      try (FileChannel ch = FileChannel.open(segment(seg), StandardOpenOption.READ)) {
        while (out.size() < max && pos < end) {
          byte[] payload = readAt(ch, pos);
          if (payload == null) {
            log.error(
                "Usage spool: corrupt record in {} at {}; skipping the rest of that segment",
                segment(seg).getFileName(),
                pos);
            pos = end;
            break;
          }
          pos += HEADER + payload.length;
          out.add(new Entry(payload, new Position(seg, pos)));
        }
      }
      if (pos >= end && segments.higherKey(seg) != null) {
        seg = segments.higherKey(seg);
        pos = 0;
      } else {
        break;
      }
    }
    return out;
  }

  /**
   * Marks every record before {@code next} as delivered, in memory; {@link #checkpoint} persists
   * it. A position at or before the cursor is ignored (acks may arrive late or twice).
   */
  public synchronized void ack(Position next, int numRecords) {
    ensureOpen();
    if (next.compareTo(cursor) <= 0) {
      return;
    }
    cursor = next;
    pendingRecords = Math.max(0, pendingRecords - numRecords);
  }

  /**
   * Persists the delivered cursor (if it moved) and deletes the segments wholly before it. Until
   * then a crash re-sends what was acknowledged after the previous checkpoint. The file writes and
   * fsyncs run outside the monitor, so appends and acks do not wait for them.
   */
  public void checkpoint() {
    synchronized (checkpointLock) {
      Position at;
      synchronized (this) {
        ensureOpen();
        if (cursor.equals(persistedCursor)) {
          return;
        }
        at = cursor;
      }
      List<Long> obsolete;
      try {
        writeCursor(at);
      } catch (IOException e) {
        throw new UncheckedIOException("usage spool cursor update failed", e);
      }
      synchronized (this) {
        persistedCursor = at;
        obsolete = new ArrayList<>(segments.headMap(at.segment()).keySet());
        obsolete.forEach(segments::remove);
      }
      for (Long id : obsolete) {
        try {
          Files.deleteIfExists(segment(id));
        } catch (IOException e) {
          log.warn(
              "Usage spool: cannot delete delivered {}: {}",
              segment(id).getFileName(),
              e.toString());
        }
      }
    }
  }

  private void writeCursor(Position at) throws IOException {
    Path tmp = dir.resolve("cursor.tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(
          ByteBuffer.wrap(
              (at.segment() + " " + at.offset() + "\n").getBytes(StandardCharsets.US_ASCII)));
      ch.force(true);
    }
    try {
      Files.move(
          tmp,
          dir.resolve("cursor"),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, dir.resolve("cursor"), StandardCopyOption.REPLACE_EXISTING);
    }
    forceDir();
  }

  private void forceDir() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException ignored) {
      // some file systems cannot fsync a directory; the data files themselves are forced
    }
  }

  /** Bytes the spool occupies on disk (undelivered records plus the delivered part of the head). */
  public synchronized long bytes() {
    return segments.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Bytes of the undelivered records (from the cursor to the end). */
  public synchronized long pendingBytes() {
    long total = 0;
    for (var e : segments.tailMap(cursor.segment()).entrySet()) {
      total += e.getValue();
    }
    return Math.max(0, total - cursor.offset());
  }

  /** Undelivered records. */
  public synchronized long pendingRecords() {
    return pendingRecords;
  }

  public synchronized boolean isEmpty() {
    return pendingRecords == 0;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("usage spool is closed");
    }
  }

  @Override
  public void close() {
    try {
      checkpoint(); // outside the monitor: it takes the checkpoint lock first
    } catch (UncheckedIOException e) {
      log.warn(
          "Usage spool: last checkpoint failed ({}); delivered records may be re-sent",
          e.toString());
    } catch (IllegalStateException alreadyClosed) {
      return;
    }
    synchronized (this) {
      closeFiles();
    }
  }

  private void closeFiles() {
    if (!closed) {
      closed = true;
      try {
        active.force(false);
        active.close();
      } catch (IOException e) {
        log.warn("Usage spool close failed: {}", e.toString());
      }
    }
  }
}
