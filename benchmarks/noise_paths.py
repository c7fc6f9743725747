"""Three ways to draw a block's Gaussian noise, timed side by side on one thread.

The 2-D workloads (W1, W3) spend about 40% of a step drawing normals: each trajectory
draws its own, in turn, from its xoshiro256** stream with the state in registers
(``optsim._rng.normal_at``, as ``optsim.noise.Gaussian`` does).  The C loop of
``bench_peers.py`` draws a block's normals across its trajectories instead, and a
counter-based generator would let any loop draw them in any order.  This script times,
for a block of 256 trajectories with two coordinates each (W1's shape):

- ``per trajectory``: optsim's draw, two normals per trajectory from its stream's state
  (kept with the block's other streams, as in the sweep's workspace);
- ``across the block``: the same draws to the bit, the xoshiro256** states laid out
  across trajectories (structure of arrays) and the ziggurat's common case in one loop
  over the block that numba vectorizes, the rare case finished on each lane's stream;
- ``Threefry-2x64-20``: a counter-based candidate (Salmon et al. 2011, the Random123
  family; JAX uses its 2x32 form), one 64-bit word per (key, counter) and the ziggurat's
  common case on it, across the block; its output is checked against the published
  known-answer vectors first.

    python benchmarks/noise_paths.py           # about 20 seconds
    python benchmarks/noise_paths.py --json benchmarks/out/noise_paths.json

The first two give the same numbers, so only speed decides; the third would change every
result of every sweep, so it would have to be faster by a clear margin on both kinds of
CPU to replace today's stream.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from numba import njit

from optsim._rng import (_MASK8, _S8, _S11, _TWO_M53, _U1, _ZIG_X, _normal_rest, _rotl, next_u64_at, normal_at,
                         stream_state)

B, D, NSTREAMS, NOISE = 256, 2, 5, 4  # W1's block, dimension, streams per trajectory, noise stream

_PARITY = np.uint64(0x1BD11BDAA9FC1A22)  # Threefish's key-schedule parity constant
# Random123's known answers for threefry2x64 with 20 rounds: (counter, key) -> output
KNOWN_ANSWERS = (
    ((0, 0), (0, 0), (0xC2B6E3A8C2C69865, 0x6F81ED42F350084D)),
    ((2**64 - 1, 2**64 - 1), (2**64 - 1, 2**64 - 1), (0xE02CB7C4D95D277A, 0xD06633D0893B8B68)),
    ((0x243F6A8885A308D3, 0x13198A2E03707344), (0xA4093822299F31D0, 0x082EFA98EC4E6C89),
     (0x263C7D30BB0F0AF1, 0x56BE8361D3311526)),
)


# The timing loops are compiled as the sweep's entry points are, whose callees inherit the
# error model: under numba's default one a division's zero check can keep a loop scalar.
_timing_loop = njit(_nrt=False, error_model="numpy")


@njit(inline="always")
def _mix(x0, x1, r):
    x0 += x1
    x1 = _rotl(x1, r)
    return x0, x1 ^ x0


@njit(inline="always")
def threefry2x64(c0, c1, k0, k1):
    """Threefry-2x64 with 20 rounds: the two output words for counter (c0, c1), key (k0, k1)."""
    k2 = _PARITY ^ k0 ^ k1
    ks = (k0, k1, k2)
    x0 = c0 + k0
    x1 = c1 + k1
    for s in range(1, 6):  # five groups of four rounds, each followed by a key injection
        if s % 2 == 1:
            x0, x1 = _mix(x0, x1, 16)
            x0, x1 = _mix(x0, x1, 42)
            x0, x1 = _mix(x0, x1, 12)
            x0, x1 = _mix(x0, x1, 31)
        else:
            x0, x1 = _mix(x0, x1, 16)
            x0, x1 = _mix(x0, x1, 32)
            x0, x1 = _mix(x0, x1, 24)
            x0, x1 = _mix(x0, x1, 21)
        x0 += ks[s % 3]
        x1 += ks[(s + 1) % 3] + np.uint64(s)
    return x0, x1


@_timing_loop
def per_trajectory(rngs, Z, steps):
    for t in range(steps):
        for b in range(B):
            r = rngs[b, NOISE]
            s0, s1, s2, s3 = r[0], r[1], r[2], r[3]
            for i in range(D):
                z, s0, s1, s2, s3 = normal_at(r, s0, s1, s2, s3)
                Z[t, b * D + i] = z
            r[0], r[1], r[2], r[3] = s0, s1, s2, s3


@_timing_loop
def across_block(rngs, S, words, Z, steps):
    s0, s1, s2, s3 = S[0], S[1], S[2], S[3]
    for b in range(B):  # the block's noise states, across trajectories
        s0[b], s1[b], s2[b], s3[b] = rngs[b, NOISE, 0], rngs[b, NOISE, 1], rngs[b, NOISE, 2], rngs[b, NOISE, 3]
    for t in range(steps):
        for i in range(D):
            z = Z[t, i * B:(i + 1) * B]
            for b in range(B):  # vectorized: xoshiro256** and the ziggurat's common case
                u, a0, a1, a2, a3 = next_u64_at(s0[b], s1[b], s2[b], s3[b])
                s0[b], s1[b], s2[b], s3[b] = a0, a1, a2, a3
                words[b] = u
                k = np.int64(u & _MASK8)
                x = float(np.int64(u >> _S11)) * _TWO_M53 * _ZIG_X[k]
                zz = -x if ((u >> _S8) & _U1) == _U1 else x
                z[b] = zz if x < _ZIG_X[k + 1] else np.nan
            for b in range(B):  # the rare case, on the lane's own stream
                if z[b] != z[b]:
                    r = rngs[b, NOISE]
                    r[0], r[1], r[2], r[3] = s0[b], s1[b], s2[b], s3[b]
                    z[b] = _normal_rest(r, words[b])
                    s0[b], s1[b], s2[b], s3[b] = r[0], r[1], r[2], r[3]
    for b in range(B):
        rngs[b, NOISE, 0], rngs[b, NOISE, 1], rngs[b, NOISE, 2], rngs[b, NOISE, 3] = s0[b], s1[b], s2[b], s3[b]


@_timing_loop
def threefry_block(keys, Z, steps):
    """The common case only (the rare 1% would draw from further counters): an upper bound
    on the counter-based stream's speed."""
    for t in range(steps):
        for i in range(D):
            z = Z[t, i * B:(i + 1) * B]
            n = np.uint64(t * D + i)
            for b in range(B):
                w, _ = threefry2x64(n, np.uint64(0), keys[0, b], keys[1, b])
                k = np.int64(w & _MASK8)
                x = float(np.int64(w >> _S11)) * _TWO_M53 * _ZIG_X[k]
                zz = -x if ((w >> _S8) & _U1) == _U1 else x
                z[b] = zz if x < _ZIG_X[k + 1] else np.nan


