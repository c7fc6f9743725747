"""optsim side by side with its peers: NumPy, JAX + optax, PyTorch, plain Python and C.

Workloads (float64; Adam is PyTorch's form with bias correction, beta1 = 0.9,
beta2 = 0.999, eps = 1e-8, unless said):

W1  Adam on f = 0.5 (x^2 + 100 y^2) from (1, 1), additive N(0, 1) gradient noise;
    64 learning rates log-spaced in [1e-4, 1] x 256 replicates, 2000 steps, the loss
    recorded every 50 steps.  Rate: trajectory-steps/s.
W2  Adam on the noisy quadratic model, d = 10^4, h_i = 1/i, x0 = 1, additive noise of
    standard deviation sqrt(h_i) per coordinate; 8 learning rates in [1e-4, 1e-1] x 8
    replicates, 1000 steps, the loss every 10 steps.  Rate: parameter-updates/s
    (trajectories x steps x d / s).
W3  Eight update rules in PyTorch's forms (SGD, SGD momentum 0.9, NAG = SGD(momentum=0.9,
    nesterov=True), AdaGrad, RMSprop, Adam, AMSGrad, RAdam) x 32 learning rates in
    [1e-5, 1e-1] x 64 replicates on 2-D Rosenbrock from optsim's default start (-1.5, 2),
    additive N(0, 0.1^2) noise, 2000 steps, the loss every 50 steps.  Rate:
    trajectory-steps/s over all eight.
W4  Adam on minibatch logistic regression: n = 10^4 examples, d = 100 features (optsim's
    ``LogisticRegression`` data, the same arrays for everyone), batches of 32 drawn
    without replacement within each of 5 epochs (the last batch of an epoch has the 16
    left-over examples), 8 learning rates in [1e-4, 1e-1] x 8 replicates; the full training
    loss at the start and the end.  Rate: examples/s (trajectories x epochs x n / s; the two
    full-loss evaluations per trajectory are done by every peer but not counted).
W5  Adam on an MLP 64-32-10 (tanh, softmax cross-entropy with a stable log-softmax, biases,
    Glorot-normal weights and zero biases drawn per trajectory) on digits: the MLP
    problem's split (``split_seed`` 0, 20 % test: 1438 training and 359 test rows,
    features standardized with the training rows' mean and standard deviation, the same
    arrays for everyone), batches of 32 in epochs without replacement (reshuffled each
    epoch, the last batch of an epoch has the 30 left-over examples), 16 learning rates in
    [1e-4, 1e-1] x 64 replicates, 2000 steps; the full training loss, the test loss and the
    test accuracy every 100 steps.  Rate: trajectory-steps/s (the records are done by
    every peer and not counted apart).

``--quick`` shrinks them: W1 16 lrs x 64 reps x 500 steps; W2 d = 1000; W3 8 lrs x 16 reps
x 500 steps; W4 n = 2000, 1 epoch; W5 4 lrs x 16 reps x 300 steps.

Implementations (each optional: a missing package or compiler gives a "skipped" row):
optsim (``optsim.sweep``); NumPy vectorized over all trajectories; JAX + optax (vmap over
trajectories, nested ``lax.scan``); PyTorch hand-written batched tensors and
``torch.optim`` with one param group per learning rate (``torch.set_num_threads(2)``);
plain Python (scalar floats, ``random.gauss``) on a few lrs x replicates, extrapolated
(not for W5); and a C loop compiled at run time (``gcc -O3 -march=native -fopenmp``,
``benchmarks/c/``).  For W5: NumPy batched ``matmul`` over trajectories; JAX ``vmap`` of a
trajectory's ``lax.scan`` with ``jax.grad`` and ``optax.adam``; PyTorch batched products by
hand (``torch.baddbmm``/``bmm``, faster here than ``torch.func.vmap`` of ``grad`` of
``functional_call``), and ``torch.func`` gradients stepped by ``torch.optim.Adam`` with a
param group per learning rate; the C loop one trajectory per thread at a time.

Methodology:

* Every (workload, implementation) runs in its own process (``--worker``), which
  imports its library, builds the workload and then reads ``ru_maxrss`` (the baseline);
  warms up (optsim: a tiny sweep of the same components, loading or compiling its
  kernels; JAX: ahead-of-time compilation of the full call; C: the gcc compile; torch: a
  tiny run); then times up to ``--repeat`` calls (stopping once ``--budget`` seconds are
  spent) and reports the best.  Peak memory ("peak MiB") is what the timed calls needed
  on top of the warmed-up process: after the warm-up the kernel's peak-RSS mark is reset
  (``/proc/self/clear_refs``), and at the end the peak RSS (``VmHWM``) minus the RSS at
  the reset is reported (the previous call's results are freed before each call).  The
  JSON also has the warm-up's own growth of the peak over its value after the imports and
  inputs (compilation memory).  Elsewhere than Linux, ``ru_maxrss`` growth over the
  imports is reported instead.  (On Linux ``ru_maxrss`` itself would carry the parent
  process's RSS over ``fork``/``exec``.)
* Rates are work / best time; "optsim / peer" is optsim's rate over the peer's; "peer / C"
  the peer's rate over the C loop's (for W4 without a C result: over the fastest peer).
* optsim and the C loop, whose ratio is the target, run ``--rounds`` times each (default
  3): once in the main pass, then in back-to-back pairs in alternating order; each keeps
  its best rate, and the ratio of every pair is reported too (``round_ratios``), since the
  speed of a virtual machine drifts over the minutes between the main pass's runs.
* First call: for optsim, a fresh process with empty kernel caches (``OPTSIM_CACHE_DIR``
  and ``NUMBA_CACHE_DIR`` in a new temporary directory) running a tiny sweep of the
  workload's components, process start to end; warm start: a second fresh process on
  those caches.  For JAX the ahead-of-time compile of the workload, for C the gcc
  compile.
* Agreement: every implementation's final losses are compared with optsim's, per
  learning rate (and optimizer): diverged fractions by a two-proportion z-test and the
  mean of log10(final loss) over the replicates that did not diverge by a pooled
  two-sample z (``--max-z``, default 5); for W5 also the mean final test accuracy by the
  same z; see ``benchmarks/_peers/stats.py``.  The random streams differ, the inputs do
  not, so nobody can be timed doing less work.  Without an optsim result the first peer
  that ran (NumPy) is the reference.

Usage::

    python benchmarks/bench_peers.py [--quick] [--workloads W1,W2] [--skip jax,torch_optim] [--out-name NAME]

Prints a table and writes ``benchmarks/out/bench_peers.json`` and ``bench_peers.md`` (``NAME.json``
and ``NAME.md`` with ``--out-name``).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np
from _peers import IMPLEMENTATIONS, stats, workloads

ORDER = list(IMPLEMENTATIONS)  # optsim first: it is everyone's reference
WORKER_TIMEOUT_S = 1800


# -- the worker: one implementation on one workload, in its own process --------------------------


def _status_bytes(field):
    """A ``/proc/self/status`` size field (VmRSS, VmHWM) in bytes, or None (not Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _peak_bytes():
    """The process's peak RSS so far.

    On Linux this is ``VmHWM``, the high-water mark of this process's own memory map.
    ``ru_maxrss`` is not used there because it also holds the peak of the process image
    replaced by ``exec`` -- for a worker started by ``subprocess``, the parent's RSS at
    the fork -- and because ``/proc/self/clear_refs`` does not reset that part.
    """
    hwm = _status_bytes("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def _cpu_seconds():
    """User + system CPU time of this process, all its threads (a machine shared with other
    work gives every runnable thread a share, so a process of more threads gets more)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _reset_peak_rss():
    """Reset the process's peak RSS (and so ru_maxrss) to the current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def worker(args):
    """Run ``args.worker = (workload, implementation)`` and write the JSON (+ .npz) result."""
    wname, iname = args.worker
    impl = IMPLEMENTATIONS[iname]
    out = {"workload": wname, "impl": iname, "label": impl.label}
    json_out = Path(args.json_out)

    def finish(status, **kw):
        out.update(status=status, **kw)
        json_out.write_text(json.dumps(out, indent=1))
        return 0

    why = impl.unavailable()
    if why:
        return finish("unavailable", reason=why)
    wl = workloads.make(wname, quick=args.quick, data_dir=args.data_dir)
    if impl.subset:
        wl = workloads.python_subset(wl)
    if iname == "torch" or iname == "torch_optim":
        from _peers import impl_torch

        impl_torch.THREADS = args.torch_threads
    rss0 = _peak_bytes()  # the high-water mark after imports and inputs
    try:
        t0 = time.perf_counter()
        info = impl.warmup(wl) or {}
        warm_s = time.perf_counter() - t0
        gc.collect()
        warm_peak = _peak_bytes() - rss0  # what the warm-up (compilation) added
        # The timed calls' own peak: reset the high-water mark to the current RSS.
        reset = _reset_peak_rss()
        rss1 = _status_bytes("VmRSS") if reset else None
        times, cpu_times, extras, res = [], [], {}, None
        while len(times) < max(1, args.repeat):
            res = None  # free the previous call's results first
            c0 = _cpu_seconds()
            t0 = time.perf_counter()
            res, extras = impl.run(wl, seed=args.seed)
            times.append(time.perf_counter() - t0)
            cpu_times.append(_cpu_seconds() - c0)
            if sum(times) > args.budget:
                break
    except NotImplementedError as e:
        return finish("unsupported", reason=str(e))
    except workloads.PeerUnavailable as e:
        return finish("unavailable", reason=str(e))
    end = _peak_bytes()
    # With the reset, `end` is the high-water mark of the timed calls alone; without it
    # (not Linux), the growth of the peak over its value after the imports.
    peak_run = end - rss1 if reset and rss1 is not None else None
    peak_all = max(end, rss0) - rss0 if not reset else None
    best = min(times)
    best_cpu = cpu_times[times.index(best)]
    last = workloads.finals(wl, res)  # {metric: final records}; "loss" for every workload
    np.savez(json_out.with_suffix(".npz"), final=last.pop("loss"), lr_index=wl.full_lr_index(),
             **{f"final_{k}": v for k, v in last.items()})
    return finish(
        "ok", best_s=best, times_s=times, rate=wl.work / best, work=wl.work, unit=wl.unit,
        cpu_s=best_cpu, cpu_times_s=cpu_times, rate_per_cpu_s=wl.work / best_cpu if best_cpu > 0 else None,
        warmup_s=warm_s, threads=str(impl.threads()), peak_mem_bytes=peak_run if peak_run is not None else peak_all,
        peak_mem_method=("VmHWM at the end, reset after the warm-up, minus VmRSS at the reset"
                         if peak_run is not None
                         else "peak RSS at the end minus peak RSS after imports (includes the warm-up)"),
        warmup_peak_bytes=int(warm_peak), baseline_peak_bytes=int(rss0), end_peak_bytes=int(end),
        subset=impl.subset, subset_desc=(f"{len(wl.lrs)} lrs x {wl.replicates} replicates" if impl.subset else ""),
        **info, **extras,
    )


# -- optsim's cold and warm start, in fresh processes ----------------------------------------------


def startup_child(args):
    """A fresh process: import optsim, run a tiny sweep of the workload's components."""
    t0 = time.perf_counter()
    from _peers import impl_optsim

    import optsim  # noqa: F401

    from optsim.engine.plan import KERNEL_LOG

    t1 = time.perf_counter()
    wl = workloads.make(args.startup, tiny=True, data_dir=args.data_dir)
    impl_optsim.sweep(wl, seed=0)
    t2 = time.perf_counter()
    # kernels_s: compiling or loading the kernels and the components' entry points (the
    # first load also pays numba's one-off set-up of its compiler, about 0.3-0.5 s)
    print(json.dumps({"import_s": t1 - t0, "sweep_s": t2 - t1,
                      "kernels_s": sum(e["seconds"] for e in KERNEL_LOG),
                      "kernels": [[e["kind"], e["compiled"], round(e["seconds"], 3)] for e in KERNEL_LOG]}))
    return 0


def fresh_process(wname, cache, data_dir):
    env = dict(os.environ, OPTSIM_CACHE_DIR=str(cache / "optsim"), NUMBA_CACHE_DIR=str(cache / "numba"))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--startup", wname, "--data-dir", str(data_dir)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return {"wall_s": wall, **json.loads(proc.stdout.strip().splitlines()[-1])}


def optsim_startup(wname, data_dir):
    with tempfile.TemporaryDirectory(prefix="bench-peers-cold-") as tmp:
        cold = fresh_process(wname, Path(tmp), data_dir)
        warm = fresh_process(wname, Path(tmp), data_dir)
    return {"cold": cold, "warm": warm}


# -- the parent ------------------------------------------------------------------------------------


def run_worker(wname, iname, args, tmp):
    json_out = Path(tmp) / f"{wname}_{iname}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", wname, iname,
           "--json-out", str(json_out), "--data-dir", str(args.data_dir), "--repeat", str(args.repeat),
           "--budget", str(args.budget), "--seed", str(args.seed), "--torch-threads", str(args.torch_threads)]
    if args.quick:
        cmd.append("--quick")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=args.worker_timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "reason": f"no result within {args.worker_timeout} s"}, None
    if proc.returncode != 0 or not json_out.exists():
        tail = (proc.stderr or proc.stdout)[-1500:]
        return {"status": "error", "reason": tail.strip().splitlines()[-1] if tail.strip() else "?",
                "stderr": tail}, None
    res = json.loads(json_out.read_text())
    res["process_s"] = time.perf_counter() - t0
    final = None
    if res["status"] == "ok":
        with np.load(json_out.with_suffix(".npz")) as z:
            final = ({"loss": z["final"], **{k[6:]: z[k] for k in z.files if k.startswith("final_")}},
                     z["lr_index"])
    return res, final


