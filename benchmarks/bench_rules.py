"""Every registered update rule's cost per trajectory-step beside Adam's, on W1 and W3.

The workloads are those of ``bench_peers.py`` at a reduced size:

W1  f = 0.5 (x^2 + 100 y^2) from (1, 1), additive N(0, 1) gradient noise;
W3  2-D Rosenbrock from optsim's default start (-1.5, 2), additive N(0, 0.1^2) noise;

each as one sweep of 16 learning rates x 256 replicates x 1000 steps, the loss recorded
every 50 steps.  A rule runs with its default hyperparameters and learning rates
log-spaced over two decades below its default ``lr``.  Every rule is timed right after
Adam, in pairs (the best of ``--repeat`` calls each, after a warm-up call that compiles or
loads its kernels), so that the ratio to Adam compares runs a few seconds apart on the same
machine.  The table gives nanoseconds per trajectory-step, the ratio to Adam's, and the
share of trajectories flagged diverged (a diverged trajectory stops early and costs less,
so a rule that diverges often looks cheaper than it is).  Nothing is asserted.

    python benchmarks/bench_rules.py                     # about five minutes on two cores
    python benchmarks/bench_rules.py --rules adam,adopt,sophia --workloads W1
    python benchmarks/bench_rules.py --json benchmarks/out/bench_rules.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import optsim
from optsim import noise, problems, registry

WORKLOADS = {
    "W1": (lambda: problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]), lambda: noise.Gaussian(sigma=1.0)),
    "W3": (lambda: problems.Rosenbrock(), lambda: noise.Gaussian(sigma=0.1)),
}
SIZE = dict(n_lr=16, replicates=256, steps=1000, record_every=50)


def _sweep(rule, workload, size):
    problem, nz = (f() for f in WORKLOADS[workload])
    lrs = float(rule.lr) * np.logspace(-2, 0, size["n_lr"])
    return optsim.sweep(problem, rule, noise=nz, grid={"lr": lrs}, replicates=size["replicates"],
                        steps=size["steps"], record_every=size["record_every"], record=("loss",), seed=0)


def best_time(rule, workload, size, repeat):
    """(best seconds of ``repeat`` sweeps, share of diverged trajectories), after a warm-up."""
    _sweep(rule, workload, dict(size, steps=10, record_every=1, n_lr=2, replicates=4))
    best, ds = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        ds = _sweep(rule, workload, size)
        best = min(best, time.perf_counter() - t0)
    return best, float(ds["diverged"].mean())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rules", default="", help="comma-separated registry names (default: every optimizer)")
    p.add_argument("--workloads", default="W1,W3")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", default=None, help="also write the rows here")
    args = p.parse_args(argv)
    names = [n for n in args.rules.split(",") if n] or sorted(registry.components("optimizer"))
    size = dict(SIZE)
    work = size["n_lr"] * size["replicates"] * size["steps"]
    rows = []
    for wl in args.workloads.split(","):
        print(f"\n{wl}: {size['n_lr']} lrs x {size['replicates']} replicates x {size['steps']} steps; "
              f"ns per trajectory-step (paired with Adam)")
        print(f"{'rule':<22}{'ns/step':>9}{'Adam':>9}{'x Adam':>8}{'diverged':>10}")
        for name in names:
            rule = registry.get("optimizer", name)()
            try:
                sec, div = best_time(rule, wl, size, args.repeat)
            except optsim.OptsimError as e:  # a rule that cannot run on this problem says why
                print(f"{name:<22}  n/a: {str(e)[:70]}")
                rows.append({"workload": wl, "rule": name, "error": str(e)})
                continue
            adam, _ = best_time(registry.get("optimizer", "adam")(), wl, size, args.repeat)
            ns, ns_adam = 1e9 * sec / work, 1e9 * adam / work
            rows.append({"workload": wl, "rule": name, "ns_per_step": ns, "adam_ns_per_step": ns_adam,
                         "ratio_to_adam": ns / ns_adam, "diverged": div})
            print(f"{name:<22}{ns:>9.1f}{ns_adam:>9.1f}{ns / ns_adam:>8.2f}{100 * div:>9.0f}%")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"size": size, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
