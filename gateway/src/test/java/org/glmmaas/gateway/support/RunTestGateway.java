package org.glmmaas.gateway.support;

/** Starts the test gateway with its fakes and keeps it up, for manual checks and benchmarks. */
public final class RunTestGateway {

  public static void main(String[] args) throws Exception {
    TestGateway gw = TestGateway.get();
    System.out.println("TEST GATEWAY UP on port " + gw.port + " key " + TestGateway.KEY);
    Thread.sleep(Long.MAX_VALUE);
  }
}
