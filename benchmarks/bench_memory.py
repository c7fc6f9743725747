"""Memory of large sweeps: the noisy quadratic model with curvature-scaled noise at d = 10^5,
and the peak RSS of huge sweeps the memory guard refuses.

Each run is a fresh Python process; its peak resident set size (``ru_maxrss``) is read
after ``import optsim`` and a small warm-up sweep (which compiles or loads the kernels),
and again after the run, so the growth is the run's own.  Runs:

* ``NoisyQuadraticModel(dim=d)`` with ``CurvatureScaled(batch_size=16)`` noise, SGD (lr 0.5), 8
  replicates x 200 steps (the per-coordinate noise :math:`\\sqrt{h_i/B}\\,z_i`);
* the same noise on the diagonal ``Quadratic(condition_number=1e4, dim=d)`` (lr 1e-4), which used to
  make the dense :math:`d \\times d` Hessian to find its diagonal;
* the sweeps of 5e7, 1e8 and 2.5e8 trajectories (Adam, 10^4 learning rates) refused with
  ``max_memory=2**30``, and 10^4 learning rates x 10^5 replicates refused against the
  memory available.

Beside each curvature-scaled run, the :math:`O(d^2)` cost it would have with a dense
Hessian is computed (not run): :math:`8 d^2` bytes for :math:`H` and as much again for its
square root, :math:`d^2` multiply-adds per noise draw.  A table is printed; nothing is
asserted (``tests/test_memory.py`` holds the checks).

    python benchmarks/bench_memory.py            # d = 10^5; writes benchmarks/out/bench_memory.json
    python benchmarks/bench_memory.py --quick    # d = 10^4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    import optsim
    from optsim import noise, optimizers, problems

    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    case, d = sys.argv[1], int(sys.argv[2])
    after_import = rss()

    def problem(dim):
        if case == "quadratic":
            return problems.Quadratic(condition_number=1e4, dim=dim)
        return problems.NoisyQuadraticModel(dim=dim)

    def run(dim, **kw):
        lr = 1e-4 if case == "quadratic" else 0.5  # stable: lr < 2 / max h
        return optsim.sweep(problem(dim), optimizers.SGD(lr=lr), noise=noise.CurvatureScaled(batch_size=16.0),
                            progress=False, **kw)

    out = {}
    if case in ("nqm", "quadratic"):
        run(8, replicates=2, steps=3)  # compile or load the kernels
        base = rss()
        t = time.perf_counter()
        ds = run(d, replicates=8, steps=200, record_every=20)
        out["seconds"] = time.perf_counter() - t
        out["final_loss"] = float(ds["final_loss"].mean())
        out["diverged"] = int(ds["diverged"].sum())
    else:
        n = int(float(case))
        lrs = 10**4
        base = rss()
        t = time.perf_counter()
        try:
            optsim.sweep(problems.Quadratic(), optimizers.Adam(), grid={"lr": np.logspace(-3, 0, lrs)},
                         replicates=n // lrs, steps=10, max_memory=None if n > 5 * 10**8 else 2**30)
            out["refused"] = None
        except optsim.MemoryLimitError as exc:
            out["refused"] = str(exc)[:160]
        out["seconds"] = time.perf_counter() - t
    out["after_import"] = after_import
    out["growth"] = rss() - base
    print(json.dumps(out))
""")


def child(case, d=0):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", _CHILD, case, str(d)], capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit(f"{case}: {r.stderr.strip().splitlines()[-1]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _mib(b):
    return f"{b / 2**20:10.1f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d = 10^4 instead of 10^5")
    args = ap.parse_args(argv)
    d = 10**4 if args.quick else 10**5
    rows = []
    for case in ("nqm", "quadratic"):
        r = child(case, d)
        dense = 2 * 8 * d * d  # H and its square root L
        if r["diverged"]:
            raise SystemExit(f"{case}: {r['diverged']} trajectories diverged")
        rows.append({"run": f"{case}, d={d}, curvature-scaled, 8 x 200 steps", "growth": r["growth"],
                     "seconds": r["seconds"], "dense_bytes": dense, "after_import": r["after_import"]})
    for case in ("5e7", "1e8", "2.5e8", "1e9"):
        r = child(case)
        label = "1e4 lrs x 1e5 replicates" if case == "1e9" else f"{case} trajectories, max_memory=1 GiB"
        rows.append({"run": f"refused: {label}", "growth": r["growth"], "seconds": r["seconds"],
                     "dense_bytes": None, "after_import": r["after_import"], "refused": r["refused"]})
    print(f"{'run':<58} {'peak RSS growth (MiB)':>22} {'time (s)':>9} {'dense O(d^2) (MiB)':>19}")
    for row in rows:
        dense = _mib(row["dense_bytes"]) if row["dense_bytes"] else f"{'-':>10}"
        print(f"{row['run']:<58} {_mib(row['growth']):>22} {row['seconds']:9.2f} {dense:>19}")
    print(f"(RSS after import optsim: {rows[0]['after_import'] / 2**20:.0f} MiB; growth is from after the "
          f"import and a warm-up sweep)")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_memory.json").write_text(json.dumps({"d": d, "quick": args.quick, "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
