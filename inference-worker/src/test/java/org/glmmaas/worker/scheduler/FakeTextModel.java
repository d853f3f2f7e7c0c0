package org.glmmaas.worker.scheduler;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.sample.SamplingConfig;
import org.glmmaas.worker.text.ChatTemplate;
import org.glmmaas.worker.text.ChatTurn;
import org.glmmaas.worker.text.StreamDecoder;
import org.glmmaas.worker.text.TextModel;
import org.glmmaas.worker.text.Tokenizer;

/**
 * A tiny text model for tests: token 0 is end-of-generation, token t >= 1 is the letter {@code 'a'
 * + (t - 1) % 26}; text encodes letter by letter. Greedy picks the lowest-id argmax, sampling draws
 * from softmax(logits / T) with the request's seeded stream.
 */
public class FakeTextModel implements TextModel {

  private final int vocabSize;

  public FakeTextModel(int vocabSize) {
    this.vocabSize = vocabSize;
  }

  public static SamplingConfig greedy(int maxTokens) {
    return new SamplingConfig(
        0f, 1f, 0, 0f, 1f, 0f, 0f, false, 0L, maxTokens, List.of(), false, false, 0);
  }

  public static SamplingConfig seeded(long seed, int maxTokens) {
    return new SamplingConfig(
        1f, 1f, 0, 0f, 1f, 0f, 0f, true, seed, maxTokens, List.of(), false, false, 0);
  }

  private org.glmmaas.worker.grammar.ConstraintFactory constraints;

  @Override
  public synchronized org.glmmaas.worker.grammar.ConstraintFactory constraints() {
    if (constraints == null) {
      constraints =
          new org.glmmaas.worker.grammar.GrammarEngine(
              org.glmmaas.worker.text.GlmTextModel.vocabulary(tokenizer()));
    }
    return constraints;
  }

  @Override
  public Tokenizer tokenizer() {
    return new Tokenizer() {
      @Override
      public int[] encode(String text, boolean parseSpecial) {
        return text.chars()
            .map(c -> 1 + Math.floorMod(c - 'a', Math.min(26, vocabSize - 1)))
            .toArray();
      }

      @Override
      public int[] encode(String text, java.util.BitSet literal) {
        return encode(text, true);
      }

      @Override
      public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
          sb.append(piece(id));
        }
        return sb.toString();
      }

      @Override
      public byte[] tokenBytes(int id) {
        return piece(id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      }

      @Override
      public int vocabSize() {
        return vocabSize;
      }

      @Override
      public int[] endOfGenerationIds() {
        return new int[] {0};
      }

      @Override
      public boolean isEndOfGeneration(int id) {
        return id == 0;
      }
    };
  }

  static String piece(int id) {
    return id == 0 ? "<eos>" : String.valueOf((char) ('a' + (id - 1) % 26));
  }

  @Override
  public ChatTemplate chatTemplate() {
    return (org.glmmaas.worker.text.ChatInput input, boolean addGenerationPrompt) -> {
      StringBuilder sb = new StringBuilder();
      for (ChatTurn t : input.messages()) {
        sb.append(t.content());
      }
      return new org.glmmaas.worker.text.RenderedChat(sb.toString(), new java.util.BitSet());
    };
  }

  @Override
  public Sampler newSampler(SamplingConfig config) {
    SplittableRandom rnd = new SplittableRandom(config.seed());
    return new Sampler() {
      @Override
      public Sample sample(FloatBuffer logits, int offset) {
        int best = 0;
        for (int t = 1; t < vocabSize; t++) {
          if (logits.get(offset + t) > logits.get(offset + best)) {
            best = t;
          }
        }
        if (config.greedy()) {
          return new Sample(best, 0f, List.of());
        }
        double max = logits.get(offset + best);
        double[] p = new double[vocabSize];
        double sum = 0;
        for (int t = 0; t < vocabSize; t++) {
          p[t] = Math.exp((logits.get(offset + t) - max) / config.temperature());
          sum += p[t];
        }
        double u = rnd.nextDouble() * sum;
        for (int t = 0; t < vocabSize; t++) {
          u -= p[t];
          if (u <= 0) {
            return new Sample(t, (float) Math.log(p[t] / sum), List.of());
          }
        }
        return new Sample(vocabSize - 1, 0f, List.of());
      }

      @Override
      public void accept(int tokenId, boolean generated) {}
    };
  }

  @Override
  public StreamDecoder newStreamDecoder(List<String> stopStrings) {
    return new FakeStreamDecoder(stopStrings);
  }

  /** Holds back text that may start a stop string; never emits the stop string. */
  static final class FakeStreamDecoder implements StreamDecoder {
    private final List<String> stops;
    private final StringBuilder all = new StringBuilder();
    private int emitted;
    private String matched;

    FakeStreamDecoder(List<String> stops) {
      this.stops = new ArrayList<>(stops);
    }

    @Override
    public String push(int tokenId) {
      if (matched != null) {
        return "";
      }
      all.append(piece(tokenId));
      for (String s : stops) {
        int at = all.indexOf(s);
        if (at >= 0) {
          matched = s;
          all.setLength(at);
          String out = all.substring(Math.min(emitted, at));
          emitted = all.length();
          return out;
        }
      }
      int safe = all.length();
      for (String s : stops) {
        for (int k = Math.min(s.length() - 1, all.length()); k > 0; k--) {
          if (all.substring(all.length() - k).equals(s.substring(0, k))) {
            safe = Math.min(safe, all.length() - k);
            break;
          }
        }
      }
      String out = safe > emitted ? all.substring(emitted, safe) : "";
      emitted = Math.max(emitted, safe);
      return out;
    }

    @Override
    public boolean stopped() {
      return matched != null;
    }

    @Override
    public String matchedStop() {
      return matched;
    }

    @Override
    public String flush() {
      String out = all.substring(emitted);
      emitted = all.length();
      return out;
    }

    @Override
    public String text() {
      return all.substring(0, emitted);
    }
  }
}
