#!/usr/bin/env python3
"""Writes the bench model of docs/performance.md (glm4, ~1.07 B parameters, random N(0, 0.02) weights, norm
weights 1) as GGUF v3, for glm-bench during development. The Java `glm engine make-model --preset 1b`
is the product's maker; this script only needs numpy.

  make_bench_model.py --type q8_0|q4_0|q4_k_m|q5_k_m|f16 --out FILE [--seed N] [--layers 18] [--shape 1b|9b]

--shape 9b takes GLM-4-9B's shape (4096 wide, 40 layers, 32 heads / 2 KV heads, FFN 13696, vocab
151552; Q8_0 and Q4_0 only, since 13696 is no multiple of 256) and writes random but valid blocks
directly rather than quantising normal samples, so a 9 B file is written in seconds (for GPU benches).

q4_0 keeps the output head in Q6_K (as llama.cpp's Q4_0 files do); its Q6_K blocks are random but
valid super-blocks of the same magnitude (the bench measures speed, not quality). q4_k_m / q5_k_m
are random Q4_K / Q5_K super-blocks with llama.cpp's *_K_M choice of Q6_K tensors.
"""
import argparse
import struct

import numpy as np

ARCH = "glm4"
E, LAYERS, HEADS, KV_HEADS, HD, ROT, FF, VOCAB, CTX = 2048, 18, 16, 2, 128, 64, 6912, 32768, 4096
F32, F16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K = 0, 1, 2, 8, 12, 13, 14
# ggml type number: (values per block, bytes per block), as native/src/ggml_types.h has them. The
# block dtypes below must come to these sizes (encode checks).
BLOCK = {F32: (1, 4), F16: (1, 2), Q4_0: (32, 18), Q8_0: (32, 34), Q4_K: (256, 144), Q5_K: (256, 176), Q6_K: (256, 210)}


def q8_0(x):
    b = x.reshape(-1, 32)
    amax = np.abs(b).max(axis=1)
    d = amax / 127.0
    idv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0)
    q = np.clip(np.rint(b * idv[:, None]), -127, 127).astype(np.int8)
    out = np.zeros(b.shape[0], dtype=[("d", "<f2"), ("q", "i1", 32)])
    out["d"] = d.astype(np.float16)
    out["q"] = q
    return out.tobytes()


