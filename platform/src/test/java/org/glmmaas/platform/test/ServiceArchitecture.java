package org.glmmaas.platform.test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The boundary every service keeps (docs/development.md): its classes use its own packages, the
 * {@code proto} contracts, the {@code platform} infrastructure and third-party libraries, never
 * another service's classes.
 */
public final class ServiceArchitecture {

  private ServiceArchitecture() {}

  /** The production classes of a service (tests excluded). */
  public static JavaClasses mainClasses(String rootPackage) {
    return new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages(rootPackage);
  }

  /**
   * Classes under {@code rootPackage} depend on no org.glmmaas class but proto's and platform's.
   */
  public static ArchRule sharesOnlyProtoAndPlatform(String rootPackage) {
    return noClasses()
        .that()
        .resideInAPackage(rootPackage + "..")
        .should()
        .dependOnClassesThat(anotherServicesClass(rootPackage))
        .allowEmptyShould(true);
  }

  static DescribedPredicate<JavaClass> anotherServicesClass(String rootPackage) {
    return DescribedPredicate.describe(
        "org.glmmaas classes outside " + rootPackage + ", proto and platform",
        c -> {
          String p = c.getPackageName();
          return p.startsWith("org.glmmaas.")
              && !within(p, rootPackage)
              && !within(p, "org.glmmaas.proto")
              && !within(p, "org.glmmaas.platform");
        });
  }

  private static boolean within(String pkg, String root) {
    return pkg.equals(root) || pkg.startsWith(root + ".");
  }
}
