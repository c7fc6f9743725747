"""Regenerate the golden files of the classic rules and schedules.

Run where the libraries are installed (optsim need not be)::

    python tests/golden/make_classic.py          # from the repository root

Each case names the library's call and optsim's spec of the same rule; the library's
trajectory goes to ``tests/golden/<kind>/<case>.npz`` (:mod:`fixtures`).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import drivers  # noqa: E402
import fixtures  # noqa: E402

STEPS = 100

# (case, library, reference text, optsim spec, make): torch's make(params) -> optimizer
TORCH = [
    ("torch_adam", "torch.optim.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-3)",
     {"name": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3},
     lambda ps: __import__("torch").optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3)),
]

# (case, reference text, optsim schedule spec, base_lr, steps, make(opt) -> torch scheduler)
TORCH_SCHEDULES = [
    ("torch_steplr", "torch.optim.lr_scheduler.StepLR(step_size=7, gamma=0.5)",
     {"name": "step", "step_size": 7, "gamma": 0.5}, 0.1, 40,
     lambda opt: __import__("torch").optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)),
]


def optimizer_cases(version):
    x0c, curv, center = drivers.closed_loop_problem()
    grads = drivers.gradient_sequence(STEPS)
    for case, ref, spec, make in TORCH:
        meta = dict(library="torch", library_version=version["torch"], reference=ref, optimizer=spec)
        xs = drivers.torch_run(make, x0c, STEPS, "open", grads=grads)
        fixtures.save("optimizers", dict(meta, case=case + "_open", loop="open"), x0=x0c, grads=grads, xs=xs)
        xs = drivers.torch_run(make, x0c, STEPS, "closed", curvatures=curv, center=center)
        fixtures.save("optimizers", dict(meta, case=case + "_closed", loop="closed"),
                      x0=x0c, curvatures=curv, center=center, xs=xs)


def torch_lrs(make_scheduler, base_lr, steps):
    """The rate of each update of SGD under a torch scheduler stepped after every update."""
    import torch

    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def schedule_cases(version):
    for case, ref, spec, base_lr, steps, make in TORCH_SCHEDULES:
        meta = dict(case=case, library="torch", library_version=version["torch"], reference=ref,
                    schedule=spec, base_lr=base_lr)
        fixtures.save("schedules", meta, lrs=torch_lrs(make, base_lr, steps))


if __name__ == "__main__":
    v = drivers.versions()
    optimizer_cases(v)
    schedule_cases(v)