def _alternate(wname, impls, args, tmp, t_start):
    """Run optsim and the C loop ``args.rounds - 1`` more times each, back to back, in
    alternating order; each keeps its best rate over all rounds.  On a machine whose speed
    drifts (a virtual machine's steal time), the ratio of two runs minutes apart says
    little; the ratios of the rounds' back-to-back pairs are kept as ``round_ratios``."""
    pair = ("optsim", "c")
    if args.rounds <= 1 or any(impls.get(i, {}).get("status") != "ok" for i in pair):
        return
    rates = {i: [impls[i]["rate"]] for i in pair}
    ratios = [rates["optsim"][0] / rates["c"][0]]
    for rnd in range(1, args.rounds):
        got = {}
        for iname in (pair[::-1] if rnd % 2 else pair):
            print(f"[{time.perf_counter() - t_start:6.0f} s] {wname} {iname} (round {rnd + 1} of {args.rounds}) ...",
                  flush=True)
            res, _ = run_worker(wname, iname, args, tmp)
            _print_result(res)
            if res.get("status") == "ok":
                got[iname] = res["rate"]
                rates[iname].append(res["rate"])
        if len(got) == len(pair):  # a ratio only of a pair that both ran
            ratios.append(got["optsim"] / got["c"])
    for iname in pair:
        r = impls[iname]
        r["round_rates"] = rates[iname]
        r["rate"] = max(rates[iname])
        r["best_s"] = r["work"] / r["rate"]
    impls["optsim"]["round_ratios"] = ratios


