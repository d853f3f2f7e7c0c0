package org.glmmaas.platform.test;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.EvaluationResult;
import org.glmmaas.archfixture.svc.ReachesIntoOtherService;
import org.glmmaas.archfixture.svc.UsesOnlyPlatform;
import org.junit.jupiter.api.Test;

class ServiceArchitectureTest {

  @Test
  void flagsAnotherServicesClassButNotPlatformOrProto() {
    JavaClasses offending = new ClassFileImporter().importClasses(ReachesIntoOtherService.class);
    EvaluationResult r =
        ServiceArchitecture.sharesOnlyProtoAndPlatform("org.glmmaas.archfixture.svc")
            .evaluate(offending);
    assertThat(r.hasViolation()).isTrue();
    assertThat(r.getFailureReport().getDetails())
        .singleElement()
        .asString()
        .contains("OtherServiceClass")
        .doesNotContain("JwtTime");

    JavaClasses fine = new ClassFileImporter().importClasses(UsesOnlyPlatform.class);
    assertThat(
            ServiceArchitecture.sharesOnlyProtoAndPlatform("org.glmmaas.archfixture.svc")
                .evaluate(fine)
                .hasViolation())
        .isFalse();
  }
}
