package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherStateTest {

  @TempDir Path data;

  @Test
  void secretsAreGeneratedOnceAndKeptPrivate() throws Exception {
    LauncherState.Secrets first = new LauncherState(data).secrets();
    assertThat(first.gatewayAdminToken()).hasSizeGreaterThanOrEqualTo(16);
    assertThat(first.gatewayAdminToken())
        .isNotEqualTo(first.authAdminToken())
        .isNotEqualTo(first.billingAdminToken());
    assertThat(new LauncherState(data).secrets()).isEqualTo(first);
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(data.resolve("secrets.json"))))
        .isEqualTo("rw-------");
  }

  @Test
  void aDataFolderFromBeforeTheAdminEntryGetsAGatewayTokenAndKeepsTheRest() throws Exception {
    LauncherState.writePrivate(
        data.resolve("secrets.json"),
        new java.util.LinkedHashMap<>(
            Map.of(
                "auth_admin_token", "old-auth-token-0123456789",
                "auth_master_key", "b2xkLW1hc3Rlci1rZXk=",
                "billing_admin_token", "old-billing-token-0123456789")));
    LauncherState.Secrets s = new LauncherState(data).secrets();
    assertThat(s.authAdminToken()).isEqualTo("old-auth-token-0123456789");
    assertThat(s.authMasterKey()).isEqualTo("b2xkLW1hc3Rlci1rZXk=");
    assertThat(s.billingAdminToken()).isEqualTo("old-billing-token-0123456789");
    assertThat(s.gatewayAdminToken()).hasSizeGreaterThanOrEqualTo(16);
    assertThat(new LauncherState(data).secrets()).as("written back, stable").isEqualTo(s);
  }
}
