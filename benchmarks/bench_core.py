"""Core benchmark: optsim against a vectorized NumPy implementation of the same work.

The workload: Adam (PyTorch's form, bias correction on) on f(x, y) = 0.5 (x^2 + 100 y^2)
from (1, 1), with additive N(0, 1) gradient noise; 64 learning rates log-spaced in
[1e-4, 1] x 256 replicates, 2000 steps, the loss recorded every 50 steps.

Measured:

* optsim's rate in trajectory-steps/s, after a warm-up call (compilation excluded);
* the same work in NumPy, vectorized over all trajectories at once (numpy Generator
  normals, preallocated buffers, in-place updates), in the same process;
* their ratio;
* optsim's first call in a fresh process with empty kernel caches (``OPTSIM_CACHE_DIR``
  and ``NUMBA_CACHE_DIR`` pointing at a new temporary directory): process start to the end
  of a tiny sweep of the same kernel, compilation included;
* the warm start: a second fresh process on those caches (import + cache load + tiny sweep).

Both implementations must agree statistically: for every learning rate, the mean of
log10(final loss) over replicates agrees within ``--max-z`` combined standard errors.

    python benchmarks/bench_core.py            # the full workload
    python benchmarks/bench_core.py --quick    # 16 lrs x 64 replicates x 500 steps

Prints a table and writes ``benchmarks/out/bench_core.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CURVATURES = np.array([1.0, 100.0])
X0 = np.array([1.0, 1.0])
SIGMA = 1.0
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import optsim
t1 = time.perf_counter()
ds = optsim.sweep(
    problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
    noise=optsim.noise.Gaussian(sigma=1.0),
    optimizer=optsim.optimizers.Adam(),
    grid={"lr": np.logspace(-4, 0, 4)},
    replicates=4, steps=100, record_every=50, record=("loss",), seed=0,
)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "sweep_s": t2 - t1}))
"""


def optsim_sweep(lrs, replicates, steps, record_every, seed=0, threads=None):
    import optsim

    return optsim.sweep(
        problem=optsim.problems.Quadratic(curvatures=CURVATURES.tolist(), x0=X0.tolist()),
        noise=optsim.noise.Gaussian(sigma=SIGMA),
        optimizer=optsim.optimizers.Adam(),
        grid={"lr": lrs},
        replicates=replicates, steps=steps, record_every=record_every, record=("loss",), seed=seed,
        threads=threads,
    )


def numpy_adam(lrs, replicates, steps, record_every, seed=0):
    """Adam over all len(lrs) x replicates trajectories at once; returns (loss[L, R, records], final[L, R])."""
    rng = np.random.default_rng(seed)
    n = len(lrs) * replicates
    d = CURVATURES.size
    lr = np.repeat(np.asarray(lrs, dtype=float), replicates)[:, None]
    x = np.tile(X0, (n, 1))
    m = np.zeros((n, d))
    v = np.zeros((n, d))
    g = np.empty((n, d))
    tmp = np.empty((n, d))
    h = CURVATURES[None, :]
    rec = list(range(0, steps + 1, record_every))
    if rec[-1] != steps:
        rec.append(steps)
    losses = np.empty((n, len(rec)))
    losses[:, 0] = 0.5 * (h * x * x).sum(axis=1)
    j = 1
    for t in range(1, steps + 1):
        rng.standard_normal(out=g)
        if SIGMA != 1.0:
            g *= SIGMA
        np.multiply(h, x, out=tmp)
        g += tmp
        m *= BETA1
        m += (1.0 - BETA1) * g
        v *= BETA2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - BETA2
        v += tmp
        bc1 = 1.0 - BETA1**t
        bc2 = 1.0 - BETA2**t
        np.divide(v, bc2, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += EPS
        np.divide(m, tmp, out=tmp)
        tmp *= lr / bc1
        x -= tmp
        if j < len(rec) and t == rec[j]:
            losses[:, j] = 0.5 * (h * x * x).sum(axis=1)
            j += 1
    losses = losses.reshape(len(lrs), replicates, len(rec))
    return losses, losses[:, :, -1]


def mean_log(final):
    with np.errstate(divide="ignore"):
        lg = np.log10(final)
    mean = lg.mean(axis=1)
    sem = lg.std(axis=1, ddof=1) / np.sqrt(lg.shape[1])
    return mean, sem


def fresh_process(cache):
    env = dict(os.environ, OPTSIM_CACHE_DIR=str(cache / "optsim"), NUMBA_CACHE_DIR=str(cache / "numba"))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"the fresh-process run failed:\n{proc.stderr}")
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, **inner}


