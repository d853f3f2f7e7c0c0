package org.glmmaas.platform.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * A service started with {@code glm.parent-pid} exits when that process dies, even by SIGKILL (the
 * launcher's children outlived a {@code kill -9} of it by more than 90 s before).
 */
class ParentProcessWatchTest {

  @Test
  void aServiceExitsSoonAfterItsParentIsKilled() throws Exception {
    Process parent = new ProcessBuilder("sleep", "120").start();
    Process service =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Child.class.getName(),
                Long.toString(parent.pid()))
            .redirectErrorStream(true)
            .start();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(service.getInputStream(), StandardCharsets.UTF_8))) {
      assertThat(out.readLine()).isEqualTo("watching");
      parent.destroyForcibly();
      assertThat(service.waitFor(5, TimeUnit.SECONDS))
          .as("the service exits within 5 s of its parent's SIGKILL")
          .isTrue();
      assertThat(service.exitValue()).isZero();
    } finally {
      parent.destroyForcibly();
      service.destroyForcibly();
    }
  }

  @Test
  void withoutTheSettingNothingIsWatchedAndABadValueIsRefused() {
    new ParentProcessWatch().postProcessEnvironment(env(Map.of()), new SpringApplication());
    assertThatThrownBy(
            () ->
                new ParentProcessWatch()
                    .postProcessEnvironment(
                        env(Map.of("glm.parent-pid", "launcher")), new SpringApplication()))
        .hasMessageContaining("glm.parent-pid must be a process id");
  }

  private static StandardEnvironment env(Map<String, Object> props) {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources().addFirst(new MapPropertySource("test", props));
    return env;
  }

  /** A stand-in service: watches the pid it is given, then idles. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      new ParentProcessWatch()
          .postProcessEnvironment(env(Map.of("glm.parent-pid", args[0])), new SpringApplication());
      System.out.println("watching");
      System.out.flush();
      Thread.sleep(60_000);
      System.exit(3);
    }
  }
}
