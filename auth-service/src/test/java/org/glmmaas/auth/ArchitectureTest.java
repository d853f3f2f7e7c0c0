package org.glmmaas.auth;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.glmmaas.platform.test.ServiceArchitecture;
import org.junit.jupiter.api.Test;

/** Boundaries of docs/development.md, checked on the compiled classes. */
class ArchitectureTest {

  static final JavaClasses CLASSES = ServiceArchitecture.mainClasses("org.glmmaas.auth");

  @Test
  void dependsOnlyOnItselfProtoPlatformAndLibraries() {
    ServiceArchitecture.sharesOnlyProtoAndPlatform("org.glmmaas.auth").check(CLASSES);
  }
}
