package org.glmmaas.worker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class WorkerPropertiesTest {

  private static WorkerProperties withModel(String model, String modelId) {
    return new WorkerProperties(
        "w",
        model,
        modelId,
        "cpu",
        1,
        "",
        Duration.ofSeconds(1),
        GrpcServerProperties.onPort(0),
        new WorkerProperties.Scheduler(16, 512, 1024, 64),
        new WorkerProperties.KvCache(16, DataSize.ofKilobytes(512), "f16", true),
        new WorkerProperties.LoadReport(Duration.ofMillis(100)));
  }

  @Test
  void theModelIdDefaultsToTheFileNameAndASplitModelDropsItsPartSuffix() {
    assertThat(withModel("/m/glm-4-9b-chat.Q8_0.gguf", "").modelId())
        .isEqualTo("glm-4-9b-chat.Q8_0");
    assertThat(withModel("/m/GLM-4.5-Air-Q4_K_M-00001-of-00002.gguf", "").modelId())
        .isEqualTo("GLM-4.5-Air-Q4_K_M");
    assertThat(withModel("/m/GLM-4.5-Air-Q4_K_M-00001-of-00002.gguf", "air").modelId())
        .isEqualTo("air");
  }
}
