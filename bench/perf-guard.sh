#!/usr/bin/env bash
# Performance regression guard (issue 25): batch-1 decode and 16-stream serving of this engine,
# each as a ratio to llama.cpp measured in the same run on the same GGUF file, against the ratios
# in bench/perf-guard-baseline.json. Fails (exit 1) when either ratio drops more than 15 % below
# its baseline; skips cleanly (exit 0, one line on stderr) when llama.cpp is not present, and runs
# the decode leg alone (saying so) when the build has llama-bench but no llama-server.
#
#   LLAMA_CPP_DIR=/path/to/llama.cpp/build bench/perf-guard.sh [--serve-only] [--write-baseline]
#
# --serve-only      only the serving leg: the side-by-side of `glm bench serve` and llama-server on
#                   the same file with the same prompts (serve_load.py sends the token ids that
#                   BenchServeCommand's first level sends), throughput and TTFT/ITL p50/p99 of both
# --write-baseline  after measuring, write the measured ratios into $GLM_GUARD_BASELINE (with the
#                   date, CPU, llama.cpp commit and shape) instead of checking against it: the one
#                   documented way to regenerate the baseline on a quiet CI machine
#
# LLAMA_CPP_DIR     a llama.cpp CMake build dir holding bin/llama-bench and bin/llama-server
#                   (unset or incomplete: skip)
# GLM_GUARD_MODEL   the GGUF to run (default: made once with `glm engine make-model --preset
#                   $GLM_GUARD_PRESET --type q4_0` under $GLM_GUARD_CACHE)
# GLM_GUARD_PRESET  default 1b (the bench model of docs/performance.md)
# GLM_GUARD_CACHE   default ${TMPDIR:-/tmp}/glm-perf-guard
# GLM_GUARD_THREADS default 2
# GLM_GUARD_TOLERANCE default 0.15
# GLM_GUARD_BASELINE default bench/perf-guard-baseline.json
# GLM_GUARD_GEN     generated tokens per request / decode run (default 32)
# GLM_GUARD_STREAMS concurrent streams of the serving leg (default 16)
# GLM_GUARD_PAIRS   how many times the engines alternate in each leg (default 3); each leg's ratio is
#                   the median of its per-pair ratios (all of them are in "pair_ratios")
#
# Prints one JSON object on stdout (the figures, ratios, baselines and verdict). Takes about
# 1.5 minutes on 2 cores with 3 pairs once the project is built and the model exists. Not part of
# `mvnw verify`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
skip() { echo "perf-guard: skipped: $*" >&2; exit 0; }
SERVE_ONLY=0
WRITE_BASELINE=0
for a in "$@"; do
  case "$a" in
    --serve-only) SERVE_ONLY=1 ;;
    --write-baseline) WRITE_BASELINE=1 ;;
    *) echo "usage: bench/perf-guard.sh [--serve-only] [--write-baseline]" >&2; exit 2 ;;
  esac
done

[[ -n "${LLAMA_CPP_DIR:-}" ]] || skip "LLAMA_CPP_DIR is not set (a llama.cpp build dir with bin/llama-bench and bin/llama-server)"
LB="$LLAMA_CPP_DIR/bin/llama-bench"
LS="$LLAMA_CPP_DIR/bin/llama-server"
[[ -x "$LB" ]] || skip "no llama-bench under $LLAMA_CPP_DIR/bin"
command -v python3 >/dev/null || skip "python3 is missing"

THREADS="${GLM_GUARD_THREADS:-2}"
TOL="${GLM_GUARD_TOLERANCE:-0.15}"
BASELINE="${GLM_GUARD_BASELINE:-$ROOT/bench/perf-guard-baseline.json}"
CACHE="${GLM_GUARD_CACHE:-${TMPDIR:-/tmp}/glm-perf-guard}"
PRESET="${GLM_GUARD_PRESET:-1b}"
MODEL="${GLM_GUARD_MODEL:-}"
MODEL_DESC="$MODEL"
[[ -n "$MODEL" ]] || MODEL_DESC="$PRESET bench model, q4_0 (glm engine make-model --preset $PRESET --type q4_0 --seed 1)"
mkdir -p "$CACHE"
if [[ -z "$MODEL" ]]; then
  MODEL="$CACHE/$PRESET-q4_0.gguf"
  if [[ ! -s "$MODEL" ]]; then
    echo "perf-guard: making $MODEL" >&2
    "$ROOT/glm" engine make-model --preset "$PRESET" --type q4_0 --seed 1 --out "$MODEL.tmp" >&2
    mv "$MODEL.tmp" "$MODEL"
  fi
