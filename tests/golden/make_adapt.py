"""Regenerate the golden files of Schedule-Free, D-Adaptation, DoG/DoWG, MARS, SPAM and Cautious.

Run where the libraries are installed (optsim need not be)::

    python tests/golden/make_adapt.py          # from the repository root

besides torch, optax and pytorch-optimizer it uses the authors' packages ``schedulefree``,
``dadaptation`` and ``dog-optimizer`` from PyPI.  Schedule-Free keeps its gradient point y in
the parameter during training; the file records the average x (what ``optimizer.eval()`` and
``optax.contrib.schedule_free_eval_params`` give), which is optsim's recorded parameter,
while the closed-loop gradient is taken at the library's own parameter y.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import drivers  # noqa: E402
import fixtures  # noqa: E402

STEPS = 100


def _versions():
    from importlib import metadata

    v = drivers.versions()
    for dist in ("schedulefree", "dadaptation", "dog-optimizer"):
        try:
            v[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return v


def torch_average_run(make, x0, steps, loop, grads=None, curvatures=None, center=None, beta=None):
    """A schedule-free torch optimizer in train mode (``p`` holds y), stepped with ``p.grad``
    set by hand (the closed-loop gradient at y); returns the averages x = lerp(y, z, 1 - 1/beta)."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(np.asarray(x0, float)))
        opt = make([p])
        opt.train()
        xs = [p.detach().numpy().copy()]
        for k in range(steps):
            opt.zero_grad()
            y = p.detach().numpy().copy()
            p.grad = torch.tensor(grads[k] if loop == "open" else curvatures * (y - center))
            opt.step()
            z = opt.state[p]["z"]
            xs.append(p.detach().clone().lerp_(z, 1.0 - 1.0 / beta).numpy())
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


def optax_average_run(opt, x0, steps, loop, grads=None, curvatures=None, center=None):
    """An ``optax.contrib.schedule_free`` transformation; returns the evaluation parameters x."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax
    from optax import contrib

    y = jnp.asarray(np.asarray(x0, float), dtype=jnp.float64)
    state = opt.init(y)
    xs = [np.asarray(y)]
    for k in range(steps):
        g = grads[k] if loop == "open" else curvatures * (np.asarray(y) - center)
        upd, state = opt.update(jnp.asarray(g, dtype=jnp.float64), state, y)
        y = optax.apply_updates(y, upd)
        xs.append(np.asarray(contrib.schedule_free_eval_params(state, y)))
    return np.array(xs)


def _sf():
    import schedulefree

    return schedulefree


def _po():
    import pytorch_optimizer

    return pytorch_optimizer


def _contrib():
    from optax import contrib

    return contrib


SF_SGD = {"name": "schedule_free_sgd", "lr": 0.05, "momentum": 0.8, "weight_decay": 0.01, "warmup_steps": 10,
          "r": 0.5, "weight_lr_power": 1.5}
SF_ADAMW = {"name": "schedule_free_adamw", "lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3,
            "weight_decay": 0.01, "warmup_steps": 10, "r": 0.5, "weight_lr_power": 1.5}
_SGD_KW = dict(lr=0.05, momentum=0.8, weight_decay=0.01, warmup_steps=10, r=0.5, weight_lr_power=1.5)
_ADAMW_KW = dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.01, warmup_steps=10, r=0.5,
                 weight_lr_power=1.5)

# (case, library, reference text, optsim spec, make(params), beta): schedule-free in torch
TORCH_AVERAGED = [
    ("schedulefree_sgd", "schedulefree", f"schedulefree.SGDScheduleFree({_SGD_KW})", SF_SGD,
     lambda ps: _sf().SGDScheduleFree(ps, **_SGD_KW), 0.8),
    ("schedulefree_adamw", "schedulefree", f"schedulefree.AdamWScheduleFree({_ADAMW_KW})", SF_ADAMW,
     lambda ps: _sf().AdamWScheduleFree(ps, **_ADAMW_KW), 0.8),
    ("schedulefree_adamw_paper", "schedulefree", f"schedulefree.AdamWScheduleFreePaper({_ADAMW_KW})",
     dict(SF_ADAMW, bias_correction="lr"), lambda ps: _sf().AdamWScheduleFreePaper(ps, **_ADAMW_KW), 0.8),
    ("schedulefree_adamw_reference_decay_at_z", "schedulefree",
     f"schedulefree.AdamWScheduleFreeReference({_ADAMW_KW}, decay_at_z=True)", dict(SF_ADAMW, decay_at="z"),
     lambda ps: _sf().AdamWScheduleFreeReference(ps, decay_at_z=True, **_ADAMW_KW), 0.8),
    ("pytorch_optimizer_schedulefree_sgd", "pytorch_optimizer",
     f"pytorch_optimizer.ScheduleFreeSGD({_SGD_KW})", SF_SGD,
     lambda ps: _po().ScheduleFreeSGD(ps, **_SGD_KW), 0.8),
    ("pytorch_optimizer_schedulefree_adamw", "pytorch_optimizer",
     f"pytorch_optimizer.ScheduleFreeAdamW({_ADAMW_KW})", dict(SF_ADAMW, eps_root=1e-15),
     lambda ps: _po().ScheduleFreeAdamW(ps, **_ADAMW_KW), 0.8),
]

def _optax_warmup(peak, steps):
    """optax's ``warmup_constant_schedule(0, peak, steps)`` in float64 (optax's own computes it in
    float32 even with x64 enabled): ``peak * min(1, count / steps)`` at optax's counts."""
    import jax.numpy as jnp

    return lambda count: peak * jnp.minimum(1.0, jnp.asarray(count, dtype=jnp.float64) / steps)


