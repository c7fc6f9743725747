"""What W5's time goes to: the training steps against the records, optsim against the C loop.

CPU time (user + system of this process, the best of three calls) per trajectory-step of
2 learning rates x 8 replicates x 450 steps of W5's MLP, on one thread (run it with
``NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1``): without records (only steps 0 and 450) and
with a record every 90 steps (W5 records every 100), for optsim recording
``("loss", "test_loss", "metrics")`` with the MLP's default ``train_metrics=True`` (the
metrics then include the train accuracy and the norm of each layer's full training
gradient) and with ``train_metrics=False`` (test and validation metrics only: what W5
runs), ``("loss", "test_loss")`` and ``("loss",)``, and for the C loop (training loss, test loss and test accuracy).  CPU time rather than wall time, so
that other work on the machine counts less (it still slows a core that shares its caches).

Usage::

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/profile_w5.py
"""

import dataclasses
import resource
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peers import impl_c, impl_optsim, workloads  # noqa: E402

import optsim  # noqa: E402


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def best_cpu(f, repeat=3):
    out = []
    for _ in range(repeat):
        c0 = cpu()
        f()
        out.append(cpu() - c0)
    return min(out)


def main():
    wl = workloads.make("W5", quick=True)
    S = 450
    base = dataclasses.replace(wl, lrs=wl.lrs[:2], replicates=8, steps=S)
    n = len(base.lrs) * base.replicates * S
    impl_c.warmup(base)
    problem, noise = impl_optsim.problem_and_noise(base)  # train_metrics=False, as W5 runs it
    full = optsim.problems.MLP(**workloads.MLP_SPEC)        # train_metrics=True: the default
    for rec_name, rec in (("no records", np.array([0, S])), ("every 90", np.arange(0, S + 1, 90))):
        w = dataclasses.replace(base, record_steps=rec)
        for record in (("loss", "test_loss", "metrics", "train"), ("loss", "test_loss", "metrics"),
                       ("loss", "test_loss"), ("loss",)):
            prob = full if record[-1] == "train" else problem
            record = tuple(r for r in record if r != "train")

            def f(record=record, w=w, prob=prob):
                optsim.sweep(problem=prob, noise=noise, optimizer=optsim.optimizers.Adam(),
                             grid={"lr": w.lrs}, replicates=w.replicates, steps=w.steps,
                             record_steps=w.record_steps, record=record, seed=0, progress=False)
            f()  # compile or load the kernels
            label = ",".join(record) + (" (train_metrics)" if prob is full else "")
            print(f"optsim  {rec_name:10s}  {label:38s}  {best_cpu(f) / n * 1e6:7.1f} us per trajectory-step",
                  flush=True)
        t = best_cpu(lambda w=w: impl_c.run(w, 0))
        print(f"C loop  {rec_name:10s}  {'loss,test_loss,test_acc':38s}  {t / n * 1e6:7.1f} us per trajectory-step",
              flush=True)


if __name__ == "__main__":
    main()
