#!/usr/bin/env bash
# Batch-1 decode against the memory-bandwidth bound (issue 25), for a quiet machine: for each of the
# 1.07 B bench files (Q4_0 with its Q6_K head, Q8_0, Q4_K_M) the native glm-bench measures a STREAM
# triad on the engine's threads (best of a pass before and one right after decode), batch-1 decode
# and its per-phase profile, and prints one line per file: triad GB/s, MB per token, bound tok/s,
# decode tok/s, fraction. No JVM involved. Then one thread's kernel speeds (glm-kernel-speed: GB/s
# per CPU-second, L2-resident and streamed) for the record.
#
#   bench/decode-bound.sh [--reps N] [--gen N] [--paired N] [--rounds N]
#
# The fraction is given twice: against the best triad pass around the whole decode run (STREAM's
# convention), and --paired (default 64) steps each timed between two short triad passes, the
# median of the per-step fractions against those neighbours. On a VM whose bandwidth drifts within
# seconds the first compares the decode's average moment with the triad's best one; the second
# compares like with like. --rounds N (default 1) runs the three files N times, alternating, and ends
# with every paired step binned by the moment's bandwidth (10 GB/s bins): the median fraction per
# bin and the GB/s decode streamed there, which shows where the engine keeps up with the memory and
# where it stops scaling with it.
#
# GLM_BENCH_DIR  native build dir holding glm-bench and glm-kernel-speed (default: builds
#                inference-worker/native into ${TMPDIR:-/tmp}/glm-decode-bound/build)
# GLM_BENCH_MODELS  folder for the bench files (default ${TMPDIR:-/tmp}/glm-decode-bound); missing
#                files are written by inference-worker/native/tools/make_bench_model.py (numpy)
# GLM_BENCH_THREADS default 2
# Takes about 2 minutes on an idle 2-core machine once the files exist (writing them: ~1 minute each).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPS=5
GEN=32
PAIRED=64
ROUNDS=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --gen) GEN="$2"; shift 2 ;;
    --paired) PAIRED="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "usage: bench/decode-bound.sh [--reps N] [--gen N] [--paired N] [--rounds N]" >&2; exit 2 ;;
  esac
done
THREADS="${GLM_BENCH_THREADS:-2}"
WORK="${GLM_BENCH_MODELS:-${TMPDIR:-/tmp}/glm-decode-bound}"
mkdir -p "$WORK"
BIN="${GLM_BENCH_DIR:-}"
if [[ -z "$BIN" ]]; then
  BIN="$WORK/build"
  cmake -S "$ROOT/inference-worker/native" -B "$BIN" -DGLM_CUDA=OFF -DGLM_SANITIZE=OFF >/dev/null
  cmake --build "$BIN" -j"$(nproc)" --target glm-bench glm-kernel-speed >/dev/null
fi
for t in q4_0 q8_0 q4_k_m; do
  f="$WORK/b1-$t.gguf"
  if [[ ! -s "$f" ]]; then
    echo "decode-bound: writing $f" >&2
    python3 "$ROOT/inference-worker/native/tools/make_bench_model.py" --type "$t" --out "$f.tmp" >&2
    mv "$f.tmp" "$f"
  fi
done
echo "uptime: $(uptime)"
printf '%-8s %10s %12s %10s %12s %9s   %s\n' file "triad GB/s" "MB/token" "bound t/s" "decode t/s" fraction \
  "paired: local triad GB/s, fraction median (quartiles), vs faster neighbour"
SAMPLES="$(mktemp)"
trap 'rm -f "$SAMPLES"' EXIT
for round in $(seq "$ROUNDS"); do
for t in q4_0 q8_0 q4_k_m; do
  out=$("$BIN/glm-bench" --model "$WORK/b1-$t.gguf" --threads "$THREADS" --batch 1 --prompt 32 --gen "$GEN" \
    --reps "$REPS" --triad-mib 256 --paired "$PAIRED" --profile --json)
  python3 - "$t" "$out" "$SAMPLES" <<'PY'
import json, sys
t, j = sys.argv[1], json.loads(sys.argv[2])
d = j["decode"][0]["tok_s"]
p = j.get("paired")
pair = ("   %.2f, %.1f%% (%.1f-%.1f%%), %.1f%%" % (p["triad_gb_s"], 100 * p["fraction"], 100 * p["q1"], 100 * p["q3"],
                                               100 * p["fraction_vs_faster"])) if p else ""
print("%-8s %10.2f %12.1f %10.1f %12.1f %8.1f%%%s" % (t, j["triad_gb_s"], j["mb_per_token"], j["bound_tok_s"], d,
                                                    100 * j["fraction"], pair))
p = j["profile_ms_per_token"]
g = j.get("profile_gb_s", {})
tot = sum(p.values())
print("         " + "  ".join(("%s %.2f" % (k, v)) + (" (%.1f GB/s)" % g[k] if k in g else "")
                              for k, v in p.items() if v > 0.005) + "  (ms/token, total %.2f)" % tot)
with open(sys.argv[3], "a") as f:
    for bw, fr in j.get("paired_samples", []):
        f.write("%s %s %s\n" % (t, bw, fr))
PY
done
done
python3 - "$SAMPLES" <<'PY'
import collections, sys
by = collections.defaultdict(list)
for line in open(sys.argv[1]):
    t, bw, fr = line.split()
    by[(t, int(float(bw) // 10) * 10)].append((float(fr), float(fr) * float(bw)))
if not by:
    sys.exit(0)
bins = sorted({b for _, b in by})
print("paired steps by the moment's bandwidth (local triad GB/s): median fraction, GB/s decode streamed (steps)")
print("%-8s" % "file" + "".join("%22s" % ("%d-%d" % (b, b + 10)) for b in bins))
for t in ("q4_0", "q8_0", "q4_k_m"):
    row = "%-8s" % t
    for b in bins:
        v = sorted(by.get((t, b), []))
        row += "%22s" % ("%.1f%%, %.1f (%d)" % (100 * v[len(v) // 2][0], sorted(x[1] for x in v)[len(v) // 2], len(v))
                         if v else "-")
    print(row)
PY
echo "uptime: $(uptime)"
"$BIN/glm-kernel-speed" --ms 500