fi
[[ -s "$MODEL" ]] || { echo "perf-guard: no model at $MODEL" >&2; exit 2; }

GEN="${GLM_GUARD_GEN:-32}"
PAIRS="${GLM_GUARD_PAIRS:-3}"
PROMPT=27
STREAMS="${GLM_GUARD_STREAMS:-16}"
T0=$(date +%s)

# The two engines run one after the other, so each pair's ratio also carries how the machine's
# speed moved between them (on a shared VM the memory bandwidth can move 40 % within seconds): the
# legs alternate GLM_GUARD_PAIRS times and the guard takes the median of the per-pair ratios.
decode_pairs=()
serve_pairs=()
have_server=0
[[ -x "$LS" ]] && have_server=1
[[ $have_server -eq 1 ]] || echo "perf-guard: no llama-server under $LLAMA_CPP_DIR/bin: the serving leg is skipped" >&2
SERVER=""
trap '[[ -n "$SERVER" ]] && kill $SERVER 2>/dev/null || true' EXIT
for pair in $(seq 1 "$PAIRS"); do
  if [[ $SERVE_ONLY -eq 0 ]]; then
    echo "perf-guard: [$pair/$PAIRS] batch-1 decode, this engine" >&2
    ours=$("$ROOT/glm" engine bench --model "$MODEL" --threads "$THREADS" --batch 1 --prompt 32 \
      --gen "$GEN" --reps 3 --triad-mib 0 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["decode"][0]["tok_s"])')
    echo "perf-guard: [$pair/$PAIRS] batch-1 decode, llama-bench" >&2
    theirs=$("$LB" -m "$MODEL" -t "$THREADS" -p 0 -n "$GEN" -r 3 -o json 2>/dev/null \
      | python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x.get("n_gen",0)>0]; print(r[0]["avg_ts"])')
    decode_pairs+=("[$ours,$theirs]")
  fi
  if [[ $have_server -eq 1 ]]; then
    echo "perf-guard: [$pair/$PAIRS] $STREAMS streams, glm bench serve" >&2
    ours=$("$ROOT/glm" bench serve --model "$MODEL" --threads "$THREADS" --concurrency "$STREAMS" \
      --requests "$STREAMS" --prompt-tokens "$PROMPT" --gen-tokens "$GEN" --no-sequential --json \
      | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["rows"][0]))')
    echo "perf-guard: [$pair/$PAIRS] $STREAMS streams, llama-server" >&2
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    CTX=$(( STREAMS * (PROMPT + GEN + 16) ))
    "$LS" -m "$MODEL" -t "$THREADS" -np "$STREAMS" -c "$CTX" --host 127.0.0.1 --port "$PORT" \
      >"$CACHE/llama-server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 240); do
      if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/health', timeout=1)" 2>/dev/null; then
        break
      fi
      kill -0 $SERVER 2>/dev/null || { echo "perf-guard: llama-server exited; see $CACHE/llama-server.log" >&2; exit 2; }
      sleep 0.5
    done
    theirs=$(python3 "$ROOT/bench/serve_load.py" --url "http://127.0.0.1:$PORT" --concurrency "$STREAMS" \
      --requests "$STREAMS" --prompt "$PROMPT" --gen "$GEN" --warmup \
      | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["rows"][0]))')
    kill $SERVER 2>/dev/null || true
    wait $SERVER 2>/dev/null || true
    SERVER=""
    serve_pairs+=("[$ours,$theirs]")
  fi
done
trap - EXIT
decode_json="[$(IFS=,; echo "${decode_pairs[*]}")]"
serve_json="[$(IFS=,; echo "${serve_pairs[*]}")]"

