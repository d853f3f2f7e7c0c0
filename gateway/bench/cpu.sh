#!/usr/bin/env bash
# Gateway cost per call, load-independent: the gateway's process CPU time per call and the bytes it
# allocates per call, for non-streaming and streaming chat calls, with the same fakes as run.sh (a
# FakeWorker streaming 4 tokens, a FakeAuthService, and with BENCH_BILLING=1 a FakeBillingService).
# Unlike latency, these two figures hardly move with the machine's load, so builds can be compared
# on a busy machine (measured back to back, same sitting).
#
# Per kind of call, after a warm-up (both kinds, twice, as run.sh):
#   - CPU: /proc/<gateway>/stat utime+stime around a paced wrk run, less what its JIT compiler
#     threads spent meanwhile, divided by the calls answered (JIT and GC threads also shown);
#   - allocation: a JFR recording around a second paced run, jdk.ThreadAllocationStatistics at
#     its start and end (bytes allocated by each gateway thread), summed, divided by the calls;
#     the same recording samples execution (jdk.ExecutionSample, 10 ms) and allocation
#     (jdk.ObjectAllocationSample) for the hot frames and the big allocators.
#
# Usage: gateway/bench/cpu.sh [RATE=300] [SECONDS=15] [CONNECTIONS=16]
#   BENCH_GATEWAY_DIR: the gateway module to measure (default: this one); it must have been built
#     with: ./mvnw -B -pl gateway -am package -DskipTests dependency:build-classpath \
#             -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-cp.txt
#   BENCH_BILLING=1 as in run.sh. BENCH_GATEWAY_PORT (18480). Output: target/bench-cpu/ of that module.
set -euo pipefail
RATE=${1:-300}; SECS=${2:-15}; CONNS=${3:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
GW=${BENCH_GATEWAY_DIR:-$(dirname "$HERE")}; GW=$(cd "$GW" && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA="$JAVA_HOME/bin/java"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 2; }
cd "$GW"
[ -f target/bench-cp.txt ] || { echo "build $GW first (see the usage above)" >&2; exit 2; }
OUT=target/bench-cpu; rm -rf "$OUT"; mkdir -p "$OUT"
GW_PORT=${BENCH_GATEWAY_PORT:-18480}
. "$HERE/fakes.sh"
# a fixed set of compiler threads, so that none exits (taking its CPU time along) mid-window
start_fakes_and_gateway -XX:-UseDynamicNumberOfCompilerThreads 800
URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"

ticks() { awk '{print $14+$15}' "/proc/$GW_PID/stat"; }
# clock ticks of the gateway's JIT compiler threads and GC threads (alive now), as "jit gc"
jitgc() {
  local jit=0 gc=0 t name v
  for t in /proc/$GW_PID/task/*; do
    name=$(cat "$t/comm" 2>/dev/null) || continue
    v=$(sed 's/^.*) //' "$t/stat" 2>/dev/null | awk '{print $12+$13}') || continue
    case "$name" in
      C1\ Compiler*|C2\ Compiler*) jit=$((jit + v)) ;;
      GC\ Thread*|G1\ *) gc=$((gc + v)) ;;
    esac
  done
  echo "$jit $gc"
}
wrkrun() { # stream rate seconds connections -> RESULT line
  BENCH_STREAM=$1 BENCH_RATE=$2 BENCH_CONNECTIONS=$4 wrk -t2 -c"$4" -d"$3"s --latency \
    -s "$HERE/chat.lua" "$URL" | grep '^RESULT'
}
calls() { sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$1"; }
bad() { sed 's/.*errors=\([0-9]*\) non2xx=\([0-9]*\).*/\1+\2/' <<<"$1" | bc; }

cat > "$OUT/alloc.jfc" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0">
  <event name="jdk.ThreadAllocationStatistics"><setting name="enabled">true</setting><setting name="period">everyChunk</setting></event>
  <event name="jdk.ExecutionSample"><setting name="enabled">true</setting><setting name="period">10 ms</setting></event>
  <event name="jdk.CPUTimeSample"><setting name="enabled">true</setting><setting name="throttle">2ms</setting></event>
  <event name="jdk.ObjectAllocationSample"><setting name="enabled">true</setting><setting name="throttle">1000/s</setting><setting name="stackTrace">true</setting></event>
</configuration>
EOF

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/results.txt"
# long enough for the JIT to finish compiling the hot path even on a loaded machine (its compiler
# threads starve there, and interpreted code would be counted)
for round in 1 2 3; do for s in 0 1; do
  wrkrun $s 0 8 16 >/dev/null; wrkrun $s "$RATE" 4 "$CONNS" >/dev/null
done; done
for s in 0 1; do
  read -r j0 g0 < <(jitgc); c0=$(ticks)
  r=$(wrkrun $s "$RATE" "$SECS" "$CONNS")
  c1=$(ticks); read -r j1 g1 < <(jitgc)
  n=$(calls "$r")
  ms() { awk -v c="$1" -v t="$(getconf CLK_TCK)" -v n="$n" 'BEGIN{printf "%.3f", c*1000/t/n}'; }
  # the JIT's own compiling is left out of the per-call figure: on a loaded machine its threads
  # starve and compile late, into the measured window
  cpu="$(ms $((c1 - c0 - (j1 - j0)))) (jit $(ms $((j1 - j0))) gc $(ms $((g1 - g0))))"
  "$JAVA_HOME/bin/jcmd" "$GW_PID" JFR.start name=a settings="$GW/$OUT/alloc.jfc" >/dev/null
  r2=$(wrkrun $s "$RATE" "$SECS" "$CONNS")
  "$JAVA_HOME/bin/jcmd" "$GW_PID" JFR.stop name=a filename="$GW/$OUT/stream$s.jfr" >/dev/null
  n2=$(calls "$r2")
  "$JAVA_HOME/bin/jfr" print --json --events jdk.ThreadAllocationStatistics "$OUT/stream$s.jfr" > "$OUT/alloc$s.json"
  alloc=$(python3 - "$OUT/alloc$s.json" "$n2" <<'EOF'
import json, sys
ev = [e["values"] for e in json.load(open(sys.argv[1]))["recording"]["events"]]
t0 = min(v["startTime"] for v in ev)
per = {}
for v in sorted(ev, key=lambda v: v["startTime"]):
    th = v["thread"] or {}
    per.setdefault(th.get("javaThreadId") or th.get("osName"), []).append(v)
total = 0
for vs in per.values():
    if len(vs) >= 2:
        total += vs[-1]["allocated"] - vs[0]["allocated"]
    elif vs[0]["startTime"] != t0:  # seen only at the end: started within the recording
        total += vs[0]["allocated"]
print(f"{total / int(sys.argv[2]) / 1024:.1f}")
EOF
)
  echo "stream=$s calls=$n bad=$(bad "$r") cpu_ms_per_call=$cpu | calls=$n2 bad=$(bad "$r2") alloc_kib_per_call=$alloc" | tee -a "$OUT/results.txt"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/results.txt"
echo "profiles: $GW/$OUT/stream{0,1}.jfr (jfr print --events jdk.ExecutionSample ...)"
