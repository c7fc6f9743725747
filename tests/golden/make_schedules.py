"""Regenerate the golden files of the modern schedules: WSD, the warm-up cosines of optax and
Keras, SGDR, LinearLR, PolynomialLR, the joins and optax's piecewise schedules, and a rule
whose lr and beta1 both follow optax schedules.

Run where the libraries are installed (optsim need not be)::

    KERAS_BACKEND=jax python tests/golden/make_schedules.py      # from the repository root

Each case names the library's call and optsim's spec of the same schedule; the library's
rate at updates ``k = 0 .. T-1`` goes to ``tests/golden/schedules/<case>.npz`` (optimizer
cases to ``tests/golden/optimizers/``; :mod:`fixtures`).
"""

import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import drivers  # noqa: E402
import fixtures  # noqa: E402

STEPS = 100
BASE = 0.1


def _torch():
    import torch

    return torch.optim.lr_scheduler


def _optax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import optax

    return optax


def torch_lrs(make_scheduler, base_lr, steps):
    """The rate of each update of SGD under a torch scheduler stepped after every update."""
    import warnings

    import torch

    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=base_lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's notices
        sched = make_scheduler(opt)
        lrs = []
        for _ in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return lrs


def optax_lrs(make_schedule, steps):
    """An optax schedule at counts 0 .. steps-1 (float64)."""
    import jax.numpy as jnp

    fn = make_schedule(_optax())
    return [float(fn(jnp.asarray(k))) for k in range(steps)]


def keras_lrs(make_schedule, steps):
    """A Keras schedule at iterations 0 .. steps-1, in float64."""
    import keras

    import jax

    jax.config.update("jax_enable_x64", True)  # keras on jax computes in float32 without it
    keras.config.set_floatx("float64")
    fn = make_schedule(keras.optimizers.schedules)
    return [float(fn(np.float64(k))) for k in range(steps)]


def _wsd(cooldown, **kw):
    return lambda opt: __import__("pytorch_optimizer").get_wsd_schedule(opt, cooldown_type=cooldown, **kw)


def _hf_wsd(**kw):
    return lambda opt: __import__("transformers").get_wsd_schedule(opt, **kw)


