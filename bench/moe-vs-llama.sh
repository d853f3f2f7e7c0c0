#!/usr/bin/env bash
# MoE speed side by side with llama.cpp (issue 24): the same moe-1b Q4_0 and Q8_0 files, the same
# thread count, both tools interleaved (llama.cpp, this engine, next file, ..., REPS rounds), one
# table of ratios with the issue's targets: prefill 128 and batch-1 decode >= 1.1x, batch-16
# decode >= 1.5x. Wall-clock figures: run it on a quiet machine (the load average is printed and
# recorded; under load llama.cpp's spinning OpenMP threads lose far more than this engine's).
#
#   LLAMA_BIN=/work/llama.cpp/build/bin bench/moe-vs-llama.sh
#
# LLAMA_BIN   folder holding llama-batched-bench (default /work/llama.cpp/build/bin)
# MODELS      folder for the two bench files (default ${TMPDIR:-/tmp}/glm-moe-vs-llama); made once
#             with `glm engine make-model --arch glm4moe --preset moe-1b --type q4_0|q8_0 --seed 1`
# THREADS     default 2;  REPS  rounds, each figure the median of them (default 3)
# TYPES       default "q4_0 q8_0";  OUT  raw results, one JSON line per run (default MODELS/runs.jsonl)
#
# llama.cpp: llama-batched-bench -m FILE -c 4096 -npp 128 -ntg 16 -npl 1,16 -t T -tb T
#   --output-format jsonl, OMP_WAIT_POLICY=passive (its OpenMP threads sleep at barriers instead of
#   spinning, as this engine's pool does); npl 1 gives prefill (speed_pp) and batch-1 decode
#   (speed_tg), npl 16 batch-16 decode (speed_tg: 16 sequences, each its own 128-token prompt).
# this engine: glm engine bench --model FILE --threads T --batch 1,16 --prompt 128 --gen 16
#   --reps 1 --triad-mib 0 --json (prefill_tok_s, decode[batch].tok_s; the same shapes).
# Exit 0 when both tools ran (whatever the ratios), 2 when something is missing or failed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLAMA_BIN="${LLAMA_BIN:-/work/llama.cpp/build/bin}"
MODELS="${MODELS:-${TMPDIR:-/tmp}/glm-moe-vs-llama}"
THREADS="${THREADS:-2}"
REPS="${REPS:-3}"
TYPES="${TYPES:-q4_0 q8_0}"
OUT="${OUT:-$MODELS/runs.jsonl}"
BB="$LLAMA_BIN/llama-batched-bench"
die() { echo "moe-vs-llama: $*" >&2; exit 2; }
[[ -x "$BB" ]] || die "no llama-batched-bench at $BB (set LLAMA_BIN)"
command -v python3 >/dev/null || die "python3 is missing"
mkdir -p "$MODELS"
: >"$OUT"

for t in $TYPES; do
  f="$MODELS/moe-1b-$t.gguf"
  if [[ ! -s "$f" ]]; then
    echo "moe-vs-llama: making $f" >&2
    "$ROOT/glm" engine make-model --arch glm4moe --preset moe-1b --type "$t" --seed 1 --out "$f.tmp" >&2
    mv "$f.tmp" "$f"
  fi
done

load() { cut -d' ' -f1 /proc/loadavg; }
for r in $(seq 1 "$REPS"); do
  for t in $TYPES; do
    f="$MODELS/moe-1b-$t.gguf"
    l0=$(load)
    echo "moe-vs-llama: round $r/$REPS $t: llama.cpp (load $l0)" >&2
    OMP_WAIT_POLICY=passive "$BB" -m "$f" -c 4096 -npp 128 -ntg 16 -npl 1,16 -t "$THREADS" -tb "$THREADS" \
      --output-format jsonl >"$MODELS/llama.out" 2>"$MODELS/llama.err" \
      || die "llama-batched-bench failed; see $MODELS/llama.err"
    python3 - "$t" "$r" "$l0" "$(load)" "$MODELS/llama.out" >>"$OUT" <<'PY'
import json, sys
t, r, l0, l1, path = sys.argv[1:6]
rows = {}
for line in open(path):
    line = line.strip()
    if line.startswith("{"):
        j = json.loads(line)
        rows[j["pl"]] = j
if 1 not in rows or 16 not in rows:
    sys.exit("moe-vs-llama: llama-batched-bench printed no pl=1 / pl=16 rows")
print(json.dumps({"tool": "llama.cpp", "type": t, "round": int(r), "load": [float(l0), float(l1)],
                  "prefill": rows[1]["speed_pp"], "decode1": rows[1]["speed_tg"],
                  "decode16": rows[16]["speed_tg"]}))
PY
    l0=$(load)
    echo "moe-vs-llama: round $r/$REPS $t: this engine (load $l0)" >&2
    "$ROOT/glm" engine bench --model "$f" --threads "$THREADS" --batch 1,16 --prompt 128 --gen 16 \
      --reps 1 --triad-mib 0 --json >"$MODELS/glm.out" 2>"$MODELS/glm.err" \
      || die "glm engine bench failed; see $MODELS/glm.err"
    python3 - "$t" "$r" "$l0" "$(load)" "$MODELS/glm.out" >>"$OUT" <<'PY'
import json, sys
t, r, l0, l1, path = sys.argv[1:6]
j = json.load(open(path))
d = {x["batch"]: x["tok_s"] for x in j["decode"]}
print(json.dumps({"tool": "glm", "type": t, "round": int(r), "load": [float(l0), float(l1)],
                  "prefill": j["prefill_tok_s"], "decode1": d[1], "decode16": d[16]}))
PY
  done
done

LLAMA_VERSION=$("$BB" --version 2>&1 | grep -m1 -i version || true)
python3 - "$OUT" "$THREADS" "$LLAMA_VERSION" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("llama.cpp: %s" % (sys.argv[3] or "version unknown"))
targets = {"prefill": 1.1, "decode1": 1.1, "decode16": 1.5}
names = {"prefill": "prefill 128", "decode1": "decode batch 1", "decode16": "decode batch 16"}
loads = [x for r in runs for x in r["load"]]
print("moe-1b, %s threads, %d round(s), median tok/s; load average %.1f-%.1f during the runs"
      % (sys.argv[2], max(r["round"] for r in runs), min(loads), max(loads)))
print("| file | measurement | llama.cpp tok/s | this engine tok/s | ratio | target | met |")
print("|---|---|---|---|---|---|---|")
for t in dict.fromkeys(r["type"] for r in runs):
    for k in targets:
        ll = statistics.median(r[k] for r in runs if r["type"] == t and r["tool"] == "llama.cpp")
        gg = statistics.median(r[k] for r in runs if r["type"] == t and r["tool"] == "glm")
        ratio = gg / ll if ll > 0 else float("inf")
        print("| moe-1b %s | %s | %.1f | %.1f | %.2fx | >= %.1fx | %s |"
              % (t.upper(), names[k], ll, gg, ratio, targets[k], "yes" if ratio >= targets[k] else "NO"))
# The 1-minute load average includes the benchmark's own threads (one run follows another), so a
# quiet machine reads about THREADS; more than half a core above that means something else ran.
limit = int(sys.argv[2]) + 0.5
if max(loads) > limit:
    print("warning: load average above %.1f (the %s benchmark threads + 0.5) during the runs: something "
          "else ran, the ratios are not a valid comparison" % (limit, sys.argv[2]), file=sys.stderr)
PY