LLAMA_COMMIT=$(git -C "$LLAMA_CPP_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
python3 - "$BASELINE" "$TOL" "$decode_json" "$serve_json" "$SERVE_ONLY" "$WRITE_BASELINE" \
  "$(( $(date +%s) - T0 ))" "$LLAMA_COMMIT" "$CPU" "$THREADS" "$STREAMS" "$PROMPT" "$GEN" "$MODEL_DESC" <<'PY'
import datetime, json, sys
(base_path, tol, dec, srv, serve_only, write, secs, commit, cpu, threads, streams, prompt,
 gen, model) = sys.argv[1:15]
tol = float(tol)
dec, srv = json.loads(dec), json.loads(srv)
serve_only, write = serve_only == "1", write == "1"
base = json.load(open(base_path))
out = {}


def median_pair(pairs, ratio):
    """The pair whose ratio is the median (the lower middle one for an even count)."""
    ranked = sorted(pairs, key=ratio)
    return ranked[(len(ranked) - 1) // 2]


ob1 = lb1 = 0.0
if not serve_only:
    r = lambda p: p[0] / p[1]
    ob1, lb1 = median_pair(dec, r)
    out["decode_b1"] = {"glm_tok_s": ob1, "llama_tok_s": lb1, "ratio": round(ob1 / lb1, 3),
                        "pair_ratios": [round(r(p), 3) for p in dec], "baseline_ratio": base["decode_b1_ratio"]}
osv = lsv = {}
if srv:
    r = lambda p: p[0]["gen_tok_s"] / p[1]["gen_tok_s"]
    osv, lsv = median_pair(srv, r)
    s = {"glm": osv, "llama": lsv, "ratio": round(osv["gen_tok_s"] / lsv["gen_tok_s"], 3),
         "pair_ratios": [round(r(p), 3) for p in srv], "baseline_ratio": base["serve_16_ratio"]}
    # latencies: this engine's over llama-server's (below 1: this engine is faster), the median pair's
    for k in ("ttft_ms_p50", "ttft_ms_p99", "itl_ms_p50", "itl_ms_p99"):
        if lsv.get(k):
            s[k + "_glm_over_llama"] = round(osv[k] / lsv[k], 3)
    out["serve_16"] = s
else:
    out["serve_16"] = {"skipped": "no llama-server in LLAMA_CPP_DIR"}
out["tolerance"] = tol
out["shape"] = {"threads": int(threads), "streams": int(streams), "prompt_tokens": int(prompt),
                "gen_tokens": int(gen), "pairs": max(len(dec), len(srv)), "model": model, "llama_cpp": commit,
                "cpu": cpu}
out["seconds"] = int(secs)
failed = []
if write:
    if serve_only or "ratio" not in out["serve_16"]:
        print("perf-guard: --write-baseline needs both legs (llama-bench and llama-server)", file=sys.stderr)
        sys.exit(2)
    new = {"decode_b1_ratio": out["decode_b1"]["ratio"], "serve_16_ratio": out["serve_16"]["ratio"],
           "model": model, "threads": int(threads),
           "source": "bench/perf-guard.sh --write-baseline, %s UTC, %s, llama.cpp %s, median of %d alternating "
                     "pairs: batch-1 decode %.1f vs %.1f tok/s (pair ratios %s), %s streams %.1f vs %.1f tok/s "
                     "(pair ratios %s; %s-token prompts, %s generated)"
                     % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), cpu, commit,
                        len(dec), ob1, lb1, out["decode_b1"]["pair_ratios"], streams, osv["gen_tok_s"],
                        lsv["gen_tok_s"], out["serve_16"]["pair_ratios"], prompt, gen)}
    with open(base_path, "w") as f:
        json.dump(new, f, indent=2)
        f.write("\n")
    out["baseline_written"] = base_path
else:
    failed = [k for k in ("decode_b1", "serve_16")
              if k in out and "ratio" in out[k] and out[k]["ratio"] < (1 - tol) * out[k]["baseline_ratio"]]
out["failed"] = failed
print(json.dumps(out))
for k in failed:
    print("perf-guard: FAIL %s: ratio %.3f is more than %.0f %% below the baseline %.3f"
          % (k, out[k]["ratio"], tol * 100, out[k]["baseline_ratio"]), file=sys.stderr)
sys.exit(1 if failed else 0)
PY
