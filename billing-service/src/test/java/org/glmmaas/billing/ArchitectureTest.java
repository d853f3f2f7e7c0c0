package org.glmmaas.billing;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.glmmaas.platform.test.ServiceArchitecture;
import org.junit.jupiter.api.Test;

/** Boundaries of docs/development.md, checked on the compiled classes. */
class ArchitectureTest {

  static final JavaClasses CLASSES = ServiceArchitecture.mainClasses("org.glmmaas.billing");

  @Test
  void dependsOnlyOnItselfProtoPlatformAndLibraries() {
    ServiceArchitecture.sharesOnlyProtoAndPlatform("org.glmmaas.billing").check(CLASSES);
  }
}
