package org.glmmaas.worker.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.glmmaas.worker.sample.SamplingRequest.Dialect;
import org.junit.jupiter.api.Test;

class SamplingRequestTest {

  private static SamplingRequest req(Float temperature, Float topP) {
    return new SamplingRequest(
        temperature, topP, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  @Test
  void defaultsPerApi() {
    SamplingConfig openAi = SamplingRequest.empty().toConfig(Dialect.OPENAI, 256, () -> 7L);
    assertThat(openAi.temperature()).isEqualTo(1f);
    assertThat(openAi.topP()).isEqualTo(1f);
    assertThat(openAi.maxTokens()).isEqualTo(256);
    assertThat(openAi.seed()).isEqualTo(7L);
    assertThat(openAi.greedy()).isFalse();
    SamplingConfig bigModel = SamplingRequest.empty().toConfig(Dialect.BIGMODEL, 256, () -> 7L);
    assertThat(bigModel.temperature()).isEqualTo(0.95f);
    assertThat(bigModel.topP()).isEqualTo(0.7f);
  }

  @Test
  void bigModelTemperatureZeroOrDoSampleFalseIsGreedy() {
    assertThat(req(0f, null).toConfig(Dialect.BIGMODEL, 16, () -> 1L).greedy()).isTrue();
    SamplingRequest noSample =
        new SamplingRequest(
            0.8f, null, null, null, null, null, null, false, null, null, null, null, null, null);
    assertThat(noSample.toConfig(Dialect.BIGMODEL, 16, () -> 1L).greedy()).isTrue();
  }

  @Test
  void temperatureRangesDifferPerApi() {
    assertThat(req(1.5f, null).toConfig(Dialect.OPENAI, 16, () -> 1L).temperature())
        .isEqualTo(1.5f);
    assertThatThrownBy(() -> req(1.5f, null).toConfig(Dialect.BIGMODEL, 16, () -> 1L))
        .isInstanceOf(InvalidSamplingException.class)
        .hasMessage("temperature must be in [0, 1], got 1.5")
        .extracting(e -> ((InvalidSamplingException) e).parameter())
        .isEqualTo("temperature");
    assertThatThrownBy(() -> req(2.5f, null).toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("temperature must be in [0, 2], got 2.5");
    assertThatThrownBy(() -> req(-0.1f, null).toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("temperature must be in [0, 2], got -0.1");
    assertThatThrownBy(() -> req(Float.NaN, null).toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessageStartingWith("temperature must be in [0, 2]");
  }

  @Test
  void topPRangesDifferPerApi() {
    assertThat(req(null, 1f).toConfig(Dialect.OPENAI, 16, () -> 1L).topP()).isEqualTo(1f);
    assertThatThrownBy(() -> req(null, 1f).toConfig(Dialect.BIGMODEL, 16, () -> 1L))
        .hasMessage("top_p must be in (0, 1), got 1.0");
    assertThatThrownBy(() -> req(null, 0f).toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("top_p must be in (0, 1], got 0.0");
  }

  @Test
  void penaltiesTokensStopsAndLogprobsAreChecked() {
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null, null, null, null, null, 2.5f, null, null, null, null, null, null,
                        null, null)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("presence_penalty must be in [-2, 2], got 2.5");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null, null, null, null, null, null, -3f, null, null, null, null, null, null,
                        null)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("frequency_penalty must be in [-2, 2], got -3.0");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null, null, null, null, 0f, null, null, null, null, null, null, null, null,
                        null)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("repetition_penalty must be in (0, 10], got 0.0");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null, null, -1, null, null, null, null, null, null, null, null, null, null,
                        null)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("top_k must be >= 0 (0 = off), got -1");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null, null, null, 1.5f, null, null, null, null, null, null, null, null,
                        null, null)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("min_p must be in [0, 1], got 1.5");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null, null, null, null, null, null, null, null, null, 0, null, null, null,
                        null)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("max_tokens must be >= 1, got 0");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        List.of("a", ""),
                        null,
                        null,
                        null)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("stop[1] is empty: stop strings must have at least one character");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        List.of("a", "b", "c", "d", "e"),
                        null,
                        null,
                        null)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("stop allows at most 4 strings, got 5");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null, null, null, null, null, null, null, null, null, null, null, null,
                        true, 21)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("top_logprobs must be in [0, 20], got 21");
    assertThatThrownBy(
            () ->
                new SamplingRequest(
                        null, null, null, null, null, null, null, null, null, null, null, null,
                        null, 3)
                    .toConfig(Dialect.OPENAI, 16, () -> 1L))
        .hasMessage("top_logprobs requires logprobs to be true");
  }

  @Test
  void validateChecksADirectlyBuiltConfig() {
    SamplingConfig ok =
        new SamplingConfig(
            0.7f, 0.9f, 40, 0.05f, 1.1f, 0f, 0f, true, 1, 8, List.of("\n\n"), false, false, 0);
    assertThat(SamplingRequest.validate(ok)).isSameAs(ok);
    SamplingConfig bad =
        new SamplingConfig(0.7f, 1.2f, 40, 0f, 1f, 0f, 0f, true, 1, 8, List.of(), false, false, 0);
    assertThatThrownBy(() -> SamplingRequest.validate(bad))
        .hasMessage("top_p must be in (0, 1], got 1.2");
  }
}
