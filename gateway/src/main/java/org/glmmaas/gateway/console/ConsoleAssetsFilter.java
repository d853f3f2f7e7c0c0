package org.glmmaas.gateway.console;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.MediaTypeFactory;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The end of the console route: answers {@code /console/**} from the single-page app built into the
 * jar under {@code classpath:console/} (the {@code console} module). {@code /console/} is the app's
 * index.html (never cached: it names the current assets); files under {@code assets/} carry a
 * content hash in their names and are cached for a year. The app routes with the URL fragment, so
 * no other path needs the index. Files are small and few; each is read once and kept.
 */
final class ConsoleAssetsFilter implements GatewayFilter {

  static final String PREFIX = "/console";
  private static final String ROOT = "console/";
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
  private static final byte[] NOT_BUILT =
      ("The console was not built into this gateway: its build needs Node.js 20 or newer"
              + " (see docs/console.md).\n")
          .getBytes(StandardCharsets.UTF_8);

  private final ClassLoader loader;
  private final Map<String, Asset> cache = new ConcurrentHashMap<>();

  ConsoleAssetsFilter(ClassLoader loader) {
    this.loader = loader;
  }

  record Asset(byte[] bytes, MediaType type, String cacheControl) {}

  @Override
  public Mono<Void> filter(ServerWebExchange ex, GatewayFilterChain chain) {
    ServerHttpResponse res = ex.getResponse();
    HttpHeaders h = res.getHeaders();
    h.set("Content-Security-Policy", ConsoleRoutes.CONTENT_SECURITY_POLICY);
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    String path = ex.getRequest().getPath().pathWithinApplication().value();
    if (path.equals(PREFIX)) {
      res.setStatusCode(HttpStatus.PERMANENT_REDIRECT);
      res.getHeaders().setLocation(java.net.URI.create(PREFIX + "/"));
      return res.setComplete();
    }
    String file = path.substring(PREFIX.length() + 1);
    if (file.isEmpty()) {
      file = "index.html";
    }
    Asset a = SAFE.matcher(file).matches() && !file.contains("..") ? load(file) : null;
    if (a == null) {
      boolean built = load("index.html") != null;
      res.setStatusCode(HttpStatus.NOT_FOUND);
      res.getHeaders().setContentType(MediaType.TEXT_PLAIN);
      byte[] body = built ? "Not found.\n".getBytes(StandardCharsets.UTF_8) : NOT_BUILT.clone();
      return res.writeWith(Mono.just(res.bufferFactory().wrap(body)));
    }
    res.setStatusCode(HttpStatus.OK);
    res.getHeaders().setContentType(a.type());
    res.getHeaders().setCacheControl(a.cacheControl());
    res.getHeaders().setContentLength(a.bytes().length);
    if (ex.getRequest().getMethod() == HttpMethod.HEAD) {
      return res.setComplete();
    }
    return res.writeWith(Mono.just(res.bufferFactory().wrap(a.bytes())));
  }

  private Asset load(String file) {
    Asset cached = cache.get(file);
    if (cached != null) {
      return cached;
    }
    ClassPathResource r = new ClassPathResource(ROOT + file, loader);
    if (!r.exists() || !r.isReadable()) {
      return null;
    }
    try (InputStream in = r.getInputStream()) {
      MediaType type =
          MediaTypeFactory.getMediaType(file).orElse(MediaType.APPLICATION_OCTET_STREAM);
      if (isText(type)) {
        type = new MediaType(type, StandardCharsets.UTF_8);
      }
      String cacheControl =
          file.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache";
      Asset a = new Asset(in.readAllBytes(), type, cacheControl);
      cache.put(file, a);
      return a;
    } catch (IOException e) {
      return null;
    }
  }

  private static boolean isText(MediaType t) {
    return t.getType().equals("text")
        || t.getSubtype().equals("javascript")
        || t.getSubtype().equals("json")
        || t.getSubtype().endsWith("+xml");
  }

  @Override
  public String toString() {
    return "ConsoleAssets[classpath:" + ROOT + "]";
  }
}
