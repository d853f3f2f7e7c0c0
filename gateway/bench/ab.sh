#!/usr/bin/env bash
# A/B of the gateway latency benchmark (run.sh): this checkout (A) against another commit (B), in
# one sitting, alternating A B A B ... so that drift of the machine over the sitting (other work
# ending, caches, thermal) falls on both rather than on whichever ran second. Quiet machine only.
#
# Usage: gateway/bench/ab.sh OTHER_COMMIT [ROUNDS=2] [RATE=500] [SECONDS=15] [RUNS=3] [CONNECTIONS=50]
#   BENCH_BILLING=1 passes through to run.sh (as every other BENCH_* variable).
#   AB_OTHER_DIR: an existing, already built checkout of OTHER_COMMIT to use (kept); without it a
#     worktree is added under /tmp, built, and removed at the end.
#   AB_MVN_FLAGS: extra Maven flags for the two builds (e.g. -o). Builds use package, not install.
# Output: each sitting's run.sh output in gateway/target/bench-ab/<round>-<A|B>.txt, and the
# summary lines of all sittings at the end (and in gateway/target/bench-ab/summary.txt).
set -euo pipefail
OTHER=${1:?usage: gateway/bench/ab.sh OTHER_COMMIT [ROUNDS] [RATE] [SECONDS] [RUNS] [CONNECTIONS]}
ROUNDS=${2:-2}; shift; shift || true
ARGS=("${1:-500}" "${2:-15}" "${3:-3}" "${4:-50}")
HERE=$(cd "$(dirname "$0")" && pwd); A=$(dirname "$(dirname "$HERE")")
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
OUT="$A/gateway/target/bench-ab"; rm -rf "$OUT"; mkdir -p "$OUT"
if [ -n "${AB_OTHER_DIR:-}" ]; then
  B=$(cd "$AB_OTHER_DIR" && pwd); REMOVE=0
else
  B=$(mktemp -d /tmp/bench-ab-XXXXXX); rmdir "$B"; REMOVE=1
  git -C "$A" worktree add --detach "$B" "$OTHER" >/dev/null
fi
cleanup() { [ "$REMOVE" = 1 ] && git -C "$A" worktree remove --force "$B" || true; }
trap cleanup EXIT
build() {
  (cd "$1" && ./mvnw -B -q ${AB_MVN_FLAGS:-} -pl gateway -am package -DskipTests \
    dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-cp.txt)
}
if [ -z "${AB_OTHER_DIR:-}" ]; then build "$B"; fi
build "$A"
echo "A = $(git -C "$A" rev-parse --short HEAD) ($A), B = $(git -C "$B" rev-parse --short HEAD) ($B)" | tee "$OUT/summary.txt"
for r in $(seq "$ROUNDS"); do
  for side in A B; do
    dir=$A; [ "$side" = B ] && dir=$B
    echo "round $r: $side ..."
    (cd "$dir" && BENCH_SKIP_BUILD=1 gateway/bench/run.sh "${ARGS[@]}") > "$OUT/$r-$side.txt" 2>&1 ||
      { echo "run.sh failed for $side; see $OUT/$r-$side.txt" >&2; exit 1; }
    grep -E '^(non-streaming|streaming):|^closed-loop gateway|^load average' "$OUT/$r-$side.txt" |
      sed "s/^/$side round $r: /" | tee -a "$OUT/summary.txt"
  done
done