# (case, library, reference text, optsim schedule spec, steps, make)
# torch and pytorch_optimizer/transformers: make(optimizer) -> scheduler; optax: make(optax) ->
# schedule; keras: make(keras.optimizers.schedules) -> schedule.  The base value is BASE.
CASES = [
    ("torch_linearlr", "torch", "torch.optim.lr_scheduler.LinearLR(start_factor=0.25, end_factor=0.9, "
     "total_iters=30)", {"name": "linear_lr", "start_factor": 0.25, "end_factor": 0.9, "total_iters": 30}, 60,
     lambda opt: _torch().LinearLR(opt, start_factor=0.25, end_factor=0.9, total_iters=30)),
    ("torch_linearlr_decay", "torch", "torch.optim.lr_scheduler.LinearLR(start_factor=1.0, end_factor=0.05, "
     "total_iters=17)", {"name": "linear_lr", "start_factor": 1.0, "end_factor": 0.05, "total_iters": 17}, 40,
     lambda opt: _torch().LinearLR(opt, start_factor=1.0, end_factor=0.05, total_iters=17)),
    ("torch_polynomiallr", "torch", "torch.optim.lr_scheduler.PolynomialLR(total_iters=40, power=2.5)",
     {"name": "polynomial", "total_steps": 40, "power": 2.5}, 60,
     lambda opt: _torch().PolynomialLR(opt, total_iters=40, power=2.5)),
    ("torch_sequentiallr", "torch", "torch.optim.lr_scheduler.SequentialLR([LinearLR(start_factor=0.1, "
     "total_iters=10), CosineAnnealingLR(T_max=30, eta_min=0.001), ExponentialLR(gamma=0.95)], "
     "milestones=[10, 40])",
     {"name": "join", "boundaries": [10, 40], "s0": {"name": "linear_lr", "start_factor": 0.1, "total_iters": 10},
      "s1": {"name": "cosine", "T_max": 30, "eta_min": 0.001}, "s2": {"name": "exponential", "gamma": 0.95}}, 80,
     lambda opt: _torch().SequentialLR(opt, [_torch().LinearLR(opt, start_factor=0.1, total_iters=10),
                                             _torch().CosineAnnealingLR(opt, T_max=30, eta_min=0.001),
                                             _torch().ExponentialLR(opt, gamma=0.95)], milestones=[10, 40])),
    ("torch_sequentiallr_steps", "torch", "torch.optim.lr_scheduler.SequentialLR([StepLR(step_size=4, "
     "gamma=0.5), MultiStepLR(milestones=[3, 9], gamma=0.3), PolynomialLR(total_iters=12, power=0.5)], "
     "milestones=[13, 13])",
     {"name": "join", "boundaries": [13, 13], "s0": {"name": "step", "step_size": 4, "gamma": 0.5},
      "s1": {"name": "multistep", "milestones": [3, 9], "gamma": 0.3},
      "s2": {"name": "polynomial", "total_steps": 12, "power": 0.5}}, 40,
     lambda opt: _torch().SequentialLR(opt, [_torch().StepLR(opt, step_size=4, gamma=0.5),
                                             _torch().MultiStepLR(opt, milestones=[3, 9], gamma=0.3),
                                             _torch().PolynomialLR(opt, total_iters=12, power=0.5)],
                                       milestones=[13, 13])),
    # torch cannot nest SequentialLR (the inner one has no closed form to restart at count 0:
    # NotImplementedError in torch 2.13); optax nests joins as any schedule
    ("optax_join_nested", "optax", "optax.join_schedules([linear_schedule(0.02, 0.1, transition_steps=5), "
     "join_schedules([exponential_decay(0.1, 1, 0.8), polynomial_schedule(0.05, 0.1, power=1.0, "
     "transition_steps=6)], boundaries=[7])], boundaries=[5])",
     {"name": "join", "boundaries": [5],
      "s0": {"name": "linear_lr", "start_factor": 0.2, "total_iters": 5},
      "s1": {"name": "join", "boundaries": [7], "s0": {"name": "exponential", "gamma": 0.8},
             "s1": {"name": "linear_lr", "start_factor": 0.5, "total_iters": 6}}}, 30,
     lambda ox: ox.join_schedules([
         ox.linear_schedule(0.02, BASE, transition_steps=5),
         ox.join_schedules([ox.exponential_decay(BASE, 1, 0.8),
                            ox.polynomial_schedule(0.05, BASE, power=1.0, transition_steps=6)], boundaries=[7])],
         boundaries=[5])),
    ("pytorch_optimizer_wsd_1sqrt", "pytorch_optimizer", "pytorch_optimizer.get_wsd_schedule(num_warmup_steps=10, "
     "num_stable_steps=50, num_decay_steps=30, min_lr_ratio=0.1, cooldown_type='1-sqrt')",
     {"name": "wsd", "total_steps": 90, "warmup_steps": 10, "decay_steps": 30, "shape": "1-sqrt",
      "final_factor": 0.1, "convention": "pytorch_optimizer"}, STEPS,
     _wsd("1-sqrt", num_warmup_steps=10, num_stable_steps=50, num_decay_steps=30, min_lr_ratio=0.1)),
    ("pytorch_optimizer_wsd_cosine", "pytorch_optimizer", "pytorch_optimizer.get_wsd_schedule(num_warmup_steps=5, "
     "num_stable_steps=40, num_decay_steps=45, min_lr_ratio=0.2, num_cycles=0.4, cooldown_type='cosine')",
     {"name": "wsd", "total_steps": 90, "warmup_steps": 5, "decay_steps": 45, "shape": "cosine", "cycles": 0.4,
      "final_factor": 0.2, "convention": "pytorch_optimizer"}, STEPS,
     _wsd("cosine", num_warmup_steps=5, num_stable_steps=40, num_decay_steps=45, min_lr_ratio=0.2, num_cycles=0.4)),
    ("pytorch_optimizer_wsd_1square", "pytorch_optimizer", "pytorch_optimizer.get_wsd_schedule(num_warmup_steps=0, "
     "num_stable_steps=30, num_decay_steps=50, min_lr_ratio=0.05, cooldown_type='1-square')",
     {"name": "wsd", "total_steps": 80, "warmup_steps": 0, "decay_steps": 50, "shape": "1-square",
      "final_factor": 0.05, "convention": "pytorch_optimizer"}, STEPS,
     _wsd("1-square", num_warmup_steps=0, num_stable_steps=30, num_decay_steps=50, min_lr_ratio=0.05)),
    ("transformers_wsd_1sqrt", "transformers", "transformers.get_wsd_schedule(num_warmup_steps=12, "
     "num_decay_steps=25, num_training_steps=90, warmup_type='1-sqrt', decay_type='1-sqrt', min_lr_ratio=0.1)",
     {"name": "wsd", "total_steps": 90, "warmup_steps": 12, "decay_steps": 25, "shape": "1-sqrt",
      "warmup_shape": "1-sqrt", "final_factor": 0.1, "warmup_start": 0.1}, STEPS,
     _hf_wsd(num_warmup_steps=12, num_decay_steps=25, num_training_steps=90, warmup_type="1-sqrt",
             decay_type="1-sqrt", min_lr_ratio=0.1)),
    ("transformers_wsd_linear", "transformers", "transformers.get_wsd_schedule(num_warmup_steps=8, "
     "num_decay_steps=40, num_training_steps=95, warmup_type='cosine', decay_type='linear', min_lr_ratio=0.25)",
     {"name": "wsd", "total_steps": 95, "warmup_steps": 8, "decay_steps": 40, "shape": "linear",
      "warmup_shape": "cosine", "final_factor": 0.25, "warmup_start": 0.25}, STEPS,
     _hf_wsd(num_warmup_steps=8, num_decay_steps=40, num_training_steps=95, warmup_type="cosine",
             decay_type="linear", min_lr_ratio=0.25)),
    ("transformers_wsd_cosine", "transformers", "transformers.get_wsd_schedule(num_warmup_steps=10, "
     "num_decay_steps=33, num_training_steps=90, decay_type='cosine', min_lr_ratio=0.0)",
     {"name": "wsd", "total_steps": 90, "warmup_steps": 10, "decay_steps": 33, "shape": "cosine"}, STEPS,
     _hf_wsd(num_warmup_steps=10, num_decay_steps=33, num_training_steps=90, decay_type="cosine")),
    ("optax_warmup_cosine", "optax", "optax.warmup_cosine_decay_schedule(init_value=0.01, peak_value=0.1, "
     "warmup_steps=10, decay_steps=60, end_value=0.005, exponent=1.5)",
     {"name": "warmup_cosine", "warmup_steps": 10, "decay_steps": 60, "init_value": 0.01, "end_value": 0.005,
      "exponent": 1.5}, 80,
     lambda ox: ox.warmup_cosine_decay_schedule(init_value=0.01, peak_value=BASE, warmup_steps=10, decay_steps=60,
                                                end_value=0.005, exponent=1.5)),
    ("optax_warmup_cosine_zero_start", "optax", "optax.warmup_cosine_decay_schedule(init_value=0.0, "
     "peak_value=0.1, warmup_steps=25, decay_steps=70)",
     {"name": "warmup_cosine", "warmup_steps": 25, "decay_steps": 70}, STEPS,
     lambda ox: ox.warmup_cosine_decay_schedule(init_value=0.0, peak_value=BASE, warmup_steps=25, decay_steps=70)),
    ("keras_cosine_decay_warmup", "keras", "keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.01, "
     "decay_steps=40, alpha=0.05, warmup_target=0.1, warmup_steps=15)",
     {"name": "warmup_cosine", "convention": "keras", "warmup_steps": 15, "decay_steps": 40, "init_value": 0.01,
      "alpha": 0.05}, 80,
     lambda ks: ks.CosineDecay(initial_learning_rate=0.01, decay_steps=40, alpha=0.05, warmup_target=BASE,
                               warmup_steps=15)),
    ("keras_piecewise_constant", "keras", "keras.optimizers.schedules.PiecewiseConstantDecay(boundaries=[10, 30], "
     "values=[0.1, 0.05, 0.01])",
     {"name": "piecewise_constant", "convention": "keras", "boundaries": [10, 30], "scales": [0.5, 0.2]}, 50,
     lambda ks: ks.PiecewiseConstantDecay(boundaries=[10, 30], values=[BASE, 0.05, 0.01])),
    ("optax_sgdr", "optax", "optax.sgdr_schedule([dict(init_value=0.0, peak_value=0.1, warmup_steps=5, "
     "decay_steps=20, end_value=0.001), dict(init_value=0.01, peak_value=0.05, warmup_steps=3, decay_steps=30, "
     "end_value=0.0, exponent=2.0), dict(init_value=0.0, peak_value=0.02, warmup_steps=0, decay_steps=15, "
     "end_value=0.002)])",
     {"name": "sgdr", "decay_steps": [20, 30, 15], "warmup_steps": [5, 3, 0], "init_values": [0.0, 0.01, 0.0],
      "peak_scales": [1.0, 0.5, 0.2], "end_values": [0.001, 0.0, 0.002], "exponents": [1.0, 2.0, 1.0]}, 80,
     lambda ox: ox.sgdr_schedule([
         dict(init_value=0.0, peak_value=BASE, warmup_steps=5, decay_steps=20, end_value=0.001),
         dict(init_value=0.01, peak_value=0.05, warmup_steps=3, decay_steps=30, end_value=0.0, exponent=2.0),
         dict(init_value=0.0, peak_value=0.02, warmup_steps=0, decay_steps=15, end_value=0.002)])),
    ("optax_join_schedules", "optax", "optax.join_schedules([polynomial_schedule(0.1, 0.01, power=2, "
     "transition_steps=15), cosine_decay_schedule(0.1, decay_steps=20, alpha=0.1), exponential_decay(0.1, "
     "transition_steps=5, decay_rate=0.7, staircase=True)], boundaries=[15, 40])",
     {"name": "join", "boundaries": [15, 40],
      "s0": {"name": "polynomial", "total_steps": 15, "power": 2.0, "end_lr": 0.01},
      "s1": {"name": "cosine", "T_max": 20, "eta_min": 0.01, "convention": "clamped"},
      "s2": {"name": "exponential", "gamma": 0.7, "transition_steps": 5, "staircase": True}}, 70,
     lambda ox: ox.join_schedules([ox.polynomial_schedule(BASE, 0.01, power=2, transition_steps=15),
                                   ox.cosine_decay_schedule(BASE, decay_steps=20, alpha=0.1),
                                   ox.exponential_decay(BASE, transition_steps=5, decay_rate=0.7, staircase=True)],
                                  boundaries=[15, 40])),
    ("optax_piecewise_interpolate_linear", "optax", "optax.piecewise_interpolate_schedule('linear', 0.1, "
     "{10: 0.5, 25: 2.0, 40: 0.1})",
     {"name": "piecewise_interpolate", "boundaries": [10, 25, 40], "scales": [0.5, 2.0, 0.1]}, 60,
     lambda ox: ox.piecewise_interpolate_schedule("linear", BASE, {10: 0.5, 25: 2.0, 40: 0.1})),
    ("optax_piecewise_interpolate_cosine", "optax", "optax.piecewise_interpolate_schedule('cosine', 0.1, "
     "{0: 0.3, 12: 3.0, 13: 0.5, 50: 0.01})",
     {"name": "piecewise_interpolate", "interpolation": "cosine", "boundaries": [0, 12, 13, 50],
      "scales": [0.3, 3.0, 0.5, 0.01]}, 70,
     lambda ox: ox.piecewise_interpolate_schedule("cosine", BASE, {0: 0.3, 12: 3.0, 13: 0.5, 50: 0.01})),
    ("optax_piecewise_constant", "optax", "optax.piecewise_constant_schedule(0.1, {10: 0.5, 30: 0.2, 31: 3.0})",
     {"name": "piecewise_constant", "boundaries": [10, 30, 31], "scales": [0.5, 0.2, 3.0]}, 50,
     lambda ox: ox.piecewise_constant_schedule(BASE, {10: 0.5, 30: 0.2, 31: 3.0})),
]