def q4_0(x):
    b = x.reshape(-1, 32)
    idx = np.abs(b).argmax(axis=1)
    mx = b[np.arange(b.shape[0]), idx]
    d = mx / -8.0
    idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0)
    q = np.clip(np.trunc(b * idv[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    out = np.zeros(b.shape[0], dtype=[("d", "<f2"), ("q", "u1", 16)])
    out["d"] = d.astype(np.float16)
    out["q"] = packed
    return out.tobytes()


def q6_k_random(n, rng):
    nb = n // 256
    out = np.zeros(nb, dtype=[("qlh", "u1", 192), ("sc", "i1", 16), ("d", "<f2")])
    out["qlh"] = rng.integers(0, 256, size=(nb, 192), dtype=np.uint8)
    out["sc"] = rng.integers(-40, 41, size=(nb, 16), dtype=np.int8)
    out["d"] = np.float16(0.02 / (18.0 * 23.0))
    return out.tobytes()


def q4_k_random(n, rng):
    nb = n // 256
    out = np.zeros(nb, dtype=[("d", "<f2"), ("dmin", "<f2"), ("sc", "u1", 12), ("qs", "u1", 128)])
    out["d"] = np.float16(0.02 / (32.0 * 7.5))
    out["dmin"] = np.float16(0.02 / (32.0 * 7.5))
    out["sc"] = rng.integers(0, 256, size=(nb, 12), dtype=np.uint8)
    out["qs"] = rng.integers(0, 256, size=(nb, 128), dtype=np.uint8)
    return out.tobytes()


def q5_k_random(n, rng):
    nb = n // 256
    out = np.zeros(nb, dtype=[("d", "<f2"), ("dmin", "<f2"), ("sc", "u1", 12), ("qh", "u1", 32), ("qs", "u1", 128)])
    out["d"] = np.float16(0.02 / (32.0 * 15.5))
    out["dmin"] = np.float16(0.02 / (32.0 * 15.5))
    out["sc"] = rng.integers(0, 256, size=(nb, 12), dtype=np.uint8)
    out["qh"] = rng.integers(0, 256, size=(nb, 32), dtype=np.uint8)
    out["qs"] = rng.integers(0, 256, size=(nb, 128), dtype=np.uint8)
    return out.tobytes()


def encode(x, t, rng):
    data = encode_blocks(x, t, rng)
    assert len(data) == size_of(x.size, t), (t, len(data))
    return data


def random_blocks(n, t, rng):
    nb = n // 32
    if t == Q8_0:
        out = np.zeros(nb, dtype=[("d", "<f2"), ("q", "i1", 32)])
        out["d"] = np.float16(0.02 / 64.0)
        out["q"] = rng.integers(-127, 128, size=(nb, 32), dtype=np.int8)
        return out.tobytes()
    if t == Q4_0:
        out = np.zeros(nb, dtype=[("d", "<f2"), ("q", "u1", 16)])
        out["d"] = np.float16(0.02 / 4.0)
        out["q"] = rng.integers(0, 256, size=(nb, 16), dtype=np.uint8)
        return out.tobytes()
    if t == Q6_K:
        return q6_k_random(n, rng)
    return None


def encode_blocks(x, t, rng):
    if t == F32:
        return x.astype("<f4").tobytes()
    if t == F16:
        return x.astype("<f2").tobytes()
    if t == Q8_0:
        return q8_0(x)
    if t == Q4_0:
        return q4_0(x)
    if t == Q6_K:
        return q6_k_random(x.size, rng)
    if t == Q4_K:
        return q4_k_random(x.size, rng)
    if t == Q5_K:
        return q5_k_random(x.size, rng)
    raise ValueError(t)


def size_of(n, t):
    values, nbytes = BLOCK[t]
    return n // values * nbytes


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--type", choices=["q8_0", "q4_0", "q4_k_m", "q5_k_m", "f16"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layers", type=int, default=None)
    ap.add_argument("--shape", choices=["1b", "9b"], default="1b")
    a = ap.parse_args()
    global E, LAYERS, HEADS, KV_HEADS, HD, ROT, FF, VOCAB
    if a.shape == "9b":
        if a.type not in ("q8_0", "q4_0"):
            ap.error("--shape 9b takes --type q8_0 or q4_0 (FFN 13696 is no multiple of 256)")
        E, LAYERS, HEADS, KV_HEADS, HD, ROT, FF, VOCAB = 4096, 40, 32, 2, 128, 64, 13696, 151552
    if a.layers is None:
        a.layers = LAYERS
    wt = {"q8_0": Q8_0, "q4_0": Q4_0, "q4_k_m": Q4_K, "q5_k_m": Q5_K, "f16": F16}[a.type]
    out_t = Q6_K if wt in (Q4_0, Q4_K, Q5_K) else wt
    ftype = {Q8_0: 7, Q4_0: 2, Q4_K: 15, Q5_K: 17, F16: 1}[wt]

    def more_bits(i):
        # llama.cpp's Q4_K_M / Q5_K_M rule: attn_v and ffn_down of the first and last eighth of the layers
        # and every third layer between them are Q6_K.
        n = a.layers
        return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2

    def mixed(i):
        return Q6_K if wt in (Q4_K, Q5_K) and more_bits(i) else wt
    rng = np.random.default_rng(a.seed)

    tensors = [("token_embd.weight", [E, VOCAB], wt), ("output_norm.weight", [E], F32), ("output.weight", [E, VOCAB], out_t)]
    for i in range(a.layers):
        p = f"blk.{i}."
        tensors += [
            (p + "attn_norm.weight", [E], F32),
            (p + "attn_q.weight", [E, HEADS * HD], wt), (p + "attn_q.bias", [HEADS * HD], F32),
            (p + "attn_k.weight", [E, KV_HEADS * HD], wt), (p + "attn_k.bias", [KV_HEADS * HD], F32),
            (p + "attn_v.weight", [E, KV_HEADS * HD], mixed(i)), (p + "attn_v.bias", [KV_HEADS * HD], F32),
            (p + "attn_output.weight", [HEADS * HD, E], wt),
            (p + "post_attention_norm.weight", [E], F32),
            (p + "ffn_norm.weight", [E], F32),
            (p + "ffn_up.weight", [E, 2 * FF], wt),
            (p + "ffn_down.weight", [FF, E], mixed(i)),
            (p + "post_ffw_norm.weight", [E], F32),
        ]
    kv = []

    def u32(k, v):
        kv.append(gguf_str(k) + struct.pack("<II", 4, v))

    def f32(k, v):
        kv.append(gguf_str(k) + struct.pack("<If", 6, v))

    kv.append(gguf_str("general.architecture") + struct.pack("<I", 8) + gguf_str(ARCH))
    u32("general.alignment", 32)
    u32("general.file_type", ftype)
    u32(f"{ARCH}.context_length", CTX)
    u32(f"{ARCH}.embedding_length", E)
    u32(f"{ARCH}.block_count", a.layers)
    u32(f"{ARCH}.feed_forward_length", FF)
    u32(f"{ARCH}.attention.head_count", HEADS)
    u32(f"{ARCH}.attention.head_count_kv", KV_HEADS)
    u32(f"{ARCH}.attention.key_length", HD)
    u32(f"{ARCH}.attention.value_length", HD)
    u32(f"{ARCH}.rope.dimension_count", ROT)
    f32(f"{ARCH}.rope.freq_base", 10000.0)
    f32(f"{ARCH}.attention.layer_norm_rms_epsilon", 1e-5)

    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv)
    off = 0
    infos = []
    for name, ne, t in tensors:
        n = int(np.prod(ne))
        infos.append(gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne) + struct.pack("<IQ", t, off))
        off += size_of(n, t)
        off = (off + 31) // 32 * 32
    header += b"".join(infos)
    header += b"\0" * ((32 - len(header) % 32) % 32)
    with open(a.out, "wb") as f:
        f.write(header)
        pos = 0
        for name, ne, t in tensors:
            n = int(np.prod(ne))
            fast = random_blocks(n, t, rng) if a.shape == "9b" and len(ne) == 2 else None
            if fast is not None:
                f.write(fast)
                pos += len(fast)
                pad = (32 - pos % 32) % 32
                f.write(b"\0" * pad)
                pos += pad
                continue
            if len(ne) == 1:
                x = np.ones(n, dtype=np.float32) if name.endswith("norm.weight") else rng.normal(0, 0.02, n).astype(np.float32)
            else:
                x = rng.standard_normal(n, dtype=np.float32) * np.float32(0.02)
            data = encode(x, t, rng)
            f.write(data)
            pos += len(data)
            pad = (32 - pos % 32) % 32
            f.write(b"\0" * pad)
            pos += pad


if __name__ == "__main__":
    main()
