#!/usr/bin/env bash
# Builds the extra root filesystem Jib layers on top of the base image (-Pimage / -Dimage, see docs/operations.md "Container images"):
#   /opt/java                     a jlinked Java runtime (only the modules Spring Boot, gRPC, Kafka and JDBC need)
#   /opt/glm/healthcheck          a tiny HTTP probe for container healthchecks (the image has no shell or curl)
#   /etc/passwd, /etc/group       the non-root user glm (10001)
#   /lib64, /lib/x86_64-linux-gnu the glibc closure of java and of every native library in the module
#                                 (libglm.so of the worker: libstdc++, libgomp, ...) — only for a scratch base
# Usage: jre-rootfs.sh <module target dir> <base image>
set -euo pipefail

target="$1"; base="${2:-scratch}"
root="$target/jre-rootfs"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
java_home="${JAVA_HOME:?JAVA_HOME must point at a JDK 25}"

rm -rf "$root"
mkdir -p "$root/opt" "$root/etc" "$root/tmp" "$root/proc" "$root/opt/glm/healthcheck" "$root/var/lib/glm/spool" "$root/var/lib/glm/gateway" "$root/var/lib/glm/knowledge"

modules=java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http,java.prefs,java.rmi,java.scripting,java.security.jgss,java.security.sasl,java.sql,java.transaction.xa,java.xml,jdk.crypto.ec,jdk.incubator.vector,jdk.jfr,jdk.management,jdk.net,jdk.unsupported,jdk.zipfs
"$java_home/bin/jlink" --add-modules "$modules" --compress=zip-6 --no-header-files --no-man-pages \
  --strip-debug --output "$root/opt/java"

"$java_home/bin/javac" --release 25 -d "$root/opt/glm/healthcheck" "$here/HealthCheck.java"

cat > "$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/sbin/nologin
glm:x:10001:10001:glm:/tmp:/sbin/nologin
PASSWD
cat > "$root/etc/group" <<GROUP
root:x:0:
glm:x:10001:
GROUP
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"

if [[ "$base" == "scratch" ]]; then
  # glibc and friends: everything java, its libraries and the module's native libraries link against.
  # (headless: the X11/ALSA libraries of AWT's desktop backends are left out on purpose)
  mapfile -t objects < <( { find "$root/opt/java" \( -name '*.so' -o -path '*/bin/*' \) -type f \
                              ! -name 'libawt_xawt.so' ! -name 'libjawt.so' ! -name 'libsplashscreen.so' ! -name 'libjsound.so'; \
                            find "$target/classes" -name '*.so' 2>/dev/null; } )
  for obj in "${objects[@]}"; do
    ldd "$obj" 2>/dev/null | awk '/=> \//{print $3} /^\s*\/lib/{print $1}' || true
  done | sort -u | while read -r lib; do
    [[ "$lib" == "$root"* ]] && continue
    case "$(basename "$lib")" in libjli.so|libjvm.so|libjava.so) continue ;; esac
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  # NSS for DNS (Kafka, PostgreSQL and gRPC resolve service names), and the dynamic loader.
  for lib in /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2 \
             /lib/x86_64-linux-gnu/libresolv.so.2 /lib64/ld-linux-x86-64.so.2; do
    [[ -e "$lib" ]] || continue
    mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
  done
fi
du -sh "$root" | awk '{print "jre-rootfs: " $1}'
