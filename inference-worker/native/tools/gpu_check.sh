#!/usr/bin/env bash
# The GPU check of the engine, in one run on a CUDA machine: build the native library
# with the CUDA backend, run the C++ tests on that host's CPU, compare CPU and CUDA against the
# llama.cpp goldens (small-glm4-q4_k_m covers Q4_K + Q6_K), check batch invariance on the GPU,
# compare CPU and CUDA on random 1B K-quant models (Q4_K_M, Q5_K_M: real row lengths, no golden),
# and bench the 1B model (Q8_0, Q4_0, Q4_K_M, Q5_K_M).
#   usage: gpu_check.sh REFERENCE_DIR OUT_DIR
set -uo pipefail
REF="$1"; OUT="$2"
NATIVE="$(cd "$(dirname "$0")/.." && pwd)"
B=/tmp/glm-native-build
mkdir -p "$OUT"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  lscpu | grep -E '^Model name'
  grep -o -w -E 'avx512f|avx512vnni|avx512bw|avx2' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
} 2>&1 | tee "$OUT/machine.txt"

t0=$(date +%s)
cmake -S "$NATIVE" -B "$B" -DCMAKE_BUILD_TYPE=Release -DGLM_SANITIZE=OFF -DCMAKE_CUDA_ARCHITECTURES=90 >"$OUT/build.log" 2>&1 \
  && cmake --build "$B" -j16 >>"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"; grep -i "cuda backend" "$OUT/build.log" | head -3

echo "== ctest on this host's CPU (all CPU paths it supports)"
GLM_SHARED_DIR="$(dirname "$REF")" ctest --test-dir "$B" --output-on-failure -E golden 2>&1 | tail -15 | tee "$OUT/ctest.txt"

echo "== goldens: CPU (this host's best path)"
python3 "$NATIVE/tools/compare_golden.py" "$REF" "$B/glm-devcheck" cpu 1e-4 2>&1 | tee "$OUT/golden-cpu.jsonl"
echo "== goldens: CUDA"
python3 "$NATIVE/tools/compare_golden.py" "$REF" "$B/glm-devcheck" cuda:0 1e-3 2>&1 | tee "$OUT/golden-cuda.jsonl"

echo "== batch invariance on the GPU"
for m in small-glm4-q8_0 small-glm4-q4_0 small-glm4-q4_k_m small-glm4-f16 tiny-chatglm-f32; do
  "$B/glm-devcheck" invariance "$REF/models/$m.gguf" cuda:0 1 2>&1
done | tee "$OUT/invariance-cuda.jsonl"

echo "== 1B bench models"
python3 "$NATIVE/tools/make_bench_model.py" --type q8_0 --out /tmp/b1-q8_0.gguf --seed 1 &
python3 "$NATIVE/tools/make_bench_model.py" --type q4_0 --out /tmp/b1-q4_0.gguf --seed 1 &
python3 "$NATIVE/tools/make_bench_model.py" --type q4_k_m --out /tmp/b1-q4_k_m.gguf --seed 1 &
python3 "$NATIVE/tools/make_bench_model.py" --type q5_k_m --out /tmp/b1-q5_k_m.gguf --seed 1 &
python3 "$NATIVE/tools/make_bench_model.py" --type q5_k_m --out /tmp/b2-q5_k_m.gguf --seed 2 --layers 2 &
wait
ls -la /tmp/b1-*.gguf /tmp/b2-*.gguf
echo "== CPU vs CUDA on K-quant models without a golden (Q5_K has no llama.cpp golden)"
for f in /tmp/b2-q5_k_m.gguf /tmp/b1-q4_k_m.gguf; do
  python3 "$NATIVE/tools/compare_devices.py" "$B/glm-devcheck" "$f" cpu cuda:0 2>&1
done | tee "$OUT/cpu-vs-cuda.jsonl"
"$B/glm-devcheck" invariance /tmp/b2-q5_k_m.gguf cuda:0 1 2>&1 | tee -a "$OUT/invariance-cuda.jsonl"
"$B/glm-devcheck" bandwidth 2>&1 | tee "$OUT/bandwidth.json"
for t in q8_0 q4_0 q4_k_m q5_k_m; do
  "$B/glm-devcheck" bench /tmp/b1-$t.gguf cuda:0 1 2>&1 | sed "s/^/$t graphs /"
  GLM_CUDA_GRAPHS=0 "$B/glm-devcheck" bench /tmp/b1-$t.gguf cuda:0 1 2>&1 | sed "s/^/$t no-graphs /"
done | tee "$OUT/bench-cuda.txt"
echo "== goldens: CUDA without graphs (the launch-by-launch path)"
GLM_CUDA_GRAPHS=0 python3 "$NATIVE/tools/compare_golden.py" "$REF" "$B/glm-devcheck" cuda:0 1e-3 2>&1 | tail -1 | tee "$OUT/golden-cuda-nographs.jsonl"
echo "total: $(( $(date +%s) - t0 )) s"