# Cases where the library computes in float32 whatever the settings
NOTES = {
    "keras_cosine_decay_warmup": dict(rtol=1e-6, note=(
        "keras.ops.cos on the jax backend returns float32 even with floatx float64 and jax x64 "
        "(keras' result_type(float64, float) is float32): 2.8e-7 relative where the cosine nears -1")),
}


def schedule_cases(version):
    for case, library, ref, spec, steps, make in CASES:
        if library in ("torch", "pytorch_optimizer", "transformers"):
            lrs = torch_lrs(make, BASE, steps)
        elif library == "optax":
            lrs = optax_lrs(make, steps)
        else:
            lrs = keras_lrs(make, steps)
        meta = dict(case=case, library=library, library_version=version[library], reference=ref,
                    schedule=spec, base_lr=BASE)
        if library in ("pytorch_optimizer", "transformers"):
            meta["note"] = f"a LambdaLR factor; torch {version['torch']}"
        meta.update(NOTES.get(case, {}))
        fixtures.save("schedules", meta, lrs=lrs)


def optax_scheduled_run(make, schedules, x0, steps, loop, grads=None, curvatures=None, center=None):
    """An optax rule whose hyperparameters follow schedules: update ``k`` re-creates the rule
    with ``{name: schedule(k)}`` (as ``optax.inject_hyperparams`` does) and applies it to the
    running state.  The schedules are called at a float64 count: inject_hyperparams' own
    int32 count makes piecewise and linear schedules compute their fractions in float32."""
    import jax.numpy as jnp

    ox = _optax()
    x = jnp.asarray(np.asarray(x0, float), dtype=jnp.float64)
    state = make(**{n: float(f(0.0)) for n, f in schedules.items()}).init(x)
    xs = [np.asarray(x)]
    for k in range(steps):
        opt = make(**{n: float(f(jnp.asarray(float(k)))) for n, f in schedules.items()})
        g = np.asarray(grads[k]) if loop == "open" else curvatures * (np.asarray(x) - center)
        upd, state = opt.update(jnp.asarray(g, dtype=jnp.float64), state, x)
        x = ox.apply_updates(x, upd)
        xs.append(np.asarray(x))
    return np.array(xs)


