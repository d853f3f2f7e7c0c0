package org.glmmaas.knowledge.support;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.knowledge.embed.Embedder;
import org.glmmaas.knowledge.ingest.TokenEstimate;

/**
 * Test embedder: a text's vector is a unit vector drawn from a generator seeded by the text's
 * SHA-256, so equal texts embed identically and different ones are nearly orthogonal (as with the
 * demo model's random weights). Records every call's request id; can be made to fail.
 */
public final class FakeEmbedder implements Embedder {

  public static final int DIMENSIONS = 64;

  public final List<String> requestIds = new CopyOnWriteArrayList<>();
  public final AtomicInteger calls = new AtomicInteger();

  /** When >= 0: the call with this index (0-based) throws, like a process dying mid-job. */
  public volatile int crashAtCall = -1;

  @Override
  public Result embed(String model, List<String> texts, String requestId, Caller caller) {
    int n = calls.getAndIncrement();
    if (n == crashAtCall) {
      throw new IllegalStateException("simulated crash at embed call " + n);
    }
    requestIds.add(requestId);
    List<float[]> out = new ArrayList<>();
    int tokens = 0;
    for (String t : texts) {
      out.add(vector(t));
      tokens += TokenEstimate.of(t) + 2;
    }
    return new Result(out, tokens);
  }

  public static float[] vector(String text) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      long seed = 0;
      for (int i = 0; i < 8; i++) {
        seed = (seed << 8) | (h[i] & 0xff);
      }
      Random r = new Random(seed);
      float[] v = new float[DIMENSIONS];
      double norm = 0;
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) r.nextGaussian();
        norm += v[i] * v[i];
      }
      float inv = (float) (1 / Math.sqrt(norm));
      for (int i = 0; i < v.length; i++) {
        v[i] *= inv;
      }
      return v;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
