package org.glmmaas.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Ports of the six services (two inference workers: the chat and the embedding model; the knowledge
 * service after them).
 */
record Ports(
    int gateway,
    int authHttp,
    int authGrpc,
    int billingHttp,
    int billingGrpc,
    int workerHttp,
    int workerGrpc,
    int embedWorkerHttp,
    int embedWorkerGrpc,
    int knowledgeHttp,
    int knowledgeGrpc) {

  static Ports fixed(int base) {
    return new Ports(
        base,
        base + 1,
        base + 1001,
        base + 2,
        base + 1002,
        base + 3,
        base + 1003,
        base + 4,
        base + 1004,
        base + 5,
        base + 1005);
  }

  static Ports ephemeral() {
    return new Ports(
        free(), free(), free(), free(), free(), free(), free(), free(), free(), free(), free());
  }

  /**
   * A port free right now on the loopback interface (another process may take it before we use it).
   */
  static int free() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }

  /** Fails with the port's name when a fixed port is taken (another ./glm up, or anything else). */
  void checkFree() {
    int[] all = {
      gateway,
      authHttp,
      authGrpc,
      billingHttp,
      billingGrpc,
      workerHttp,
      workerGrpc,
      embedWorkerHttp,
      embedWorkerGrpc,
      knowledgeHttp,
      knowledgeGrpc
    };
    for (int p : all) {
      try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
        s.setReuseAddress(true);
      } catch (IOException e) {
        throw new IllegalStateException(
            "port "
                + p
                + " is in use (another ./glm up?); stop it, or use --port or --ephemeral-ports");
      }
    }
  }
}
