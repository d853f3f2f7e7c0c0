package org.glmmaas.archfixture.svc;

import org.glmmaas.platform.jwt.JwtTime;

/** Test fixture of ServiceArchitectureTest: uses only platform. */
public final class UsesOnlyPlatform {
  public static long use() {
    return JwtTime.toEpochMillis(1);
  }
}
