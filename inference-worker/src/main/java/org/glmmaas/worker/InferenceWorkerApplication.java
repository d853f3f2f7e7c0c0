package org.glmmaas.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class InferenceWorkerApplication {

  public static void main(String[] args) {
    SpringApplication.run(InferenceWorkerApplication.class, args);
  }
}
