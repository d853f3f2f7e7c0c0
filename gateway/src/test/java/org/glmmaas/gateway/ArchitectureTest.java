package org.glmmaas.gateway;

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
          .importPackages("org.glmmaas.gateway");

  @Test
  void servicesShareOnlyTheProtoContracts() {
    noClasses()
        .that()
        .resideInAPackage("org.glmmaas.gateway..")
        .should()
        .dependOnClassesThat(
            com.tngtech.archunit.base.DescribedPredicate.describe(
                "another service's classes",
                c ->
                    c.getPackageName().startsWith("org.glmmaas.")
                        && !c.getPackageName().startsWith("org.glmmaas.gateway")
                        && !c.getPackageName().startsWith("org.glmmaas.proto")))
        .allowEmptyShould(true)
        .check(CLASSES);
  }
}
