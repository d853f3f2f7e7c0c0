package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;

/**
 * The credential is checked from the headers before the body is read: a caller with a bad key who
 * announces a large body and never sends it is answered 401 at once (the gateway neither waits for
 * nor buffers the body).
 */
class AuthBeforeBodyTest {

  @Test
  void aBadKeyIsRefusedBeforeItsBodyIsRead() throws Exception {
    TestGateway gw = TestGateway.get();
    try (Socket s = new Socket("127.0.0.1", gw.port)) {
      s.setSoTimeout(5_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/chat/completions HTTP/1.1\r\n"
                  + "Host: 127.0.0.1\r\n"
                  + "Authorization: Bearer kmain.not-the-secret\r\n"
                  + "Content-Type: application/json\r\n"
                  + "Content-Length: 60000\r\n\r\n{\"model\":")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // the rest of the body never comes: only an answer from the headers alone can arrive
      InputStream in = s.getInputStream();
      byte[] head = new byte[12];
      int n = 0;
      while (n < head.length) {
        int r = in.read(head, n, head.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
      assertThat(new String(head, 0, n, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 401");
    }
  }

  @Test
  void noKeyAtAllIsRefusedBeforeTheBodyToo() throws Exception {
    TestGateway gw = TestGateway.get();
    try (Socket s = new Socket("127.0.0.1", gw.port)) {
      s.setSoTimeout(5_000);
      s.getOutputStream()
          .write(
              ("POST /api/paas/v4/chat/completions HTTP/1.1\r\n"
                      + "Host: 127.0.0.1\r\n"
                      + "Content-Type: application/json\r\n"
                      + "Content-Length: 60000\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      byte[] head = s.getInputStream().readNBytes(12);
      assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 401");
    }
  }
}
