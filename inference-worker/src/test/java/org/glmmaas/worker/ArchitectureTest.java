package org.glmmaas.worker;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Boundaries of CONVENTIONS.md, checked on the compiled classes. */
class ArchitectureTest {

  static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("org.glmmaas.worker");

  @Test
  void servicesShareOnlyTheProtoContracts() {
    noClasses()
        .that()
        .resideInAPackage("org.glmmaas.worker..")
        .should()
        .dependOnClassesThat(
            com.tngtech.archunit.base.DescribedPredicate.describe(
                "another service's classes",
                c ->
                    c.getPackageName().startsWith("org.glmmaas.")
                        && !c.getPackageName().startsWith("org.glmmaas.worker")
                        && !c.getPackageName().startsWith("org.glmmaas.proto")))
        .allowEmptyShould(true)
        .check(CLASSES);
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