_OPTAX_SGD = dict(b1=0.8, weight_decay=0.01, weight_lr_power=1.5)
_OPTAX_ADAMW = dict(b1=0.8, b2=0.99, eps=1e-3, weight_decay=0.01, weight_lr_power=1.5)
_F64_WARMUP = "learning_rate=lambda count: peak * min(1, count / 10) in float64, warmup_steps=None"
# (case, reference text, optsim spec, make, rtol, note)
OPTAX_AVERAGED = [
    ("optax_schedule_free_sgd", f"optax.contrib.schedule_free_sgd({_F64_WARMUP}, peak=0.05, {_OPTAX_SGD})",
     dict(SF_SGD, r=0.0, warmup_index="optax"),
     lambda: _contrib().schedule_free_sgd(learning_rate=_optax_warmup(0.05, 10), **_OPTAX_SGD), 1e-12,
     "the warm-up of warmup_constant_schedule, written in float64"),
    ("optax_schedule_free_adamw", f"optax.contrib.schedule_free_adamw({_F64_WARMUP}, peak=0.02, {_OPTAX_ADAMW})",
     dict(SF_ADAMW, r=0.0, warmup_index="optax"),
     lambda: _contrib().schedule_free_adamw(learning_rate=_optax_warmup(0.02, 10), **_OPTAX_ADAMW), 1e-12,
     "the warm-up of warmup_constant_schedule, written in float64"),
    ("optax_schedule_free_sgd_warmup_f32",
     f"optax.contrib.schedule_free_sgd(learning_rate=0.05, warmup_steps=10, {_OPTAX_SGD})",
     dict(SF_SGD, r=0.0, warmup_index="optax"),
     lambda: _contrib().schedule_free_sgd(learning_rate=0.05, warmup_steps=10, **_OPTAX_SGD), 1e-6,
     "optax's warmup_constant_schedule returns float32 rates even with jax_enable_x64 (relative error "
     "about 3e-8 from the rounded warm-up rates)"),
    ("optax_schedule_free_adamw_warmup_f32",
     f"optax.contrib.schedule_free_adamw(learning_rate=0.02, warmup_steps=10, {_OPTAX_ADAMW})",
     dict(SF_ADAMW, r=0.0, warmup_index="optax"),
     lambda: _contrib().schedule_free_adamw(learning_rate=0.02, warmup_steps=10, **_OPTAX_ADAMW), 1e-6,
     "optax's warmup_constant_schedule returns float32 rates even with jax_enable_x64"),
]

SF_NOTE = ("the library keeps y and recovers the average x (torch: lerp(y, z, 1 - 1/beta); optax: "
           "(y - (1 - beta) z) / beta); optsim keeps x and z: the same numbers up to rounding")


def _save_both(meta, run, x0, grads, curv, center):
    xs = run("open", grads=grads)
    fixtures.save("optimizers", dict(meta, case=meta["case"] + "_open", loop="open"), x0=x0, grads=grads, xs=xs)
    xs = run("closed", curvatures=curv, center=center)
    fixtures.save("optimizers", dict(meta, case=meta["case"] + "_closed", loop="closed"),
                  x0=x0, curvatures=curv, center=center, xs=xs)


def schedule_free_cases(version):
    x0, curv, center = drivers.closed_loop_problem()
    grads = drivers.gradient_sequence(STEPS)
    for case, lib, ref, spec, make, beta in TORCH_AVERAGED:
        if lib not in version:
            continue
        meta = dict(case=case, library=lib, library_version=version[lib], reference=ref, optimizer=spec,
                    note=SF_NOTE)
        _save_both(meta, lambda loop, **kw: torch_average_run(make, x0, STEPS, loop, beta=beta, **kw),
                   x0, grads, curv, center)
    for case, ref, spec, make, rtol, note in OPTAX_AVERAGED:
        meta = dict(case=case, library="optax", library_version=version["optax"], reference=ref, optimizer=spec,
                    rtol=rtol, note=f"{SF_NOTE}; optax's warm-up is read at count 0 in the z step "
                                    f"(warmup_index='optax'); {note}")
        _save_both(meta, lambda loop, **kw: optax_average_run(make(), x0, STEPS, loop, **kw),
                   x0, grads, curv, center)