def best_of(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="16 lrs x 64 replicates x 500 steps")
    p.add_argument("--lrs", type=int, default=None, help="number of learning rates (default 64)")
    p.add_argument("--replicates", type=int, default=None, help="default 256")
    p.add_argument("--steps", type=int, default=None, help="default 2000")
    p.add_argument("--record-every", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions (the best is reported)")
    p.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    p.add_argument("--max-z", type=float, default=4.5, help="agreement tolerance in standard errors")
    p.add_argument("--out", default=str(HERE / "out" / "bench_core.json"))
    args = p.parse_args(argv)
    n_lr = args.lrs or (16 if args.quick else 64)
    reps = args.replicates or (64 if args.quick else 256)
    steps = args.steps or (500 if args.quick else 2000)
    lrs = np.logspace(-4, 0, n_lr)
    work = n_lr * reps * steps

    with tempfile.TemporaryDirectory(prefix="optsim-bench-") as tmp:
        cache = Path(tmp)
        cold = fresh_process(cache)
        warm = fresh_process(cache)
        # This process uses the same (now warm) caches.
        os.environ["OPTSIM_CACHE_DIR"] = str(cache / "optsim")
        import numba

        import optsim

        optsim_sweep(lrs[:2], 2, 10, 5, threads=args.threads)  # warm-up: load or compile the kernel
        t_opt, opt_times, ds = best_of(
            lambda: optsim_sweep(lrs, reps, steps, args.record_every, threads=args.threads), args.repeat
        )
    t_np, np_times, (np_loss, np_final) = best_of(
        lambda: numpy_adam(lrs, reps, steps, args.record_every, seed=1), args.repeat
    )

    opt_final = ds["final_loss"].transpose("lr", "replicate").values
    m1, s1 = mean_log(opt_final)
    m2, s2 = mean_log(np_final)
    z = np.abs(m1 - m2) / np.sqrt(s1**2 + s2**2)
    agree = bool(np.all(np.isfinite(z)) and z.max() < args.max_z)

    rate_opt = work / t_opt
    rate_np = work / t_np
    result = {
        "workload": {"lrs": n_lr, "replicates": reps, "steps": steps, "record_every": args.record_every,
                     "trajectory_steps": work, "problem": "0.5 (x^2 + 100 y^2)", "noise": "N(0, 1)",
                     "optimizer": "adam (PyTorch form)"},
        "optsim": {"best_s": t_opt, "times_s": opt_times, "traj_steps_per_s": rate_opt,
                   "threads": args.threads or numba.get_num_threads()},
        "numpy": {"best_s": t_np, "times_s": np_times, "traj_steps_per_s": rate_np},
        "speedup": rate_opt / rate_np,
        "cold_first_call": cold,
        "warm_start": warm,
        "agreement": {"max_z": float(np.nanmax(z)), "tolerance_z": args.max_z, "agree": agree,
                      "mean_log10_final_optsim": m1.tolist(), "mean_log10_final_numpy": m2.tolist()},
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                    "optsim": optsim.__version__, "cpu_count": os.cpu_count(), "platform": platform.platform()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))

    print(f"workload: Adam, {n_lr} lrs x {reps} replicates x {steps} steps = {work:,} trajectory-steps "
          f"(loss every {args.record_every}); {os.cpu_count()} CPUs, optsim threads = {result['optsim']['threads']}")
    rows = [
        ("optsim (warm kernel)", f"{t_opt:.3f} s", f"{rate_opt:.3g}"),
        ("NumPy vectorized", f"{t_np:.3f} s", f"{rate_np:.3g}"),
        ("speed-up optsim / NumPy", f"{rate_opt / rate_np:.2f}x", ""),
        ("first call, empty caches (new process)", f"{cold['wall_s']:.2f} s", f"(import {cold['import_s']:.2f} s)"),
        ("warm start (new process, tiny sweep)", f"{warm['wall_s']:.2f} s", f"(import {warm['import_s']:.2f} s)"),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'':{w}}  {'time':>10}  trajectory-steps/s")
    for name, t, r in rows:
        print(f"{name:{w}}  {t:>10}  {r}")
    print(f"agreement: per-lr mean log10 final loss, max |z| = {np.nanmax(z):.2f} "
          f"(tolerance {args.max_z}): {'OK' if agree else 'MISMATCH'}")
    print(f"wrote {out}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
