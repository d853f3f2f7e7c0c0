package org.glmmaas.knowledge.index;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Bits;

/**
 * One Lucene index per knowledge base under {@code root/<knowledge id>}: a document per chunk with
 * its id and document id as keyword fields and its vector in a {@link KnnFloatVectorField} (HNSW
 * graph, dot-product similarity on the workers' unit-length vectors = cosine). One index per
 * knowledge base keeps searches free of filters, fixes the vector width per index (a knowledge base
 * has one embedding model) and makes deleting a knowledge base a folder removal.
 *
 * <p>{@link #upsert} replaces by chunk id ({@code updateDocument}) and commits before returning, so
 * a crash after it keeps the vectors and a re-run of the same batch does not duplicate them.
 */
public final class LuceneVectorIndex implements VectorIndex {

  static final String ID = "id";
  static final String DOC = "doc";
  static final String VECTOR = "v";
  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /**
   * The HNSW graph's shape and the search's candidate list.
   *
   * @param maxConn neighbours per node (Lucene's M; its default 16)
   * @param beamWidth candidates while building the graph (its default 100)
   * @param candidates nearest neighbours searched for before the top k are cut (Lucene's k, which
   *     is also the search beam): recall rises with it, latency too
   * @param exactLimit a knowledge base with at most this many chunks is searched exactly (every
   *     vector scored, SIMD): recall 1.0, at a cost linear in its size; above it, the HNSW graph
   */
  public record Hnsw(int maxConn, int beamWidth, int candidates, int exactLimit) {
    public static final Hnsw DEFAULT = new Hnsw(16, 100, 256, 100_000);

    public Hnsw {
      if (maxConn < 2 || maxConn > Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN) {
        throw new IllegalArgumentException(
            "maxConn must be 2.." + Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN);
      }
      if (beamWidth < 1 || beamWidth > Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH) {
        throw new IllegalArgumentException(
            "beamWidth must be 1.." + Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH);
      }
      if (candidates < 1 || candidates > 10_000) {
        throw new IllegalArgumentException("candidates must be 1..10000");
      }
      if (exactLimit < 0) {
        throw new IllegalArgumentException("exactLimit must be >= 0");
      }
    }
  }

  private final Path root;
  private final Hnsw hnsw;
  private final Map<String, Open> open = new ConcurrentHashMap<>();

  private record Open(IndexWriter writer, SearcherManager searchers) {}

  public LuceneVectorIndex(Path root) {
    this(root, Hnsw.DEFAULT);
  }

