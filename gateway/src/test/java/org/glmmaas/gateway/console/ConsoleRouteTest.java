package org.glmmaas.gateway.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code /console/**}: the single-page app from the jar, with the secure headers of its route.
 * Skipped where the console was not built (no Node.js 20 at build time), except the not-built
 * answer itself.
 */
class ConsoleRouteTest {

  static boolean built() {
    return ConsoleRoutes.class.getClassLoader().getResource("console/index.html") != null;
  }

  @Test
  void indexIsServedWithAContentSecurityPolicyAndNoCaching() throws Exception {
    Assumptions.assumeTrue(built(), "the console was not built (Node.js >= 20 missing)");
    TestGateway gw = TestGateway.get();
    HttpResponse<String> r = gw.get("/console/", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
    assertThat(r.headers().firstValue("Content-Security-Policy"))
        .hasValue(ConsoleRoutes.CONTENT_SECURITY_POLICY);
    assertThat(r.headers().firstValue("X-Frame-Options")).hasValue("DENY");
    assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-cache");
    assertThat(r.body()).contains("<div id=\"root\">");

    // every script the index names is served, cached for good (its name carries its hash)
    Matcher m = Pattern.compile("src=\"(/console/assets/[^\"]+\\.js)\"").matcher(r.body());
    assertThat(m.find()).as(r.body()).isTrue();
    HttpResponse<String> js = gw.get(m.group(1), null);
    assertThat(js.statusCode()).isEqualTo(200);
    assertThat(js.headers().firstValue("Content-Type").orElse("")).contains("javascript");
    assertThat(js.headers().firstValue("Cache-Control").orElse("")).contains("immutable");

    HttpResponse<String> head =
        gw.http.send(
            HttpRequest.newBuilder(URI.create(gw.url("/console/")))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }

  @Test
  void theBarePathRedirectsAndUnknownOrEscapingPathsAre404() throws Exception {
    TestGateway gw = TestGateway.get();
    HttpResponse<String> r = gw.get("/console", null);
    assertThat(r.statusCode()).isEqualTo(308);
    assertThat(r.headers().firstValue("Location")).hasValue("/console/");
    for (String p :
        new String[] {
          "/console/nope.js",
          "/console/%2e%2e/application.yaml",
          "/console/../application.yaml",
          "/console/assets/..%2F..%2Fapplication.yaml"
        }) {
      HttpResponse<String> nf = gw.get(p, null);
      assertThat(nf.statusCode()).as(p).isEqualTo(404);
      assertThat(nf.body()).doesNotContain("glm:", "spring:");
    }
    HttpResponse<String> post = gw.post("/console/", null, "{}");
    assertThat(post.statusCode()).isNotEqualTo(200);
  }

  @Test
  void withoutTheBuiltAppTheConsoleSaysWhy() throws Exception {
    Assumptions.assumeFalse(built(), "the console is built here");
    HttpResponse<String> r = TestGateway.get().get("/console/", null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body()).contains("Node.js 20");
  }
}
