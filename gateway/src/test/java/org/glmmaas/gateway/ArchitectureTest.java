package org.glmmaas.gateway;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.glmmaas.platform.test.ServiceArchitecture;
import org.junit.jupiter.api.Test;

/** Boundaries of docs/development.md, checked on the compiled classes. */
class ArchitectureTest {

  static final JavaClasses CLASSES = ServiceArchitecture.mainClasses("org.glmmaas.gateway");

  @Test
  void dependsOnlyOnItselfProtoPlatformAndLibraries() {
    ServiceArchitecture.sharesOnlyProtoAndPlatform("org.glmmaas.gateway").check(CLASSES);
  }

  @Test
  void packagesAreFreeOfCycles() {
    slices().matching("org.glmmaas.gateway.(*)..").should().beFreeOfCycles().check(CLASSES);
  }
}
