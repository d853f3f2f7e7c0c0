package org.glmmaas.worker.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.glmmaas.worker.sample.SamplingConfig;
import org.junit.jupiter.api.Test;

class GenerationStopTest {

  private static final BpeTokenizer TOK =
      SyntheticVocab.build(SyntheticVocab.SAMPLE, 2000, 1).tokenizer();
  private static final int EOT = TOK.encode("<|user|>", true)[0];

  private static SamplingConfig config(int maxTokens, boolean ignoreEos, List<String> stop) {
    return new SamplingConfig(
        1f, 1f, 0, 0f, 1f, 0f, 0f, true, 1, maxTokens, stop, ignoreEos, false, 0);
  }

  private static GenerationStop stopper(SamplingConfig c) {
    return new GenerationStop(TOK, new StopStringDecoder(TOK, c.stop()), c);
  }

  @Test
  void endOfGenerationTokenStopsWithoutItsText() {
    GenerationStop g = stopper(config(100, false, List.of()));
    StringBuilder out = new StringBuilder();
    for (int id : TOK.encode("Hello world", false)) {
      out.append(g.onToken(id).delta());
    }
    GenerationStop.Step last = g.onToken(EOT);
    out.append(last.delta());
    assertThat(last.finished()).isEqualTo(GenerationStop.Reason.END_OF_GENERATION_TOKEN);
    assertThat(out.toString()).isEqualTo("Hello world").isEqualTo(g.text());
    assertThatThrownBy(() -> g.onToken(EOT)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void ignoreEosKeepsGoingUntilMaxTokens() {
    GenerationStop g = stopper(config(3, true, List.of()));
    assertThat(g.onToken(EOT).done()).isFalse();
    assertThat(g.onToken(EOT).done()).isFalse();
    GenerationStop.Step third = g.onToken(EOT);
    assertThat(third.finished()).isEqualTo(GenerationStop.Reason.LENGTH);
    assertThat(g.text()).isEqualTo("<|user|><|user|><|user|>");
  }

  @Test
  void maxTokensFlushesTheHeldBackText() {
    GenerationStop g = stopper(config(2, false, List.of("END")));
    int[] ids = {'a', 'E'};
    assertThat(g.onToken(ids[0]).delta()).isEqualTo("a");
    GenerationStop.Step last = g.onToken(ids[1]);
    assertThat(last.finished()).isEqualTo(GenerationStop.Reason.LENGTH);
    assertThat(last.delta()).isEqualTo("E"); // held as a possible "END", released at the end
    assertThat(g.numGeneratedTokens()).isEqualTo(2);
  }

  @Test
  void stopStringStopsAndIsReported() {
    GenerationStop g = stopper(config(100, false, List.of("\n\n")));
    StringBuilder out = new StringBuilder();
    GenerationStop.Step step = null;
    for (int id : TOK.encode("line one\n\nline two", false)) {
      step = g.onToken(id);
      out.append(step.delta());
      if (step.done()) {
        break;
      }
    }
    assertThat(step.finished()).isEqualTo(GenerationStop.Reason.STOP_STRING);
    assertThat(g.matchedStop()).isEqualTo("\n\n");
    assertThat(out.toString()).isEqualTo("line one");
  }
}