def _print_result(res):
    """One line per worker as it finishes (a long run's numbers survive an interruption)."""
    if res.get("status") == "ok":
        print(f"    rate {res.get('rate', float('nan')):.4g} {res.get('unit', '')}/s, best "
              f"{res.get('best_s', float('nan')):.1f} s of {len(res.get('times_s', []))} "
              f"({res.get('cpu_s', float('nan')):.1f} CPU-s), peak {(res.get('peak_mem_bytes') or 0) / 2**20:.1f} MiB",
              flush=True)
    else:
        print(f"    {res.get('status')}: {res.get('reason', '')}", flush=True)


def _fmt_ratios(rr):
    return f"{', '.join(f'{x:.2f}' for x in rr)} (median {float(np.median(rr)):.2f})"


#: /proc/cpuinfo fields that name the processor (a virtual machine's "model name" may be
#: only "AMD EPYC"; family and model tell its generation)
_CPUINFO = {"vendor_id": "vendor", "cpu family": "family", "model": "model", "stepping": "stepping",
            "cache size": "cache"}
#: vector extensions worth knowing for a compiled loop
_VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512dq", "avx512vl")


def cpu_identity():
    """What /proc/cpuinfo and ``lscpu`` say about the first processor: ``cpu`` (the model
    name), vendor, family, model, stepping, the vector extensions of :data:`_VECTOR_FLAGS` it
    has, its L2 and L3 caches and the hypervisor, where the system says (Linux)."""
    out = {"cpu": "unknown"}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name" and out["cpu"] == "unknown":
                out["cpu"] = value
            elif key in _CPUINFO and _CPUINFO[key] not in out:
                out[_CPUINFO[key]] = value
            elif key == "flags" and "vector_extensions" not in out:
                flags = set(value.split())
                out["vector_extensions"] = [f for f in _VECTOR_FLAGS if f in flags]
            elif not line.strip() and out["cpu"] != "unknown":
                break  # the first processor's block is enough
    except OSError:
        pass
    if out["cpu"] == "unknown":
        out["cpu"] = platform.processor() or platform.machine()
    lscpu = shutil.which("lscpu")
    if lscpu:
        try:
            text = subprocess.run([lscpu], check=False, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            text = ""
        for line in text.splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key in ("L2 cache", "L3 cache", "Hypervisor vendor"):
                out[key.lower().replace(" ", "_")] = value
    return out


def machine_info():
    info = {**cpu_identity(), "logical_cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "optsim_vector_width": os.environ.get("OPTSIM_VECTOR_WIDTH", "auto")}
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["usable_cpus"] = os.cpu_count()
    try:
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
    except ImportError:
        info["physical_cores"] = None
    for pkg in ("optsim", "numpy", "numba", "jax", "jaxlib", "optax", "torch"):
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = None
    gcc = shutil.which(os.environ.get("CC", "gcc"))
    if gcc:
        try:
            info["gcc"] = subprocess.run([gcc, "--version"], check=False, capture_output=True,
                                         text=True).stdout.splitlines()[0]
        except (OSError, IndexError):
            info["gcc"] = gcc
    else:
        info["gcc"] = None
    try:
        info["load_average_start"] = list(os.getloadavg())
    except OSError:
        pass
    return info


def _fmt_rate(r):
    if r is None or not np.isfinite(r):
        return "-"
    return f"{r:.3g}"


def _fmt_ratio(r):
    if r is None or not np.isfinite(r):
        return "-"
    return f"{r:.3g}x" if r < 100 else f"{r:.0f}x"


def _fmt_s(s):
    return "-" if s is None else (f"{s:.2f} s" if s < 100 else f"{s:.0f} s")


def _fmt_mib(b):
    if b is None:
        return "-"
    mib = max(0.0, b / 2**20)  # the RSS can shrink below the mark at the reset
    return f"{mib:.1f}" if mib < 10 else f"{mib:.0f}"


def build_rows(report):
    """Rows (dicts of strings) per workload for the console and markdown tables."""
    tables = {}
    for wname, wres in report["workloads"].items():
        rows = []
        impls = wres["impls"]
        for iname in ORDER:
            r = impls.get(iname)
            if r is None:
                continue
            row = {"impl": IMPLEMENTATIONS[iname].label}
            if r["status"] != "ok":
                row.update(rate="-", vs_optsim="-", vs_c="-", first="-", warm="-", mem="-", agrees="-",
                           notes=f"skipped: {r.get('reason', r['status'])}" if r["status"] != "error"
                           else f"ERROR: {r.get('reason', '')}")
                rows.append(row)
                continue
            notes = [f"threads {r.get('threads', '?')}"]
            if r.get("rate_per_cpu_s"):
                notes.append(f"{_fmt_rate(r['rate_per_cpu_s'])} per CPU-second")
            if r.get("subset"):
                notes.append(f"extrapolated from {r['subset_desc']}")
            first = r.get("first_call_s")
            warm = None
            if iname == "optsim":
                st = wres.get("optsim_startup") or {}
                first = (st.get("cold") or {}).get("wall_s")
                warm = (st.get("warm") or {}).get("wall_s")
                if "outputs_nbytes" in r:
                    notes.append(f"outputs {r['outputs_nbytes'] / 2**20:.1f} MiB")
            elif r.get("first_call_what"):
                notes.append(f"first call = {r['first_call_what']}")
            agree = r.get("agreement")
            is_ref = iname == wres.get("agreement_reference", "optsim")
            agrees = "ref" if is_ref else ("-" if agree is None else ("yes" if agree["agree"] else "NO"))
            if agree is not None and not agree["agree"]:
                f0 = agree["failures"][0]
                notes.append(f"DISAGREES: {f0['reason']} (z={f0['z']:.1f})")
            if agree is not None and "max_z_acc" in agree:
                notes.append(f"max z: training loss {agree['max_z_loss']:.1f}, test accuracy "
                             f"{agree['max_z_acc']:.1f}, diverged {agree['max_z_div']:.1f}")
            if wres["workload"].get("problem") == "mlp" and r.get("peak_mem_bytes") is not None:
                notes.append(f"{max(0, r['peak_mem_bytes']) / 1024 / wres['workload']['trajectories']:.0f} KiB "
                             "per trajectory")
            row.update(rate=_fmt_rate(r["rate"]), vs_optsim=_fmt_ratio(r.get("optsim_over_peer")),
                       vs_c=_fmt_ratio(r.get("peer_over_c")), first=_fmt_s(first), warm=_fmt_s(warm),
                       mem=_fmt_mib(r.get("peak_mem_bytes")), agrees=agrees, notes="; ".join(notes))
            rows.append(row)
        tables[wname] = rows
    return tables


COLUMNS = [("impl", "implementation"), ("rate", "rate"), ("vs_optsim", "optsim / peer"),
           ("vs_c", "peer / C"), ("first", "first call"), ("warm", "warm start"),
           ("mem", "peak MiB"), ("agrees", "agrees"), ("notes", "notes")]


def print_tables(report, tables):
    for wname, rows in tables.items():
        w = report["workloads"][wname]["workload"]
        ref = report["workloads"][wname].get("c_reference", "C loop")
        print(f"\n{wname}: {w['title']}\n    {w['trajectories']} trajectories x {w['steps']} steps; "
              f"rate in {w['unit']}/s; peer / C relative to {ref}")
        widths = {k: max(len(h), *(len(r[k]) for r in rows)) for k, h in COLUMNS if k != "notes"}
        head = "  ".join(f"{h:<{widths[k]}}" if k == "impl" else f"{h:>{widths[k]}}" for k, h in COLUMNS if k != "notes")
        print("  " + head + "  notes")
        for r in rows:
            line = "  ".join(f"{r[k]:<{widths[k]}}" if k == "impl" else f"{r[k]:>{widths[k]}}"
                             for k, _ in COLUMNS if k != "notes")
            print("  " + line + "  " + r["notes"])
        rr = report["workloads"][wname]["impls"].get("optsim", {}).get("round_ratios")
        if rr:
            print(f"  optsim / C in {len(rr)} back-to-back rounds: {_fmt_ratios(rr)}")


def cpu_text(m):
    """The processor of a machine record in words: model name, family/model/stepping, vector
    extensions, caches, hypervisor (what the record has)."""
    ident = [f"{m['vendor']} family {m['family']} model {m['model']} stepping {m.get('stepping', '?')}"
             if m.get("family") else None,
             ", ".join(m.get("vector_extensions") or []) or None,
             f"L2 {m['l2_cache']}" if m.get("l2_cache") else None,
             f"L3 {m['l3_cache']}" if m.get("l3_cache") else None,
             f"under {m['hypervisor_vendor']}" if m.get("hypervisor_vendor") else None]
    ident = "; ".join(i for i in ident if i)
    return f"{m['cpu']} ({ident})" if ident else m["cpu"]


def markdown(report, tables):
    m = report["machine"]
    cores = f"{m['usable_cpus']} usable CPUs" + (f" ({m['physical_cores']} physical cores)" if m.get("physical_cores") else "")
    vers = ", ".join(f"{k} {m[k]}" for k in ("python", "numpy", "numba", "jax", "optax", "torch") if m.get(k))
    lines = [
        f"### optsim and its peers ({'quick' if report['quick'] else 'full'} scale)",
        "",
        f"Machine: {cpu_text(m)}, {cores}; {vers}; {m.get('gcc') or 'no gcc'}; "
        f"OPTSIM_VECTOR_WIDTH={m.get('optsim_vector_width', 'auto')}.",
        f"Load average at the start: {', '.join(f'{v:.2f}' for v in m.get('load_average_start', []))}.",
        "",
        ("Rates are work per second of the best of up to "
        f"{report['settings']['repeat']} warm calls (optsim and the C loop: over "
        f"{report['settings'].get('rounds', 1)} runs, see below each table); \"optsim / peer\" > 1 means optsim is faster; "
        "\"peer / C\" is the peer's rate over the C loop's. First call: optsim in a fresh process with empty "
        "kernel caches (warm start: a second fresh process), JAX's compile, gcc's compile. Peak memory: "
        "growth of the peak RSS of the implementation's own process during the warm calls. Agreement: per "
        f"learning rate (and optimizer), mean log10 final loss within {report['settings']['max_z']} "
        "standard errors of optsim's and the same diverged fraction."),
        "",
    ]
    for wname, rows in tables.items():
        w = report["workloads"][wname]["workload"]
        lines += [(f"**{wname}** {w['title']}: {w['trajectories']} trajectories x {w['steps']} steps, "
                   f"rate in {w['unit']}/s."), ""]
        lines.append("| " + " | ".join(h for _, h in COLUMNS) + " |")
        lines.append("|" + "|".join("---" if k in ("impl", "notes") else "---:" for k, _ in COLUMNS) + "|")
        for r in rows:
            lines.append("| " + " | ".join(r[k].replace("|", "/") for k, _ in COLUMNS) + " |")
        o = report["workloads"][wname]["impls"].get("optsim", {})
        if o.get("round_ratios"):
            rr = o["round_ratios"]
            lines += ["", (f"optsim and the C loop in {len(rr)} rounds, back to back: optsim / C = "
                           f"{_fmt_ratios(rr)}; "
                           f"optsim {', '.join(_fmt_rate(x) for x in o['round_rates'])}, C "
                           f"{', '.join(_fmt_rate(x) for x in report['workloads'][wname]['impls']['c']['round_rates'])}.")]
        if w.get("problem") == "mlp":
            lines += ["", ("W5 agreement, per learning rate: the diverged fraction, the mean log10 final training "
                           "loss and the mean final test accuracy (the largest z of each in the notes). Peak MiB per "
                           "trajectory in the notes: the work arrays (parameters, Adam's moments, a minibatch's "
                           "activations) and, for the batched peers, the chunked record evaluations.")]
        extra = report["workloads"][wname].get("memory_check")
        if extra:
            lines += ["", extra]
        st = report["workloads"][wname].get("optsim_startup") or {}
        parts = []
        for which in ("cold", "warm"):
            r = st.get(which) or {}
            if "wall_s" in r:
                parts.append(f"{which} {r['wall_s']:.1f} s (import {r['import_s']:.2f} s, kernels and entry "
                             f"points {r.get('kernels_s', float('nan')):.2f} s, rest of the sweep "
                             f"{r['sweep_s'] - r.get('kernels_s', 0.0):.2f} s)")
        if parts:
            lines += ["", "optsim start in a new process, wall: " + "; ".join(parts) + "."]
        lines.append("")
    return "\n".join(lines)


def _jsonable(o):
    if isinstance(o, dict):
        return {k: _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, (np.floating, np.integer)):
        return _jsonable(o.item())
    return o


def parent(args):
    names = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    for w in names:
        if w not in workloads.WORKLOADS:
            raise SystemExit(f"unknown workload {w!r}; choose from {', '.join(workloads.WORKLOADS)}")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    for s in skip:
        if s not in IMPLEMENTATIONS:
            raise SystemExit(f"unknown implementation {s!r}; choose from {', '.join(IMPLEMENTATIONS)}")
    cold_for = set(names) if args.cold == "all" else ({"W1"} & set(names) if args.cold == "W1" else set())
    if args.cold == "auto":
        cold_for = ({"W1"} & set(names)) if args.quick else set(names)

    report = {"quick": args.quick, "machine": machine_info(), "workloads": {},
              "settings": {"repeat": args.repeat, "rounds": args.rounds, "budget_s": args.budget, "max_z": args.max_z,
                           "seed": args.seed, "torch_threads": args.torch_threads,
                           "optsim_cache_dir": os.environ.get("OPTSIM_CACHE_DIR")}}
    any_disagreement = False
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        for wname in names:
            wl = workloads.make(wname, quick=args.quick, data_dir=args.data_dir)  # W4: makes the data
            bound = wl.diverge_bound()
            wres = {"workload": wl.describe(), "impls": {}}
            report["workloads"][wname] = wres
            finals = {}
            for iname in ORDER:
                if iname in skip:
                    wres["impls"][iname] = {"status": "skipped", "reason": "--skip"}
                    continue
                print(f"[{time.perf_counter() - t_start:6.0f} s] {wname} {iname} ...", flush=True)
                res, final = run_worker(wname, iname, args, tmp)
                wres["impls"][iname] = res
                if final is not None:
                    finals[iname] = final
                _print_result(res)
                if res["status"] == "error":
                    print(f"    error:\n{res.get('stderr', '')}", flush=True)
            _alternate(wname, wres["impls"], args, tmp, t_start)
            if "optsim" not in skip and wname in cold_for and wres["impls"]["optsim"].get("status") == "ok":
                print(f"[{time.perf_counter() - t_start:6.0f} s] {wname} optsim cold and warm start ...", flush=True)
                wres["optsim_startup"] = optsim_startup(wname, args.data_dir)

            # agreement with optsim (without it, the first peer that ran), and the ratios
            impls = wres["impls"]
            ref_name = "optsim" if "optsim" in finals else next((i for i in ORDER if i in finals), "optsim")
            wres["agreement_reference"] = ref_name
            rate = {k: v["rate"] for k, v in impls.items() if v.get("status") == "ok"}
            c_rate = rate.get("c")
            if c_rate is None:
                peers = {k: v for k, v in rate.items() if k != "optsim"}
                if peers:
                    best = max(peers, key=peers.get)
                    c_rate = peers[best]
                    wres["c_reference"] = f"the fastest peer ({best}; no C result)"
            for iname, r in impls.items():
                if r.get("status") != "ok":
                    continue
                if "optsim" in rate:
                    r["optsim_over_peer"] = rate["optsim"] / r["rate"]
                if c_rate:
                    r["peer_over_c"] = r["rate"] / c_rate
                if iname != ref_name and ref_name in finals and iname in finals:
                    ref_final, _ = finals[ref_name]
                    peer_final, lr_index = finals[iname]
                    if wl.problem == "mlp":
                        agree = stats.compare_metrics({k: v[:, lr_index] for k, v in ref_final.items()}, peer_final,
                                                      bound, max_z=args.max_z)
                    else:
                        agree = stats.compare(ref_final["loss"][:, lr_index], peer_final["loss"], bound,
                                              max_z=args.max_z)
                    r["agreement"] = agree
                    if not agree["agree"]:
                        any_disagreement = True
            o = impls.get("optsim", {})
            if wname == "W1" and o.get("status") == "ok":
                out_b, peak = o.get("outputs_nbytes", 0), o.get("peak_mem_bytes", 0)
                wres["memory_check"] = (
                    f"optsim W1 memory: outputs (Dataset.nbytes) {out_b / 2**20:.1f} MiB; peak RSS growth of a "
                    f"warm call {peak / 2**20:.1f} MiB = {peak / max(out_b, 1):.2f} x outputs; the warm-up "
                    f"(loading or compiling the kernel) added {o.get('warmup_peak_bytes', 0) / 2**20:.0f} MiB.")

    report["wall_s"] = time.perf_counter() - t_start
    try:
        report["machine"]["load_average_end"] = list(os.getloadavg())
    except OSError:
        pass
    tables = build_rows(report)
    print_tables(report, tables)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{args.out_name}.json").write_text(json.dumps(_jsonable(report), indent=1))
    (out_dir / f"{args.out_name}.md").write_text(markdown(report, tables))
    for wname, wres in report["workloads"].items():
        for iname, r in wres["impls"].items():
            a = r.get("agreement")
            if a is not None and not a["agree"]:
                lrs = wres["workload"]["lrs"]
                rules = wres["workload"]["rules"]
                print(f"\n!!! DISAGREEMENT {wname} / {iname}: {len(a['failures'])} of {a['cells']} cells", flush=True)
                for f in a["failures"][:8]:
                    o_, l_ = f["cell"]
                    print(f"    {rules[o_]} lr={lrs[l_] if len(lrs) > l_ else l_:.3g}: {f['reason']}: "
                          f"{wres.get('agreement_reference', 'optsim')} {f['ref']:.4g}, {iname} {f['peer']:.4g}, "
                          f"z = {f['z']:.1f}")
    print(f"\nwrote {out_dir / (args.out_name + '.json')} and {out_dir / (args.out_name + '.md')} "
          f"({report['wall_s']:.0f} s)")
    return 1 if any_disagreement else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shrunken workloads (about 1-2 minutes in all)")
    p.add_argument("--workloads", default=",".join(workloads.WORKLOADS), help="comma-separated, default W1,W2,W3,W4,W5")
    p.add_argument("--skip", default="", help=f"implementations to leave out: {', '.join(IMPLEMENTATIONS)}")
    p.add_argument("--repeat", type=int, default=3, help="timed calls per implementation (the best counts)")
    p.add_argument("--rounds", type=int, default=3,
                   help="runs of optsim and the C loop, alternating (each keeps its best rate)")
    p.add_argument("--budget", type=float, default=None,
                   help="stop repeating once the timed calls took this many seconds (default 5 quick, 30 full)")
    p.add_argument("--max-z", type=float, default=5.0, help="agreement tolerance in standard errors")
    p.add_argument("--cold", choices=("auto", "all", "W1", "none"), default="auto",
                   help="workloads whose optsim cold/warm start is measured (auto: W1 with --quick, else all)")
    p.add_argument("--torch-threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mlp-tanh", choices=("portable", "libm"), default=None,
                   help="W5's tanh in optsim and the C loop: optsim's portable one (the default) or the C "
                        "library's (sets OPTSIM_BENCH_MLP_TANH for the workers)")
    p.add_argument("--out-dir", default=str(HERE / "out"))
    p.add_argument("--out-name", default="bench_peers", help="file names of the reports (NAME.json, NAME.md)")
    p.add_argument("--data-dir", default=None, help="cache of generated data (default OUT_DIR/data)")
    p.add_argument("--worker-timeout", type=float, default=WORKER_TIMEOUT_S)
    p.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "IMPL"), help=argparse.SUPPRESS)
    p.add_argument("--json-out", help=argparse.SUPPRESS)
    p.add_argument("--startup", metavar="WORKLOAD", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.mlp_tanh is not None:
        os.environ["OPTSIM_BENCH_MLP_TANH"] = args.mlp_tanh
    if args.budget is None:
        args.budget = 5.0 if args.quick else 30.0
    if args.data_dir is None:
        args.data_dir = str(Path(args.out_dir) / "data")
    if args.worker:
        return worker(args)
    if args.startup:
        return startup_child(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
