package org.glmmaas.launcher;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Boundaries of docs/development.md, checked on the compiled classes. */
class ArchitectureTest {

  static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("org.glmmaas.launcher");

  /** It runs the services as processes from their jars and talks to them over HTTP only. */
  @Test
  void usesNoServiceClasses() {
    noClasses()
        .should()
        .dependOnClassesThat(
            resideInAPackage("org.glmmaas..").and(resideOutsideOfPackage("org.glmmaas.launcher..")))
        .check(CLASSES);
  }

  /** One package today; sub-packages, once there are any, must not form cycles. */
  @Test
  void packagesAreFreeOfCycles() {
    slices()
        .matching("org.glmmaas.launcher.(*)..")
        .should()
        .beFreeOfCycles()
        .allowEmptyShould(true)
        .check(CLASSES);
  }
}
