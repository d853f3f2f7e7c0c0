package org.glmmaas.worker.usage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A TCP forwarder on a fixed local port that is closed (connection refused) until {@link #open}: to
 * a client configured with this address, the broker behind it is unreachable, then starts. {@link
 * #pause} makes it a stalled broker instead: connections stay up but no byte moves (requests sit
 * unanswered, records stay unacknowledged in the producer) until {@link #resume}.
 */
final class TcpGate implements AutoCloseable {

  private final int port;
  private volatile String targetHost;
  private volatile int targetPort;
  private volatile ServerSocket server;
  private volatile boolean paused;

  TcpGate(String target) throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      this.port = s.getLocalPort();
    }
    retarget(target);
  }

  /** New connections go to {@code target} ("host:port") from now on. */
  void retarget(String target) {
    String[] hostPort = target.split(":");
    this.targetHost = hostPort[0];
    this.targetPort = Integer.parseInt(hostPort[1]);
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  void open() throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress("127.0.0.1", port));
    server = s;
    Thread.ofVirtual()
        .start(
            () -> {
              while (!s.isClosed()) {
                Socket client;
                try {
                  client = s.accept();
                } catch (IOException e) {
                  return; // gate closed
                }
                try {
                  Socket upstream = new Socket(targetHost, targetPort);
                  pump(client, upstream);
                  pump(upstream, client);
                } catch (IOException e) { // target down: refuse this client, keep accepting
                  try {
                    client.close();
                  } catch (IOException ignored) {
                    // already gone
                  }
                }
              }
            });
  }

  /** Stops forwarding bytes in both directions; connections stay open. */
  void pause() {
    paused = true;
  }

  void resume() {
    paused = false;
  }

  private void pump(Socket from, Socket to) {
    Thread.ofVirtual()
        .start(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                byte[] buf = new byte[16384];
                int n;
                while ((n = in.read(buf)) >= 0) {
                  while (paused) {
                    Thread.sleep(5);
                  }
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException | InterruptedException ignored) {
                // one side closed
              } finally {
                try {
                  from.close();
                  to.close();
                } catch (IOException ignored) {
                  // closing anyway
                }
              }
            });
  }

  @Override
  public void close() throws IOException {
    if (server != null) {
      server.close();
    }
  }
}
