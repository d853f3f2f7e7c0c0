package org.glmmaas.platform;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.glmmaas.platform.test.ServiceArchitecture;
import org.junit.jupiter.api.Test;

/** The platform serves every service and knows none of them (docs/development.md). */
class ArchitectureTest {

  static final JavaClasses CLASSES = ServiceArchitecture.mainClasses("org.glmmaas.platform");

  @Test
  void dependsOnNoServiceAndNotOnTheContracts() {
    noClasses()
        .that()
        .resideInAPackage("org.glmmaas.platform..")
        .should()
        .dependOnClassesThat(
            resideInAPackage("org.glmmaas..").and(resideOutsideOfPackage("org.glmmaas.platform..")))
        .check(CLASSES);
  }

  @Test
  void packagesAreFreeOfCycles() {
    slices().matching("org.glmmaas.platform.(*)..").should().beFreeOfCycles().check(CLASSES);
  }
}
