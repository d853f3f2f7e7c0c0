package org.glmmaas.auth.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretCodecTest {

  static byte[] key(int fill) {
    byte[] k = new byte[32];
    java.util.Arrays.fill(k, (byte) fill);
    return k;
  }

  final SecretCodec codec = new SecretCodec(new MasterKeyring(Map.of(1, key(1), 2, key(2))));

  @Test
  void encryptsUnderTheNewestVersionAndDecryptsEveryConfiguredOne() {
    assertThat(codec.keyring().currentVersion()).isEqualTo(2);
    for (int v : new int[] {1, 2}) {
      byte[] ct = codec.encrypt("kid", "the-secret", v);
      assertThat(new String(ct, StandardCharsets.ISO_8859_1)).doesNotContain("the-secret");
      assertThat(codec.decrypt("kid", ct, v)).isEqualTo("the-secret");
    }
    assertThat(codec.encrypt("kid", "the-secret", 2))
        .isNotEqualTo(codec.encrypt("kid", "the-secret", 2));
  }

  @Test
  void aCiphertextMovedToAnotherKeyOrVersionDoesNotDecrypt() {
    byte[] ct = codec.encrypt("kid-a", "the-secret", 2);
    assertThatThrownBy(() -> codec.decrypt("kid-b", ct, 2))
        .hasMessageContaining("does not decrypt");
    assertThatThrownBy(() -> codec.decrypt("kid-a", ct, 1))
        .hasMessageContaining("does not decrypt");
    ct[ct.length - 1] ^= 1;
    assertThatThrownBy(() -> codec.decrypt("kid-a", ct, 2))
        .hasMessageContaining("does not decrypt");
    SecretCodec other = new SecretCodec(new MasterKeyring(Map.of(2, key(9))));
    assertThatThrownBy(() -> other.decrypt("kid-a", codec.encrypt("kid-a", "s", 2), 2))
        .hasMessageContaining("wrong master key");
  }

  @Test
  void hashesArePepperedPerVersionAndCompareExactly() {
    byte[] h1 = codec.hash("the-secret", 1);
    assertThat(codec.hash("the-secret", 2)).isNotEqualTo(h1);
    assertThat(codec.matches("the-secret", h1, 1)).isTrue();
    assertThat(codec.matches("the-secreT", h1, 1)).isFalse();
    assertThat(codec.matches("the-secret", h1, 2)).isFalse();
  }

  @Test
  void refusesBadMasterKeysWithAClearMessage() {
    assertThatThrownBy(() -> new MasterKeyring(Map.of(1, new byte[16])))
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> new MasterKeyring(Map.of(0, key(1)))).hasMessageContaining(">= 1");
    assertThatThrownBy(() -> codec.decrypt("k", new byte[40], 7))
        .hasMessageContaining("version 7 is not configured");
  }
}
