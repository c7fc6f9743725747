"""What limits each benchmark workload: an ablation profile of optsim's generated kernels.

For each workload (W1-W4 of ``bench_peers.py``, at a reduced size) this builds the source of
optsim's loop (``optsim.engine._driver``) and of the problem's entry points, compiles them
in memory and times them, on one thread, with one piece at a time taken out:

- ``full``: the loop and entry points as ``optsim.sweep`` runs them;
- ``no noise``: the noise model's call removed (the exact gradient is used);
- ``trivial gradient``: the problem's gradient replaced by ``g = x`` (same memory traffic
  for the update, none of the problem's arithmetic; minibatch sampling removed too);
- ``no update``: the optimizer's update removed (x stays where it is);
- ``loop only``: all three removed: what is left is the block and step bookkeeping.

The share of a piece is the time it saves when removed.  Samplers (perf) cannot name the
functions of numba's generated code, which is why this removes them instead.  The random
number generator is also timed on its own (normals per second, one thread).

    python benchmarks/profile_kernels.py            # about two minutes
    python benchmarks/profile_kernels.py --json benchmarks/out/profile_kernels.json
    python benchmarks/profile_kernels.py --workloads W1 --rounds 6   # on a noisy host

With ``--rounds``, the variants of a workload alternate: each round times every variant once
(best of ``--repeat``), and each keeps its best round.  On a host whose speed drifts, this is
what keeps a slow spell from landing on one variant only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _peers import workloads  # noqa: E402
from _peers.impl_optsim import _optimizer, problem_and_noise  # noqa: E402

# reduced sizes: (learning rates, replicates, steps); the rate per trajectory-step does not
# depend on them once a block is full
SIZES = {"W1": (16, 256, 1000), "W2": (2, 4, 100), "W3": (8, 64, 1000), "W4": (8, 8, None)}


def ablations(src, loop):
    """{name: (problem entry points' source, loop source)} with the pieces taken out
    (asserting each substitution applies)."""
    noise = re.compile(r"^ *n\d+_apply\(.*\)\n", re.M)
    grad = re.compile(r"^( *)fobs = p_b?vg\(.*\)\n", re.M)
    sample = re.compile(r"^ *nb = mb_sample\(.*\)\n", re.M)
    update = "call_void(f_step, (a_X, a_G, L, a_S, nslots, lmax, a_sc, nscal, t + 1, lr, a_hp, nhp))"

    def no_noise(s):
        return noise.sub("", s)

    def trivial_grad(s):
        s = sample.sub("", s)
        out = grad.sub(lambda m: f"{m.group(1)}fobs = 0.0\n{m.group(1)}for i in range(g.shape[0]):\n"
                                  f"{m.group(1)}    g[i] = y[i]\n", s)
        assert out != s
        return out

    def no_update(s):
        assert update in s
        return s.replace(update, "pass")

    out = {"full": (src, loop), "no noise": (no_noise(src), loop), "trivial gradient": (trivial_grad(src), loop),
           "no update": (src, no_update(loop)), "loop only": (trivial_grad(no_noise(src)), no_update(loop))}
    if out["no noise"][0] == src:
        del out["no noise"]  # the workload has no additive noise model
    return out


def loop_source():
    """The source of ``optsim.engine._driver.run``, to be compiled in memory."""
    import inspect

    from optsim.engine import _driver

    src = inspect.getsource(_driver.run.py_func)
    assert "cache=True" in src
    return src.replace("cache=True", "cache=False")


_loops = {}


def compile_loop(src):
    from optsim.engine import _driver

    if src not in _loops:
        namespace = dict(vars(_driver))
        exec(compile(src, "<optsim loop variant>", "exec"), namespace)
        _loops[src] = namespace["run"]
    return _loops[src]


def time_kernel(plan, src, loop, funcs, repeat):
    from optsim.engine import codegen

    g = plan.groups[0]
    problem = codegen._compile_in_memory(src, funcs, g.spec, "profile")
    run = compile_loop(loop)
    out = plan.allocate(g.size)
    call = plan._caller(g, 0, out, run=run, problem=problem)
    call(0, 1)  # compile
    best = np.inf
    for _ in range(repeat):
        out = plan.allocate(g.size)
        call = plan._caller(g, 0, out, run=run, problem=problem)
        t = time.thread_time()
        call(0, g.size)
        best = min(best, time.thread_time() - t)
    return best


def profile(name, repeat, rounds=1):
    from optsim.engine import codegen
    from optsim.sweep import build_plan

    wl = workloads.make(name)
    n_lr, reps, steps = SIZES[name]
    wl = wl.subset(np.linspace(0, len(wl.lrs) - 1, n_lr).astype(int), reps)
    if steps:
        wl.steps = steps
        wl.record_steps = workloads.record_grid(steps, 50)
    problem, noise = problem_and_noise(wl)
    rule = "adam" if name == "W3" else wl.rules[0]  # W3: Adam's kernel, as for the others
    plan, _ = build_plan(problem, _optimizer(rule), noise=noise, grid={"lr": np.asarray(wl.lrs)},
                         replicates=wl.replicates, steps=wl.steps, record_steps=wl.record_steps,
                         record=("loss",), seed=0)
    g = plan.groups[0]
    src, funcs = codegen.generate_source(g.spec, codegen.grad_dim(g.x0.shape[1]))  # as the sweep compiles it
    n_updates = g.size * wl.steps * (problem.dimension() if name == "W2" else 1)
    variants = ablations(src, loop_source())
    times = {label: [] for label in variants}
    for _ in range(rounds):  # the variants alternate, so that a slow spell of the host hits them all
        for label, (s, loop) in variants.items():
            times[label].append(time_kernel(plan, s, loop, funcs, repeat))
    rows = {}
    for label, secs in times.items():
        rows[label] = {"seconds": min(secs), "ns_per_unit": 1e9 * min(secs) / n_updates,
                       "ns_per_unit_rounds": [1e9 * x / n_updates for x in secs]}
    full = rows["full"]["seconds"]
    for r in rows.values():
        r["share_of_full"] = r["seconds"] / full
    unit = "parameter-update" if name == "W2" else "trajectory-step"
    return {"workload": name, "rule": rule, "block": codegen.block_size(g.spec, problem.dimension()),
            "dim": problem.dimension(), "unit": unit, "rows": rows}


def rng_rate():
    from numba import njit

    from optsim._rng import normal, stream_state

    @njit(_nrt=False, error_model="numpy")  # as in the kernels
    def draw(s, n):
        acc = 0.0
        for _ in range(n):
            acc += normal(s)
        return acc

    s = stream_state(0)
    draw(s, 10)
    n = 20_000_000
    t = time.thread_time()
    draw(s, n)
    return n / (time.thread_time() - t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workloads", default="W1,W2,W3,W4")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1,
                   help="rounds in which the variants alternate (each keeps its best; every round is reported)")
    p.add_argument("--json", default=None, help="also write the results here")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error(f"--rounds={args.rounds} is not a number of rounds: give 1 or more")
    results = {"normals_per_s_one_thread": rng_rate(), "workloads": []}
    print(f"ziggurat normals, one thread: {results['normals_per_s_one_thread']:.3g}/s "
          f"({1e9 / results['normals_per_s_one_thread']:.1f} ns each)")
    for name in args.workloads.split(","):
        r = profile(name, args.repeat, args.rounds)
        results["workloads"].append(r)
        print(f"\n{name} ({r['rule']}, d = {r['dim']}, blocks of {r['block']}), ns per {r['unit']}, one thread:")
        for label, row in r["rows"].items():
            each = ""
            if args.rounds > 1:
                each = "  rounds: " + ", ".join(f"{x:.1f}" for x in row["ns_per_unit_rounds"])
            print(f"  {label:18s} {row['ns_per_unit']:8.2f} ns  ({row['share_of_full']:.2f} of full){each}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