def _da():
    import dadaptation

    return dadaptation


_DSGD_KW = dict(lr=0.5, momentum=0.8, weight_decay=0.01, d0=1e-3, growth_rate=1.2)
_DADAM_KW = dict(lr=0.5, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, d0=1e-4, growth_rate=1.2)
_DADAMW_KW = dict(_DADAM_KW, decouple=True, use_bias_correction=True)
DSGD = dict({"name": "dadapt_sgd"}, **_DSGD_KW)
DADAM = {"name": "dadapt_adam", "lr": 0.5, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.01,
         "d0": 1e-4, "growth_rate": 1.2}
DADAMW = dict(DADAM, decouple=True, use_bias_correction=True)

# (case, library, reference text, optsim spec, make(params)): the lr-free rules in torch
TORCH_PLAIN = [
    ("dadaptation_sgd", "dadaptation", f"dadaptation.DAdaptSGD({_DSGD_KW})", DSGD,
     lambda ps: _da().DAdaptSGD(ps, **_DSGD_KW)),
    ("dadaptation_adam", "dadaptation", f"dadaptation.DAdaptAdam({_DADAM_KW})", DADAM,
     lambda ps: _da().DAdaptAdam(ps, **_DADAM_KW)),
    ("dadaptation_adamw_bias_corrected", "dadaptation", f"dadaptation.DAdaptAdam({_DADAMW_KW})", DADAMW,
     lambda ps: _da().DAdaptAdam(ps, **_DADAMW_KW)),
    ("pytorch_optimizer_dadapt_sgd", "pytorch_optimizer", f"pytorch_optimizer.DAdaptSGD({_DSGD_KW})", DSGD,
     lambda ps: _po().DAdaptSGD(ps, **_DSGD_KW),
     dict(rtol=1e-8, note="pytorch-optimizer takes the first gradient's norm G in float32 "
                          "(get_global_gradient_norm), which moves every step by about 1e-9 relative")),
    ("pytorch_optimizer_dadapt_sgd_decoupled", "pytorch_optimizer",
     f"pytorch_optimizer.DAdaptSGD({_DSGD_KW}, weight_decouple=True)", dict(DSGD, decouple=True),
     lambda ps: _po().DAdaptSGD(ps, weight_decouple=True, **_DSGD_KW),
     dict(rtol=1e-8, note="pytorch-optimizer takes the first gradient's norm G in float32")),
    ("pytorch_optimizer_dadapt_adam", "pytorch_optimizer", f"pytorch_optimizer.DAdaptAdam({_DADAM_KW})", DADAM,
     lambda ps: _po().DAdaptAdam(ps, **_DADAM_KW)),
    ("pytorch_optimizer_dadapt_adamw_bias_corrected", "pytorch_optimizer",
     f"pytorch_optimizer.DAdaptAdam({_DADAM_KW}, weight_decouple=True, bias_correction=True)", DADAMW,
     lambda ps: _po().DAdaptAdam(ps, weight_decouple=True, bias_correction=True, **_DADAM_KW)),
]


_DOG_KW = dict(reps_rel=1e-3, lr=0.8, weight_decay=0.01, eps=1e-6)
DOG = dict({"name": "dog"}, **_DOG_KW)
TORCH_PLAIN += [
    ("dog_optimizer_dog", "dog-optimizer", f"dog.DoG({_DOG_KW})", DOG,
     lambda ps: __import__("dog").DoG(ps, **_DOG_KW)),
    ("dog_optimizer_dog_init_eta", "dog-optimizer", "dog.DoG(init_eta=1e-3, eps=1e-6)",
     {"name": "dog", "init_eta": 1e-3, "eps": 1e-6}, lambda ps: __import__("dog").DoG(ps, init_eta=1e-3, eps=1e-6)),
]

_MARS_KW = dict(lr=0.01, betas=(0.9, 0.95), gamma=0.05, eps=1e-6, weight_decay=0.1, optimize_1d=True)
_MARS_SPEC = {"name": "mars", "lr": 0.01, "beta1": 0.9, "beta2": 0.95, "gamma": 0.05, "eps": 1e-6,
              "weight_decay": 0.1, "eps_mode": "pytorch_optimizer", "eps_root": 1e-15}
