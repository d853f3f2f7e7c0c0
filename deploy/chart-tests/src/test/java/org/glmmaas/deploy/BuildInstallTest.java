package org.glmmaas.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code ./mvnw install} works: the root pom sets the jar plugin's {@code skipIfEmpty}, so a module
 * with no main sources or resources produces no jar, and the install plugin then fails the build
 * ("the packaging for this project did not assign a file to the build artifact"). Each such
 * test-only module must not be installed (it had: deploy/chart-tests).
 */
class BuildInstallTest {

  private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");

  @Test
  void everyTestOnlyModuleSkipsInstallAndDeploy() throws Exception {
    Path root = RepoFiles.root();
    String rootPom = Files.readString(root.resolve("pom.xml"));
    assertThat(rootPom).contains("<skipIfEmpty>true</skipIfEmpty>");
    List<String> empty = new ArrayList<>();
    Matcher m = MODULE.matcher(rootPom);
    while (m.find()) {
      Path module = root.resolve(m.group(1).strip());
      String pom = Files.readString(module.resolve("pom.xml"));
      boolean jar = !pom.contains("<packaging>") || pom.contains("<packaging>jar</packaging>");
      boolean testOnly =
          !Files.isDirectory(module.resolve("src/main"))
              && Files.isDirectory(module.resolve("src/test"));
      if (jar && testOnly) {
        empty.add(m.group(1));
        assertThat(pom)
            .as("%s has only tests, so no jar: it must not be installed or deployed", module)
            .contains("<maven.install.skip>true</maven.install.skip>")
            .contains("<maven.deploy.skip>true</maven.deploy.skip>");
      }
    }
    assertThat(empty).as("the test-only modules found").contains("deploy/chart-tests");
  }
}
