#!/usr/bin/env bash
# Gateway latency benchmark: wrk (Debian package `wrk`) against
#   - the baseline: a trivial HTTP endpoint (reactor-netty) in the fake-backends process that
#     answers the same chat call with a canned body of the same shape, and
#   - the gateway (its own JVM, the real fat jar) routing to a FakeWorker that answers at once,
#     authenticating against a FakeAuthService (both in the fake-backends process),
# non-streaming and streaming, paced to a near-constant RATE req/s (chat.lua), RUNS times each,
# then a closed-loop throughput run. Added latency = gateway percentile - baseline percentile.
#
# Usage: gateway/bench/run.sh [RATE=500] [SECONDS=20] [RUNS=3] [CONNECTIONS=50]
#   BENCH_BILLING=1 adds the billing reservation (a FakeBillingService) to every call.
#   BENCH_SKIP_BUILD=1 reuses target/; JAVA_HOME defaults to /usr/lib/jvm/temurin-25-jdk-amd64.
#   BENCH_START_TRIES (200): tries, 0.3 s apart, for the gateway to answer before giving up.
set -euo pipefail
RATE=${1:-500}; SECONDS_PER_RUN=${2:-20}; RUNS=${3:-3}; CONNS=${4:-50}
HERE=$(cd "$(dirname "$0")" && pwd); GW=$(dirname "$HERE"); ROOT=$(dirname "$GW")
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA="$JAVA_HOME/bin/java"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 2; }
cd "$GW"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && ./mvnw -B -q -pl gateway -am install -DskipTests)
  ../mvnw -B -q dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench-cp.txt
fi
OUT=target/bench; mkdir -p "$OUT"; rm -rf "$OUT/data" "$OUT/backends.log"  # no stale BACKENDS line
GW_PORT=${BENCH_GATEWAY_PORT:-18080}
# BENCH_BILLING=1: the gateway reserves with a (fake) billing-service on every call, as deployed.
# BENCH_GATEWAY_JVM_OPTS: extra gateway JVM flags, e.g. -XX:StartFlightRecording=filename=target/bench/gw.jfr
# BENCH_GATEWAY_ARGS: extra gateway arguments, e.g. --glm.gateway.routing.loop-affine-channels=false
# BENCH_START_TRIES: chat calls, 0.3 s apart, to wait for the gateway; raise on a loaded machine
. "$HERE/fakes.sh"
start_fakes_and_gateway "" "${BENCH_START_TRIES:-200}"

GATEWAY_URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"
BASE_URL="http://127.0.0.1:$BASE/v1/chat/completions"
# wrk: 2 threads; pacing per connection from chat.lua
run() { # name url stream rate seconds connections
  local r c0 c1
  c0=$(awk '{print $14+$15}' "/proc/$GW_PID/stat")
  r=$(BENCH_STREAM=$3 BENCH_RATE=$4 BENCH_CONNECTIONS=$6 wrk -t2 -c"$6" -d"$5"s --latency \
    -s "$HERE/chat.lua" "$2" | grep '^RESULT')
  c1=$(awk '{print $14+$15}' "/proc/$GW_PID/stat")
  if [ "$2" = "$GATEWAY_URL" ]; then # CPU the gateway JVM spent per request (clock ticks -> ms)
    r="$r gateway_cpu_ms=$(awk -v c=$((c1 - c0)) -v t="$(getconf CLK_TCK)" \
      -v n="$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$r")" 'BEGIN{printf "%.3f", c*1000/t/n}')"
  fi
  echo "$1 $r" | tee -a "$OUT/results.txt"
}
: > "$OUT/results.txt"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/results.txt"
echo "warming up (closed loop, then paced; both kinds of call, twice)..."
# The modes alternate: warming one and then the other left the JIT to recompile the first one's
# path (about 90 deoptimisations) inside the first measured run, the worst run of every sitting.
for round in 1 2; do
  for s in 0 1; do
    run warm-gateway-$s "$GATEWAY_URL" $s 0 5 16 >/dev/null
    run warm-baseline-$s "$BASE_URL" $s 0 3 16 >/dev/null
    run warm-gateway-paced-$s "$GATEWAY_URL" $s "$RATE" 5 "$CONNS" >/dev/null
  done
done
for i in $(seq "$RUNS"); do
  for s in 0 1; do
    run "baseline stream=$s run=$i" "$BASE_URL" $s "$RATE" "$SECONDS_PER_RUN" "$CONNS"
    run "gateway stream=$s run=$i" "$GATEWAY_URL" $s "$RATE" "$SECONDS_PER_RUN" "$CONNS"
  done
done
for s in 0 1; do
  run "closed-loop gateway stream=$s" "$GATEWAY_URL" $s 0 "$SECONDS_PER_RUN" 32
  run "closed-loop baseline stream=$s" "$BASE_URL" $s 0 "$SECONDS_PER_RUN" 32
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/results.txt"
python3 - "$OUT/results.txt" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r'(baseline|gateway) stream=(\d) run=\d+ RESULT (.*)', line)
    if m:
        kv = dict(x.split('=') for x in m.group(3).split())
        rows.setdefault((m.group(1), m.group(2)), []).append(kv)
for s, name in (('0', 'non-streaming'), ('1', 'streaming')):
    b, g = rows.get(('baseline', s), []), rows.get(('gateway', s), [])
    if not b or not g:
        continue
    med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
    print(f"{name}: rate gateway {med(g,'rate'):.0f}/s baseline {med(b,'rate'):.0f}/s; "
          f"p50 gateway {med(g,'p50_ms'):.3f} ms baseline {med(b,'p50_ms'):.3f} ms -> added "
          f"{med(g,'p50_ms')-med(b,'p50_ms'):.3f} ms; p99 gateway {med(g,'p99_ms'):.3f} ms "
          f"baseline {med(b,'p99_ms'):.3f} ms -> added {med(g,'p99_ms')-med(b,'p99_ms'):.3f} ms; "
          f"gateway CPU {med(g,'gateway_cpu_ms'):.3f} ms per request (medians of {len(g)} runs)")
EOF
