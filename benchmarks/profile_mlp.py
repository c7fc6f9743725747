"""The MLP workload W5: optsim's time per step per trajectory, and where a step goes.

W5 (``bench_peers.py``): digits, a 64-32-10 tanh MLP with biases, Glorot initialization,
minibatches of 32 in epochs, Adam (PyTorch's defaults) at 16 learning rates log-spaced in
[1e-4, 1e-1] x 64 replicates = 1024 trajectories, 2000 steps, the test loss and accuracy
recorded every 100 steps.

1. ``sweep``: the whole W5 sweep through ``optsim.sweep`` on the threads asked for (its
   wall and CPU time, and CPU time per step per trajectory), recording ``test_loss`` and the ``metrics``
   (test accuracy among them) every 100 steps, and the same without the records but the
   first and last (what the records cost).
2. ``split``: one trajectory's step taken apart on one thread, each piece timed in a
   compiled loop of its own: minibatch sampling, the forward pass (matrix products,
   activations, softmax and loss), the backward pass (by difference: forward + backward
   minus forward), the Adam update, in CPU time (the least of 5 runs); the activations (1024 tanh per step) and the softmax
   (320 exp and 32 log) are timed alone, the forward products are the rest of the forward.

    python benchmarks/profile_mlp.py                      # the split and a 1/8 sweep
    python benchmarks/profile_mlp.py --full --threads 2   # the full W5 sweep
    python benchmarks/profile_mlp.py --tanh portable      # with optsim's portable tanh
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
from numba import njit

import optsim
from optsim import _elementary, _rng
from optsim.noise.minibatch import minibatch_sample
from optsim.optimizers.adam import adam_step
from optsim.problems import _mlp_kernels as K


def w5(replicates=64, steps=2000, tanh="libm"):
    problem = optsim.problems.MLP(dataset="digits", hidden=(32,), activation="tanh", loss="cross_entropy",
                                  bias=True, init="glorot", tanh=tanh)
    return dict(problem=problem, optimizer=optsim.optimizers.Adam(),
                noise=optsim.noise.Minibatch(batch_size=32, with_replacement=False),
                grid={"lr": np.logspace(-4, -1, 16)}, replicates=replicates, steps=steps, seed=0, progress=False)


def time_sweep(replicates, steps, threads, record, tanh="libm"):
    kw = w5(replicates, steps, tanh)
    small = dict(kw, replicates=1, steps=10)
    optsim.sweep(**small, record=record, record_every=5, threads=threads)  # compile, load
    t = time.perf_counter()
    c = time.process_time()
    ds = optsim.sweep(**kw, record=record, record_every=100 if record else steps, threads=threads)
    wall = time.perf_counter() - t
    cpu = time.process_time() - c
    n = 16 * replicates
    return ds, wall, cpu, cpu / (n * steps) * 1e6


# Every timing loop is compiled with error_model="numpy", as the sweep's entry points are: the
# functions they call inherit it (numba's flags inheritance), and under the default error
# model every division checks its divisor for zero, which keeps loops such as Adam's update
# from vectorizing (measured: twice the time for the W5 network's 2410 parameters).
@njit(cache=True, error_model="numpy")
def _loop_sample(n_rep, idx, perm, mbs, npar, rng):
    s = 0
    for _ in range(n_rep):
        s += minibatch_sample(idx, perm, mbs, npar, rng)
    return s


@njit(cache=True, error_model="numpy")
def _loop_pass(n_rep, x, g, X, y, idx, cfg, scr, grad):
    f = 0.0
    for _ in range(n_rep):
        f += K._pass(x, g, X, y, idx, 32, 0, 32, cfg, scr, grad)[0]
    return f


@njit(cache=True, error_model="numpy")
def _loop_batch(n_rep, x, g, X, y, idx, cfg):
    f = 0.0
    for _ in range(n_rep):
        f += K.mlp_batch(x, g, X, y, idx, 32, cfg)
    return f


@njit(cache=True, error_model="numpy")
def _loop_tanh(n_rep, z, out):
    for _ in range(n_rep):
        for i in range(z.shape[0]):
            out[i] = math.tanh(z[i])
    return out[0]


@njit(cache=True, error_model="numpy")
def _loop_tanh_portable(n_rep, z, out):
    for _ in range(n_rep):
        for i in range(z.shape[0]):
            out[i] = _elementary.tanh(z[i])
    return out[0]


@njit(cache=True, error_model="numpy")
def _loop_softmax(n_rep, z, out):
    f = 0.0
    for _ in range(n_rep):
        for s in range(32):
            m = z[s * 10]
            for k in range(10):
                m = max(m, z[s * 10 + k])
            tot = 0.0
            for k in range(10):
                out[s * 10 + k] = math.exp(z[s * 10 + k] - m)
                tot += out[s * 10 + k]
            f += math.log(tot)
    return f


def _timed(fn, *args, reps=5):
    """Microseconds per call: the least CPU time of this thread over ``reps`` runs (CPU
    time, not wall time, so that other processes on a shared machine do not count)."""
    fn(10, *args)
    best = math.inf
    n = 2000
    for _ in range(reps):
        t = time.thread_time()
        fn(n, *args)
        best = min(best, time.thread_time() - t)
    return best / n * 1e6


def split(tanh="libm"):
    """Microseconds per step of each piece (one trajectory, one thread)."""
    p = w5(tanh=tanh)["problem"]
    data = p.data()
    X, y, cfg = data[0], data[1], data[6]
    d = p.dimension()
    x = np.zeros(d)
    K.mlp_init(x, cfg, _rng.stream_state(0, 0, 3, 0))
    g = np.zeros(d)
    n = X.shape[0]
    idx = np.zeros(n, np.int64)
    perm = np.arange(n, dtype=np.int64)
    mbs = np.zeros(2)
    npar = optsim.noise.Minibatch(batch_size=32).row()
    rng = _rng.stream_state(0, 0, 1, 0)
    out = {"sampling": _timed(_loop_sample, idx, perm, mbs, npar, rng)}
    idx[:32] = np.arange(32)
    scr = np.empty(K.scratch_size(cfg, 32))
    fwd = _timed(_loop_pass, x, g, X, y, idx, cfg, scr, False)
    both = _timed(_loop_pass, x, g, X, y, idx, cfg, scr, True)
    alloc = _timed(_loop_batch, x, g, X, y, idx, cfg)
    z = np.random.default_rng(0).standard_normal(32 * 32) * 0.5
    act = _timed(_loop_tanh if tanh == "libm" else _loop_tanh_portable, z, np.empty_like(z))
    sm = _timed(_loop_softmax, np.random.default_rng(1).standard_normal(320), np.empty(320))
    S = np.zeros((2, d))
    hp = optsim.optimizers.Adam(lr=1e-3).row()
    sc = np.zeros(0)

    @njit(error_model="numpy")
    def _loop_adam(n_rep, x, g, S, sc, hp):
        for t in range(n_rep):
            adam_step(x, g, S, sc, t + 1, 1e-7, hp)
        return x[0]

    out["update (Adam)"] = _timed(_loop_adam, x.copy(), g * 0.0 + 1e-3, S, sc, hp)
    out["forward products"] = fwd - act - sm
    out["activations (tanh)"] = act
    out["softmax and loss"] = sm
    out["backward"] = both - fwd
    out["scratch allocation"] = alloc - both
    out["step total"] = out["sampling"] + alloc + out["update (Adam)"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="the full W5 sweep (64 replicates), not 1/8 of it")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--split-only", action="store_true", help="only the split of one step")
    ap.add_argument("--tanh", choices=("libm", "portable"), default="libm",
                    help="the MLP's tanh: the C library's or optsim's portable one (MLP(tanh=...))")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    res = {"split_us_per_step": split(a.tanh), "tanh": a.tanh}
    for k, v in res["split_us_per_step"].items():
        print(f"{k:>22}: {v:8.2f} us")
    reps = 0 if a.split_only else 64 if a.full else 8
    variants = (("records every 100 steps", ("loss", "test_loss", "metrics")),
                ("test_loss every 100 steps", ("test_loss",)), ("first and last only", ("loss",)))
    for label, record in variants if reps else ():
        ds, wall, cpu, per = time_sweep(reps, 2000, a.threads, record, a.tanh)
        res[label] = {"wall_s": wall, "cpu_s": cpu, "cpu_us_per_step_per_trajectory": per,
                      "trajectories": 16 * reps, "threads": a.threads}
        print(f"sweep, {16 * reps} trajectories x 2000 steps, {label}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
              f"{per:.2f} CPU us per step per trajectory ({a.threads} thread(s))")
        if "metrics" in record:
            acc = ds.metrics.sel(metric="test_accuracy").isel(step=-1).median("replicate")
            res["median_test_accuracy"] = dict(zip(map(float, acc.lr.values), map(float, acc.values)))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
