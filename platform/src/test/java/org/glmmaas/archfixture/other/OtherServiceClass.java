package org.glmmaas.archfixture.other;

/** Test fixture of ServiceArchitectureTest: a class of "another service". */
public final class OtherServiceClass {
  public static int value() {
    return 1;
  }
}
