package org.glmmaas.launcher;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The TCP sockets a set of processes listens on, read from Linux's {@code /proc}: the socket inodes
 * among each process's open files, matched against {@code /proc/net/tcp} and {@code tcp6}.
 */
final class ProcListeners {

  /** One listening socket: owning pid, address and port. */
  record Listener(long pid, InetAddress address, int port) {
    boolean loopback() {
      return address.isLoopbackAddress();
    }

    @Override
    public String toString() {
      return "pid " + pid + " " + address.getHostAddress() + ":" + port;
    }
  }

  private ProcListeners() {}

  static boolean available() {
    return Files.isRegularFile(Path.of("/proc/net/tcp"));
  }

  /** {@code root} and every process it started, still alive. */
  static Set<Long> tree(long root) {
    Set<Long> pids = new HashSet<>();
    ProcessHandle.of(root)
        .ifPresent(
            h -> {
              pids.add(h.pid());
              h.descendants().forEach(d -> pids.add(d.pid()));
            });
    return pids;
  }

  static List<Listener> of(Collection<Long> pids) throws IOException {
    Map<Long, Long> inodeToPid = new HashMap<>();
    for (long pid : pids) {
      Path fds = Path.of("/proc", Long.toString(pid), "fd");
      if (!Files.isDirectory(fds)) {
        continue;
      }
      try (Stream<Path> s = Files.list(fds)) {
        for (Path fd : s.toList()) {
          try {
            String target = Files.readSymbolicLink(fd).toString();
            if (target.startsWith("socket:[")) {
              inodeToPid.put(
                  Long.parseLong(target.substring("socket:[".length(), target.length() - 1)), pid);
            }
          } catch (IOException e) {
            // closed meanwhile
          }
        }
      } catch (IOException e) {
        // the process ended
      }
    }
    List<Listener> out = new ArrayList<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Path.of(table);
      if (!Files.isRegularFile(p)) {
        continue;
      }
      for (String line : Files.readAllLines(p).stream().skip(1).toList()) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 10 || !f[3].equals("0A")) { // 0A = LISTEN
          continue;
        }
        Long pid = inodeToPid.get(Long.parseLong(f[9]));
        if (pid == null) {
          continue;
        }
        String[] addr = f[1].split(":");
        out.add(new Listener(pid, address(addr[0]), Integer.parseInt(addr[1], 16)));
      }
    }
    return out;
  }

  /** /proc's hex address: 32-bit words in host (little-endian) order. */
  static InetAddress address(String hex) throws UnknownHostException {
    byte[] bytes = new byte[hex.length() / 2];
    for (int word = 0; word < bytes.length / 4; word++) {
      for (int b = 0; b < 4; b++) {
        int at = (word * 4 + (3 - b)) * 2;
        bytes[word * 4 + b] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
      }
    }
    return InetAddress.getByAddress(bytes);
  }
}