def optimizer_cases(version):
    """Adam whose lr and beta1 both follow optax schedules."""
    ox = _optax()
    lr = ox.warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.05, warmup_steps=10, decay_steps=90,
                                         end_value=0.001)
    b1 = ox.join_schedules([ox.piecewise_interpolate_schedule("cosine", 0.9, {30: 0.5}),
                            ox.linear_schedule(0.9, 0.99, transition_steps=20)], boundaries=[60])

    def make(learning_rate, b1):
        return ox.adam(learning_rate=learning_rate, b1=b1, b2=0.99, eps=1e-3)

    scheds = {"learning_rate": lr, "b1": b1}
    meta = dict(library="optax", library_version=version["optax"],
                reference="optax.adam(learning_rate=warmup_cosine_decay_schedule(0.0, 0.05, 10, 90, 0.001), "
                          "b1=join_schedules([piecewise_interpolate_schedule('cosine', 0.9, {30: 0.5}), "
                          "linear_schedule(0.9, 0.99, 20)], [60]), b2=0.99, eps=1e-3), re-created at every update "
                          "with the schedules' values (as optax.inject_hyperparams)",
                optimizer={"name": "adam", "lr": 0.05, "beta1": 0.9, "beta2": 0.99, "eps": 1e-3},
                schedule={"name": "warmup_cosine", "warmup_steps": 10, "decay_steps": 90, "end_value": 0.001},
                schedules={"beta1": {"name": "join", "boundaries": [60],
                                     "s0": {"name": "piecewise_interpolate", "interpolation": "cosine",
                                            "boundaries": [30], "scales": [0.5]},
                                     "s1": {"name": "polynomial", "total_steps": 20, "end_lr": 0.99}}},
                note="schedules called at a float64 count; optax.inject_hyperparams counts in int32, which "
                     "rounds the piecewise and linear schedules' fractions to float32 (5e-8 here)")
    x0c, curv, center = drivers.closed_loop_problem()
    grads = drivers.gradient_sequence(STEPS)
    case = "optax_adam_scheduled_lr_and_beta1"
    xs = optax_scheduled_run(make, scheds, x0c, STEPS, "open", grads=grads)
    fixtures.save("optimizers", dict(meta, case=case + "_open", loop="open"), x0=x0c, grads=grads, xs=xs)
    xs = optax_scheduled_run(make, scheds, x0c, STEPS, "closed", curvatures=curv, center=center)
    fixtures.save("optimizers", dict(meta, case=case + "_closed", loop="closed"),
                  x0=x0c, curvatures=curv, center=center, xs=xs)


if __name__ == "__main__":
    v = drivers.versions()
    v.setdefault("transformers", __import__("transformers").__version__)
    schedule_cases(v)
    optimizer_cases(v)
