package org.glmmaas.gateway.support;

import java.net.InetSocketAddress;

/**
 * A {@link FakeWorker} in a process of its own, for tests that kill a worker the hard way ({@code
 * kill -9}): {@code FakeWorkerProcess <port> <model>}; prints "READY" once it listens on 127.0.0.1.
 */
public final class FakeWorkerProcess {

  private FakeWorkerProcess() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    try (FakeWorker w =
        new FakeWorker("fake-worker-process", args[1], new InetSocketAddress("127.0.0.1", port))) {
      System.out.println("READY " + w.port());
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
