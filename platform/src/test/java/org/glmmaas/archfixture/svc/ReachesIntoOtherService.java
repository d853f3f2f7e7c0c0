package org.glmmaas.archfixture.svc;

import org.glmmaas.archfixture.other.OtherServiceClass;
import org.glmmaas.platform.jwt.JwtTime;

/** Test fixture of ServiceArchitectureTest: uses platform (allowed) and another service (not). */
public final class ReachesIntoOtherService {
  public static long use() {
    return OtherServiceClass.value() + JwtTime.toEpochMillis(1);
  }
}
