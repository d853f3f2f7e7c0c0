package org.glmmaas.worker;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.glmmaas.platform.test.ServiceArchitecture;
import org.junit.jupiter.api.Test;

/** Boundaries of docs/development.md, checked on the compiled classes. */
class ArchitectureTest {

  static final JavaClasses CLASSES = ServiceArchitecture.mainClasses("org.glmmaas.worker");

  @Test
  void dependsOnlyOnItselfProtoPlatformAndLibraries() {
    ServiceArchitecture.sharesOnlyProtoAndPlatform("org.glmmaas.worker").check(CLASSES);
  }

  @Test
  void packagesAreFreeOfCycles() {
    slices().matching("org.glmmaas.worker.(*)..").should().beFreeOfCycles().check(CLASSES);
  }

  /**
   * Only the native binding touches java.lang.foreign; everything else sees the Engine interface.
   */
  @Test
  void onlyTheNativeBindingUsesTheForeignFunctionApi() {
    noClasses()
        .that()
        .resideOutsideOfPackage("org.glmmaas.worker.engine.ffm..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("java.lang.foreign..")
        .check(CLASSES);
  }

  @Test
  void theSchedulerDoesNotDependOnTheNativeBinding() {
    noClasses()
        .that()
        .resideInAPackage("org.glmmaas.worker.scheduler..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("org.glmmaas.worker.engine.ffm..")
        .allowEmptyShould(true)
        .check(CLASSES);
  }
}