  public LuceneVectorIndex(Path root, Hnsw hnsw) {
    this.root = root;
    this.hnsw = hnsw;
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the index folder " + root, e);
    }
  }

  private Path dir(String knowledgeId) {
    if (!SAFE_ID.matcher(knowledgeId).matches()) {
      throw new IllegalArgumentException("bad knowledge id");
    }
    return root.resolve(knowledgeId);
  }

  private Open open(String knowledgeId) {
    return open.computeIfAbsent(
        knowledgeId,
        id -> {
          try {
            IndexWriterConfig config = new IndexWriterConfig();
            config.setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND);
            // the graph's shape is a write-time setting: segments record their format, and any
            // reader (the default codec) reads them whatever maxConn and beamWidth they were built
            // with
            KnnVectorsFormat vectors =
                new Lucene99HnswVectorsFormat(hnsw.maxConn(), hnsw.beamWidth());
            config.setCodec(
                new Lucene104Codec() {
                  @Override
                  public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                    return vectors;
                  }
                });
            IndexWriter writer = new IndexWriter(FSDirectory.open(dir(id)), config);
            writer.commit();
            return new Open(writer, new SearcherManager(writer, null));
          } catch (IOException e) {
            throw new UncheckedIOException("cannot open the index of " + id, e);
          }
        });
  }

  @Override
  public void upsert(String knowledgeId, List<Entry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    Open o = open(knowledgeId);
    try {
      for (Entry e : entries) {
        Document d = new Document();
        d.add(new StringField(ID, e.chunkId(), Field.Store.YES));
        d.add(new StringField(DOC, e.documentId(), Field.Store.YES));
        d.add(new KnnFloatVectorField(VECTOR, e.vector(), VectorSimilarityFunction.DOT_PRODUCT));
        o.writer.updateDocument(new Term(ID, e.chunkId()), d);
      }
      o.writer.commit();
      o.searchers.maybeRefreshBlocking();
    } catch (IOException e) {
      throw new UncheckedIOException("index write failed for " + knowledgeId, e);
    }
  }

  @Override
  public void deleteDocument(String knowledgeId, String documentId) {
    if (!Files.isDirectory(dir(knowledgeId))) {
      return;
    }
    Open o = open(knowledgeId);
    try {
      o.writer.deleteDocuments(new Term(DOC, documentId));
      o.writer.commit();
      o.searchers.maybeRefreshBlocking();
    } catch (IOException e) {
      throw new UncheckedIOException("index delete failed for " + knowledgeId, e);
    }
  }

  @Override
  public synchronized void deleteKnowledge(String knowledgeId) {
    Path dir = dir(knowledgeId);
    Open o = open.remove(knowledgeId);
    try {
      if (o != null) {
        o.searchers.close();
        o.writer.rollback();
      }
      if (Files.isDirectory(dir)) {
        try (Stream<Path> files = Files.walk(dir)) {
          for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the index of " + knowledgeId, e);
    }
  }

  @Override
  public List<Hit> search(String knowledgeId, float[] query, int k) {
    if (!Files.isDirectory(dir(knowledgeId))) {
      return List.of();
    }
    Open o = open(knowledgeId);
    IndexSearcher searcher = null;
    try {
      searcher = o.searchers.acquire();
      if (searcher.getIndexReader().numDocs() <= hnsw.exactLimit()) {
        return exact(searcher, query, k);
      }
      // a wider beam than k (Lucene's k is also the HNSW candidate list) for recall
      int beam = Math.max(k, hnsw.candidates());
      TopDocs top = searcher.search(new KnnFloatVectorQuery(VECTOR, query, beam), beam);
      StoredFields stored = searcher.storedFields();
      List<Hit> hits = new ArrayList<>(Math.min(k, top.scoreDocs.length));
      for (ScoreDoc sd : top.scoreDocs) {
        if (hits.size() == k) {
          break;
        }
        Document d = stored.document(sd.doc);
        // Lucene's DOT_PRODUCT score is (1 + dot) / 2
        hits.add(new Hit(d.get(ID), d.get(DOC), sd.score));
      }
      return hits;
    } catch (IOException e) {
      throw new UncheckedIOException("index search failed for " + knowledgeId, e);
    } finally {
      if (searcher != null) {
        try {
          o.searchers.release(searcher);
        } catch (IOException ignored) {
          // released or closed
        }
      }
    }
  }

  /**
   * Every live vector scored against the query (Lucene's flat-vector scorer: SIMD over the mapped
   * file with jdk.incubator.vector), the k best kept; scores as the HNSW query's ((1 + dot) / 2).
   */
  private static List<Hit> exact(IndexSearcher searcher, float[] query, int k) throws IOException {
    java.util.PriorityQueue<ScoreDoc> best =
        new java.util.PriorityQueue<>(
            k + 1,
            Comparator.<ScoreDoc>comparingDouble(sd -> sd.score).thenComparing(sd -> -sd.doc));
    for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
      org.apache.lucene.index.FloatVectorValues values = leaf.reader().getFloatVectorValues(VECTOR);
      if (values == null) {
        continue;
      }
      org.apache.lucene.search.VectorScorer scorer = values.scorer(query);
      if (scorer == null) {
        continue;
      }
      Bits live = leaf.reader().getLiveDocs();
      org.apache.lucene.search.DocIdSetIterator it = scorer.iterator();
      for (int doc = it.nextDoc();
          doc != org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS;
          doc = it.nextDoc()) {
        if (live != null && !live.get(doc)) {
          continue;
        }
        float score = scorer.score();
        if (best.size() < k) {
          best.add(new ScoreDoc(leaf.docBase + doc, score));
        } else if (score > best.peek().score) {
          best.poll();
          best.add(new ScoreDoc(leaf.docBase + doc, score));
        }
      }
    }
    List<ScoreDoc> top = new ArrayList<>(best);
    top.sort(Comparator.<ScoreDoc>comparingDouble(sd -> -sd.score).thenComparingInt(sd -> sd.doc));
    StoredFields stored = searcher.storedFields();
    List<Hit> hits = new ArrayList<>(top.size());
    for (ScoreDoc sd : top) {
      Document d = stored.document(sd.doc);
      hits.add(new Hit(d.get(ID), d.get(DOC), sd.score));
    }
    return hits;
  }

  @Override
  public Map<String, Integer> chunkIdCounts(String knowledgeId) {
    Map<String, Integer> counts = new HashMap<>();
    if (!Files.isDirectory(dir(knowledgeId))) {
      return counts;
    }
    Open o = open(knowledgeId);
    try (DirectoryReader reader = DirectoryReader.open(o.writer)) {
      for (LeafReaderContext leaf : reader.leaves()) {
        LeafReader r = leaf.reader();
        Bits live = r.getLiveDocs();
        StoredFields stored = r.storedFields();
        for (int i = 0; i < r.maxDoc(); i++) {
          if (live == null || live.get(i)) {
            counts.merge(stored.document(i).get(ID), 1, Integer::sum);
          }
        }
      }
      return counts;
    } catch (IOException e) {
      throw new UncheckedIOException("index read failed for " + knowledgeId, e);
    }
  }

  @Override
  public synchronized void close() {
    for (Open o : open.values()) {
      try {
        o.searchers.close();
        o.writer.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    open.clear();
  }
}