def check_threefry():
    for (c0, c1), (k0, k1), want in KNOWN_ANSWERS:
        got = threefry2x64(np.uint64(c0), np.uint64(c1), np.uint64(k0), np.uint64(k1))
        if tuple(int(v) for v in got) != want:
            raise AssertionError(f"threefry2x64{(c0, c1, k0, k1)} = {got}, not Random123's {want}")


def streams(seed=0):
    return np.array([[stream_state(seed, b, j) for j in range(NSTREAMS)] for b in range(B)])


def best_seconds(f, args, repeat):
    f(*args[:-1], 1)
    best = np.inf
    for _ in range(repeat):
        t = time.thread_time()
        f(*args)
        best = min(best, time.thread_time() - t)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    check_threefry()
    steps = args.steps
    # the two xoshiro paths give the same draws to the bit
    za, zb = np.empty((64, B * D)), np.empty((64, B * D))
    per_trajectory(streams(), za, 64)
    across_block(streams(), np.empty((4, B), np.uint64), np.empty(B, np.uint64), zb, 64)
    zb = zb.reshape(64, D, B).transpose(0, 2, 1).reshape(64, B * D)
    assert np.array_equal(za, zb), "across the block is not the per-trajectory sequence"
    Z = np.empty((steps, B * D))
    keys = np.array([[stream_state(0, b, NOISE)[w] for b in range(B)] for w in range(2)])
    runs = {
        "per trajectory (optsim)": best_seconds(per_trajectory, (streams(), Z, steps), args.repeat),
        "across the block (same draws)": best_seconds(
            across_block, (streams(), np.empty((4, B), np.uint64), np.empty(B, np.uint64), Z, steps), args.repeat),
        "Threefry-2x64-20 across the block (common case only)": best_seconds(threefry_block, (keys, Z, steps),
                                                                            args.repeat),
    }
    n = steps * B * D
    base = runs["per trajectory (optsim)"]
    print(f"normals for {B} trajectories x {D} coordinates x {steps} steps, one thread, best of {args.repeat}")
    for name, sec in runs.items():
        print(f"  {name:55s} {1e9 * sec / n:5.2f} ns per normal  ({base / sec:.2f}x optsim's)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": platform.processor() or platform.machine(), "steps": steps,
                       "ns_per_normal": {k: 1e9 * v / n for k, v in runs.items()}}, fh, indent=1)


if __name__ == "__main__":
    main()
