#!/usr/bin/env python3
"""Load generator for llama-server, shaped like `glm bench serve --json`.

Sends REQUESTS greedy completions of random token-id prompts (PROMPT tokens, ids below
min(vocab, 30000)) to llama-server's /completion endpoint with CONCURRENCY in flight, each
streaming exactly GEN tokens (ignore_eos), and prints one JSON object:
{"rows":[{"concurrency":C,"gen_tok_s":..,"ttft_ms_p50":..,"ttft_ms_p99":..,"itl_ms_p50":..,
"itl_ms_p99":..,"prompt_tokens":P}]}
Percentiles are nearest-rank, as in BenchServeCommand. Standard library only.

The prompts are the very token ids `glm bench serve` sends at its first level: request i draws
its ids from java.util.SplittableRandom(SEED_BASE + i).nextInt(min(vocab, 30000)) (SEED_BASE 0,
as BenchServeCommand's first level; --warmup sends its warm-up prompt, seed 999999, 8 tokens),
so both engines see the same prompts in a side-by-side run.

usage: serve_load.py --url http://127.0.0.1:PORT --concurrency 16 --requests 16 --prompt 27
                     --gen 64 [--vocab 32768] [--seed-base 0] [--warmup]
"""
import argparse
import http.client
import json
import math
import queue
import sys
import threading
import time
import urllib.parse


M64 = (1 << 64) - 1


class SplittableRandom:
    """java.util.SplittableRandom's generator (SplitMix64), for nextInt(bound) only."""
    GOLDEN_GAMMA = 0x9E3779B97F4A7C15

    def __init__(self, seed):
        self.seed = seed & M64

    def _next_seed(self):
        self.seed = (self.seed + self.GOLDEN_GAMMA) & M64
        return self.seed

    @staticmethod
    def _mix32(z):
        z = ((z ^ (z >> 33)) * 0x62A9D9ED799705F5) & M64
        return (((z ^ (z >> 28)) * 0xCB24D0A5C88C35B3) & M64) >> 32

    def next_int(self, bound):
        r = self._mix32(self._next_seed())
        m = bound - 1
        if bound & m == 0:
            return r & m
        u = r >> 1
        while True:
            r = u % bound
            if u + m - r < (1 << 31):  # Java: the int sum does not overflow
                return r
            u = self._mix32(self._next_seed()) >> 1


def java_prompt(seed, n, vocab):
    """The prompt BenchServeCommand.Level.request(.., seed, n, ..) sends."""
    rnd = SplittableRandom(seed)
    hi = max(1, min(vocab, 30000))
    return [rnd.next_int(hi) for _ in range(n)]


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    idx = math.ceil(p / 100.0 * len(sorted_vals)) - 1
    return sorted_vals[min(max(idx, 0), len(sorted_vals) - 1)]


def one(url, prompt_ids, gen):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=1800)
    body = json.dumps({
        "prompt": prompt_ids, "n_predict": gen, "temperature": 0.0, "top_k": 1,
        "ignore_eos": True, "stream": True, "cache_prompt": False,
    })
    start = time.perf_counter()
    conn.request("POST", "/completion", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError("llama-server answered %d: %s" % (resp.status, resp.read()[:200]))
    ttft, last, itl, n = None, None, [], 0
    for raw in resp:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        msg = json.loads(line[5:].strip())
        now = time.perf_counter()
        if msg.get("stop"):
            break
        # one streamed chunk per generated token
        if last is None:
            ttft = (now - start) * 1000
        else:
            itl.append((now - last) * 1000)
        last = now
        n += 1
    conn.close()
    return ttft, itl, n


def run(args):
    work = queue.Queue()
    for i in range(args.requests):
        work.put(java_prompt(args.seed_base + i, args.prompt, args.vocab))
    samples, errors = [], []
    lock = threading.Lock()

    def worker():
        while True:
            try:
                p = work.get_nowait()
            except queue.Empty:
                return
            try:
                s = one(args.url, p, args.gen)
                with lock:
                    samples.append(s)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(str(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError("%d requests failed: %s" % (len(errors), errors[0]))
    tokens = sum(s[2] for s in samples)
    ttft = sorted(s[0] for s in samples if s[0] is not None)
    itl = sorted(x for s in samples for x in s[1])
    return {"concurrency": args.concurrency, "gen_tok_s": round(tokens / wall, 2),
            "ttft_ms_p50": round(pct(ttft, 50), 2), "ttft_ms_p99": round(pct(ttft, 99), 2),
            "itl_ms_p50": round(pct(itl, 50), 2), "itl_ms_p99": round(pct(itl, 99), 2),
            "prompt_tokens": args.prompt}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--prompt", type=int, default=27)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=32768)
    ap.add_argument("--seed-base", type=int, default=0)
    ap.add_argument("--warmup", action="store_true", help="one unmeasured request first")
    args = ap.parse_args()
    if args.warmup:
        one(args.url, java_prompt(999999, args.prompt, args.vocab), min(args.gen, 8))
    print(json.dumps({"rows": [run(args)]}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        print("serve_load: %s" % e, file=sys.stderr)
        sys.exit(1)
