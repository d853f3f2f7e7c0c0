import java.net.HttpURLConnection;
import java.net.URI;

/**
 * Container healthcheck for images without a shell or curl: exits 0 when the URL answers 2xx within
 * three seconds, 1 otherwise. Usage: java -cp /opt/glm/healthcheck HealthCheck http://127.0.0.1:8080/actuator/health/readiness
 */
public final class HealthCheck {

    private HealthCheck() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: HealthCheck <url>");
            System.exit(2);
        }
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(args[0]).toURL().openConnection();
            c.setConnectTimeout(3000);
            c.setReadTimeout(3000);
            int status = c.getResponseCode();
            System.out.println(args[0] + " -> " + status);
            System.exit(status >= 200 && status < 300 ? 0 : 1);
        } catch (Exception e) {
            System.out.println(args[0] + " -> " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(1);
        }
    }
}
