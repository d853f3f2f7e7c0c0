package org.glmmaas.auth.support;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.test.TestPostgres;
import org.glmmaas.proto.auth.v1.AuthServiceGrpc;
import org.glmmaas.proto.auth.v1.AuthenticateRequest;
import org.glmmaas.proto.auth.v1.AuthenticateResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The whole service (HTTP admin API + real gRPC server on a free port) against a real PostgreSQL
 * (the shared embedded one unless a subclass says otherwise); subclasses share one Spring context.
 * Calls go over the network exactly as the gateway and the launcher make them.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "glm.auth.admin-token=" + AuthServiceTestBase.ADMIN_TOKEN,
      "glm.auth.master-key=" + AuthServiceTestBase.MASTER_KEY,
      "glm.auth.grpc.port=0",
      "glm.auth.data-dir=target/test-data",
      "glm.auth.last-used-flush-interval=1h",
      "logging.level.org.glmmaas=DEBUG",
      "spring.datasource.url=${glm.test.embedded-db-url}",
      "spring.datasource.username=postgres"
    })
public abstract class AuthServiceTestBase {

  public static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

  /** base64 of 32 bytes, test only. */
  public static final String MASTER_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

  @LocalServerPort protected int httpPort;
  @Autowired protected GrpcServer grpcServer;

  protected AdminClient admin;
  private ManagedChannel channel;
  protected AuthServiceGrpc.AuthServiceBlockingStub auth;

  /**
   * The shared embedded PostgreSQL. A subclass that needs another database overrides {@code
   * spring.datasource.*} with {@code @TestPropertySource} (which wins over the properties above).
   */
  @DynamicPropertySource
  static void embeddedDatabase(DynamicPropertyRegistry registry) {
    registry.add("glm.test.embedded-db-url", TestPostgres::url);
  }

  @BeforeEach
  void connect() {
    admin = new AdminClient(httpPort, ADMIN_TOKEN);
    channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", grpcServer.port()).usePlaintext().build();
    auth = AuthServiceGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void disconnect() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  protected AuthenticateResponse authenticate(String credential) {
    return auth.withDeadlineAfter(10, TimeUnit.SECONDS)
        .authenticate(AuthenticateRequest.newBuilder().setCredential(credential).build());
  }

  /** A new tenant with a unique name; returns its id. */
  protected String newTenant() {
    return admin.createTenant("t-" + UUID.randomUUID()).get("id").stringValue();
  }

  protected JsonNode newKey(String tenantId) {
    return admin.createKey(tenantId, Map.of("name", "k"));
  }
}