TORCH_PLAIN += [
    ("pytorch_optimizer_mars_adamw", "pytorch_optimizer", f"pytorch_optimizer.MARS({_MARS_KW})", _MARS_SPEC,
     lambda ps: _po().MARS(ps, **_MARS_KW)),
    ("pytorch_optimizer_mars_lion", "pytorch_optimizer", f"pytorch_optimizer.MARS({_MARS_KW}, mars_type='lion')",
     dict(_MARS_SPEC, mars_type="lion"), lambda ps: _po().MARS(ps, mars_type="lion", **_MARS_KW)),
]

_SPAM_KW = dict(lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.01, threshold=2.0, grad_accu_steps=5,
                update_proj_gap=30, warmup_epoch=10)
_SPAM_SPEC = {"name": "spam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "weight_decay": 0.01,
              "threshold": 2.0, "grad_accu_steps": 5, "update_proj_gap": 30, "warmup_epoch": 10}
TORCH_PLAIN += [
    ("pytorch_optimizer_spam", "pytorch_optimizer", f"pytorch_optimizer.SPAM({_SPAM_KW})", _SPAM_SPEC,
     lambda ps: _po().SPAM(ps, **_SPAM_KW)),
]

_CLION_KW = dict(lr=0.003, betas=(0.8, 0.95), weight_decay=0.0, cautious=True)
_CMARS_KW = dict(lr=0.01, betas=(0.9, 0.95), gamma=0.05, eps=1e-6, optimize_1d=True, cautious=True)
TORCH_PLAIN += [
    ("pytorch_optimizer_cautious_lion", "pytorch_optimizer", f"pytorch_optimizer.Lion({_CLION_KW})",
     {"name": "cautious_lion", "lr": 0.003, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.0},
     lambda ps: _po().Lion(ps, **_CLION_KW)),
    ("pytorch_optimizer_cautious_mars", "pytorch_optimizer", f"pytorch_optimizer.MARS({_CMARS_KW})",
     dict(_MARS_SPEC, name="cautious_mars", weight_decay=0.0), lambda ps: _po().MARS(ps, **_CMARS_KW)),
]

# (case, reference text, optsim spec, make() -> optax transformation): through drivers.optax_run
OPTAX_PLAIN = [
    ("optax_dog", "optax.contrib.dog(learning_rate=0.8, init_step=('heuristic', 1e-3), eps=1e-6, "
     "weight_decay=0.01)", DOG, lambda: _contrib().dog(0.8, init_step=("heuristic", 1e-3), eps=1e-6,
                                                       weight_decay=0.01)),
    ("optax_dog_distance", "optax.contrib.dog(learning_rate=1.0, init_step=('distance', 1e-2))",
     {"name": "dog", "reps_rel": 1e-2, "init_step": "distance"},
     lambda: _contrib().dog(1.0, init_step=("distance", 1e-2))),
    ("optax_dog_learning_rate", "optax.contrib.dog(learning_rate=1.0, init_step=('learning_rate', 1e-3))",
     {"name": "dog", "init_eta": 1e-3}, lambda: _contrib().dog(1.0, init_step=("learning_rate", 1e-3))),
    ("optax_dowg", "optax.contrib.dowg(learning_rate=0.8, eps=1e-6, weight_decay=0.01)",
     {"name": "dowg", "lr": 0.8, "eps": 1e-6, "weight_decay": 0.01},
     lambda: _contrib().dowg(0.8, eps=1e-6, weight_decay=0.01)),
    ("optax_dowg_init_estim", "optax.contrib.dowg(learning_rate=1.0, init_estim_sq_dist=1e-2)",
     {"name": "dowg", "init_estim_sq_dist": 1e-2}, lambda: _contrib().dowg(1.0, init_estim_sq_dist=1e-2)),
]


def optax_cases(version, table):
    x0, curv, center = drivers.closed_loop_problem()
    grads = drivers.gradient_sequence(STEPS)
    for case, ref, spec, make, *extra in table:
        meta = dict(case=case, library="optax", library_version=version["optax"], reference=ref, optimizer=spec)
        if extra:
            meta.update(extra[0])
        _save_both(meta, lambda loop, **kw: drivers.optax_run(make(), x0, STEPS, loop, **kw), x0, grads, curv,
                   center)


def plain_cases(version, table):
    x0, curv, center = drivers.closed_loop_problem()
    grads = drivers.gradient_sequence(STEPS)
    for case, lib, ref, spec, make, *extra in table:
        if lib not in version:
            continue
        meta = dict(case=case, library=lib, library_version=version[lib], reference=ref, optimizer=spec)
        if extra:
            meta.update(extra[0])
        _save_both(meta, lambda loop, **kw: drivers.torch_run(make, x0, STEPS, loop, **kw), x0, grads, curv, center)


if __name__ == "__main__":
    v = _versions()
    schedule_free_cases(v)
    plain_cases(v, TORCH_PLAIN)
    optax_cases(v, OPTAX_PLAIN)
