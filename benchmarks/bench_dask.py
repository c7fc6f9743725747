"""Throughput of one sweep run locally and on local Dask clusters, side by side.

The workload: Adam on f = 0.5 (x^2 + 100 y^2) with additive N(0, 1) gradient noise,
64 learning rates x 64 replicates x 2000 steps (8.2 M trajectory-steps), loss every 50
steps, kernels warm (compiled or loaded once before timing, in every worker too).

Runs, each timed as the best of ``--repeat``:

* local, ``threads=1`` and ``threads=2``;
* a ``LocalCluster`` of 1 process x 2 threads and of 2 processes x 1 thread, started
  beforehand (so the time is the sweep's: sending the plan, running and collecting chunks);
* ``client="local:2"``: starting the cluster, the sweep and closing it, as a one-off
  command-line run pays.

Every run's result is checked to be bit-identical to the local one.

    python benchmarks/bench_dask.py            # prints a table, writes benchmarks/out/bench_dask.json
    python benchmarks/bench_dask.py --quick    # 16 lrs x 16 replicates x 500 steps
    python benchmarks/bench_dask.py --replicates 256 --out-name bench_dask_w1   # W1's size

The efficiency of a run on k cores is its rate over k times the rate of ``threads=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def workload(quick, replicates=64):
    import optsim

    n_lr, reps, steps = (16, 16, 500) if quick else (64, int(replicates), 2000)
    kw = dict(problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
              noise=optsim.noise.Gaussian(sigma=1.0), optimizer=optsim.optimizers.Adam(),
              grid={"lr": np.logspace(-4, 0, n_lr)}, replicates=reps, steps=steps, record_every=50,
              seed=0, progress=False)
    return kw, n_lr * reps * steps


def timed(fn, repeat):
    best, result = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small workload (seconds)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    ap.add_argument("--replicates", type=int, default=64,
                    help="replicates per learning rate (default 64; 256 is bench_peers.py's W1)")
    ap.add_argument("--out-name", default="bench_dask", help="the report's file name (NAME.json)")
    args = ap.parse_args(argv)

    import optsim
    from distributed import Client, LocalCluster

    kw, work = workload(args.quick, args.replicates)
    optsim.sweep(**{**kw, "replicates": 1, "steps": 2})  # compile or load the kernel
    rows = []
    ref = None
    for threads in (1, 2):
        t, ds = timed(lambda th=threads: optsim.sweep(**kw, threads=th), args.repeat)
        ref = ds if ref is None else ref
        rows.append((f"local, threads={threads}", threads, t, True))
    for n_workers, n_threads in ((1, 2), (2, 1)):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=n_threads, processes=True,
                                   host="127.0.0.1", dashboard_address=None)
        with cluster, Client(cluster) as client:
            optsim.sweep(**{**kw, "replicates": 1, "steps": 2}, client=client)  # warm the workers
            t, ds = timed(lambda c=client: optsim.sweep(**kw, client=c), args.repeat)
        same = bool(ds.drop_attrs().identical(ref.drop_attrs()))
        rows.append((f"LocalCluster {n_workers} process x {n_threads} thread (started beforehand)",
                     n_workers * n_threads, t, same))
    t, ds = timed(lambda: optsim.sweep(**kw, client="local:2"), 1)
    rows.append(('client="local:2", starting and closing the cluster', 2, t,
                 bool(ds.drop_attrs().identical(ref.drop_attrs()))))

    print(f"{work / 1e6:.1f} M trajectory-steps; {os.cpu_count()} cores; {platform.processor() or platform.machine()}")
    # the efficiency of a run on k cores: its rate over k times the one-thread rate
    one = rows[0][2]
    print(f"{'run':<66} {'time (s)':>9} {'traj-steps/s':>13} {'efficiency':>10} identical")
    for name, k, t, same in rows:
        print(f"{name:<66} {t:9.2f} {work / t:13.3g} {one / (k * t):10.2f} {same}")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / f"{args.out_name}.json").write_text(json.dumps(
        {"work_traj_steps": work, "quick": args.quick, "cores": os.cpu_count(), "replicates": args.replicates,
         "runs": [{"run": n, "seconds": t, "rate": work / t, "efficiency": one / (k * t), "identical": s}
                  for n, k, t, s in rows]}, indent=1))
    if not all(s for *_, s in rows):
        raise SystemExit("a Dask run differed from the local run")


if __name__ == "__main__":
    main()
