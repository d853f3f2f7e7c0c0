#!/usr/bin/env python3
"""Runs glm-devcheck golden on one model on two devices and compares their last-prompt-position
logits (for models without a llama.cpp golden, e.g. the random bench models: CPU vs CUDA).

usage: compare_devices.py DEVCHECK_BIN MODEL DEVICE_A DEVICE_B [abs_tol]
Prints one JSON line; exit 1 when a run fails or a logit differs by more than abs_tol (default 1e-2).
Greedy tokens are reported up to the first step where device A's top two are within 1e-2 (a near
tie may legitimately flip), not judged.
"""
import json, os, subprocess, sys, tempfile

binary, model, dev_a, dev_b = sys.argv[1:5]
tol = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-2
PROMPTS = [[1, 2, 3, 4, 5, 6, 7, 8], [100, 2000, 31000, 7], [42] * 19, list(range(300, 333))]
N_GEN = 8


def run(device):
    with tempfile.NamedTemporaryFile('w', delete=False, suffix='.txt') as f:
        for p in PROMPTS:
            f.write(' '.join(map(str, p)) + '\n')
        name = f.name
    out = subprocess.run([binary, 'golden', model, device, 'f32', name, 'single', str(N_GEN)], capture_output=True, text=True)
    os.unlink(name)
    if out.returncode != 0:
        raise RuntimeError(f'{device}: {out.stderr.strip()}')
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


name = os.path.basename(model)
try:
    a, b = run(dev_a), run(dev_b)
except RuntimeError as e:
    print(json.dumps({'model': name, 'devices': [dev_a, dev_b], 'ok': False, 'error': str(e)}))
    sys.exit(1)
max_diff, max_abs, greedy_same, greedy_steps = 0.0, 0.0, 0, 0
for oa, ob in zip(a, b):
    max_diff = max(max_diff, max(abs(x - y) for x, y in zip(oa['last'], ob['last'])))
    max_abs = max(max_abs, max(abs(x) for x in oa['last']))
    limit = N_GEN
    for k, top in enumerate(oa['top5']):
        if top[0][1] - top[1][1] < 1e-2:
            limit = k + 1
            break
    greedy_steps += limit
    greedy_same += sum(x == y for x, y in zip(oa['greedy'][:limit], ob['greedy'][:limit]))
ok = len(a) == len(b) == len(PROMPTS) and max_diff <= tol
print(json.dumps({'model': name, 'devices': [dev_a, dev_b], 'ok': ok, 'max_last_logit_diff': max_diff, 'tol': tol,
                  'max_abs_logit': round(max_abs, 4), 'greedy_same_steps': f'{greedy_same}/{greedy_steps}'}))
sys.exit(0 if ok else 1)
