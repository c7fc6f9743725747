"""Regenerate the golden files of the classic rules and schedules (and of AdEMAMix, Prodigy,
SAM and Muon) from torch.optim, optax (with optax.contrib), pytorch-optimizer, prodigyopt
and Keras 3, in float64.

Run where the libraries are installed (optsim need not be)::

    KERAS_BACKEND=jax python tests/golden/make_classic.py          # from the repository root

Each case names the library's call and optsim's spec of the same rule; the library's
trajectory goes to ``tests/golden/<kind>/<case>.npz`` (:mod:`fixtures`).  Every optimizer
case is written twice, open loop (``<case>_open``: the gradient sequence of
:func:`drivers.gradient_sequence`) and closed loop (``<case>_closed``: the quadratic of
:func:`drivers.closed_loop_problem`), 100 updates, d = 3 unless the case declares matrix
shapes.  Where a library does not reproduce to 1e-12 for a reason of its own (float32
parts, another order of operations), the case says so in ``note`` with the honest ``rtol``.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import drivers  # noqa: E402
import fixtures  # noqa: E402

STEPS = 100


def _fmt(args, kw):
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kw.items()]
    return ", ".join(parts)


# -- the libraries' calls, each with the text that names it ------------------------------------


def T(name, **kw):
    """torch.optim.<name>(params, **kw)."""
    return ("torch", f"torch.optim.{name}({_fmt((), kw)})",
            lambda ps: getattr(__import__("torch").optim, name)(ps, **kw))


def P(name, **kw):
    """pytorch_optimizer.<name>(params, **kw)."""
    return ("pytorch_optimizer", f"pytorch_optimizer.{name}({_fmt((), kw)})",
            lambda ps: getattr(__import__("pytorch_optimizer"), name)(ps, **kw))


def O(name, *args, **kw):  # noqa: E743
    """optax.<name>(*args, **kw) (``contrib.<name>`` for optax.contrib); arguments that are
    ``("schedule", name, args...)`` are optax schedules built at run time."""
    def make():
        import optax
        import optax.contrib  # noqa: F401

        fn = optax
        for part in name.split("."):
            fn = getattr(fn, part)
        return fn(*[_optax_value(a) for a in args], **{k: _optax_value(v) for k, v in kw.items()})
    return ("optax", f"optax.{name}({_fmt(args, kw)})", make)


def _optax_value(v):
    if isinstance(v, tuple) and v and v[0] == "schedule":
        import optax

        return getattr(optax, v[1])(*v[2:])
    return v


def K(name, **kw):
    """keras.optimizers.<name>(**kw)."""
    return ("keras", f"keras.optimizers.{name}({_fmt((), kw)})",
            lambda: getattr(__import__("keras").optimizers, name)(**kw))


def P_MUON(**kw):
    """pytorch_optimizer.Muon on the groups it wants: the matrices with use_muon=True, the
    vectors with use_muon=False (its AdamW)."""
    def make(ps):
        import pytorch_optimizer

        groups = [dict(params=[p for p in ps if p.ndim >= 2], use_muon=True),
                  dict(params=[p for p in ps if p.ndim < 2], use_muon=False)]
        return pytorch_optimizer.Muon([g for g in groups if g["params"]], **kw)
    return ("pytorch_optimizer", f"pytorch_optimizer.Muon([matrices (use_muon=True), vectors (use_muon=False)], "
            f"{_fmt((), kw)})", make)


def PRODIGYOPT(**kw):
    return ("prodigyopt", f"prodigyopt.Prodigy({_fmt((), kw)})",
            lambda ps: __import__("prodigyopt").Prodigy(ps, **kw))


def case(name, lib, spec, **extra):
    """One optimizer case: ``lib`` is (library, reference text, make); ``extra`` may hold
    ``schedule``/``schedules`` (optsim specs), ``scheduler`` (torch: ``opt -> scheduler``,
    with its text in ``scheduler_text``), ``shapes``, ``rtol``, ``note``, ``loops``,
    ``runner`` ("sam" for the two-step torch driver), ``calls`` (optax updates per step)."""
    library, ref, make = lib
    return dict(case=name, library=library, reference=ref, make=make, optimizer=spec, **extra)


def spec(name, **kw):
    return dict(name=name, **kw)


TB = dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3)  # torch's Adam-family keywords
EB = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-3)  # the same in optsim
OB = dict(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-3)  # optax
KB = dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-3)  # Keras

# -- torch.optim --------------------------------------------------------------------------------

TORCH = [
    case("torch_sgd", T("SGD", lr=0.01), spec("sgd", lr=0.01)),
    case("torch_sgd_momentum", T("SGD", lr=0.01, momentum=0.9), spec("sgd", lr=0.01, momentum=0.9)),
    case("torch_sgd_dampening_wd", T("SGD", lr=0.01, momentum=0.8, dampening=0.5, weight_decay=0.01),
         spec("sgd", lr=0.01, momentum=0.8, dampening=0.5, weight_decay=0.01)),
    case("torch_sgd_nesterov_wd", T("SGD", lr=0.005, momentum=0.8, nesterov=True, weight_decay=0.01),
         spec("sgd", lr=0.005, momentum=0.8, nesterov=True, weight_decay=0.01)),
    case("torch_sgd_maximize", T("SGD", lr=1e-4, momentum=0.5, maximize=True),
         spec("sgd", lr=1e-4, momentum=0.5, maximize=True)),
    case("torch_sgd_maximize_wd", T("SGD", lr=1e-4, maximize=True, weight_decay=0.1),
         spec("sgd", lr=1e-4, maximize=True, weight_decay=0.1)),
    case("torch_adagrad", T("Adagrad", lr=0.1), spec("adagrad", lr=0.1)),
    case("torch_adagrad_all", T("Adagrad", lr=0.1, lr_decay=0.01, weight_decay=0.01, eps=1e-3,
                                initial_accumulator_value=0.2),
         spec("adagrad", lr=0.1, lr_decay=0.01, weight_decay=0.01, eps=1e-3, initial_accumulator_value=0.2)),
    case("torch_adagrad_maximize", T("Adagrad", lr=0.05, maximize=True, eps=1e-3),
         spec("adagrad", lr=0.05, maximize=True, eps=1e-3)),
    case("torch_rmsprop", T("RMSprop", lr=0.01, alpha=0.95, eps=1e-3), spec("rmsprop", lr=0.01, alpha=0.95, eps=1e-3)),
    case("torch_rmsprop_centered_momentum_wd",
         T("RMSprop", lr=0.005, alpha=0.9, eps=1e-3, momentum=0.8, centered=True, weight_decay=0.01),
         spec("rmsprop", lr=0.005, alpha=0.9, eps=1e-3, momentum=0.8, centered=True, weight_decay=0.01)),
    case("torch_rmsprop_centered", T("RMSprop", lr=0.01, alpha=0.9, eps=1e-3, centered=True),
         spec("rmsprop", lr=0.01, alpha=0.9, eps=1e-3, centered=True)),
    case("torch_rmsprop_momentum", T("RMSprop", lr=0.005, alpha=0.9, eps=1e-3, momentum=0.7),
         spec("rmsprop", lr=0.005, alpha=0.9, eps=1e-3, momentum=0.7)),
    case("torch_rmsprop_maximize", T("RMSprop", lr=1e-3, maximize=True), spec("rmsprop", lr=1e-3, maximize=True)),
    case("torch_adadelta", T("Adadelta"), spec("adadelta")),
    case("torch_adadelta_all", T("Adadelta", lr=0.5, rho=0.95, eps=1e-3, weight_decay=0.01),
         spec("adadelta", lr=0.5, rho=0.95, eps=1e-3, weight_decay=0.01)),
    case("torch_adadelta_maximize", T("Adadelta", lr=0.5, rho=0.8, eps=1e-4, maximize=True),
         spec("adadelta", lr=0.5, rho=0.8, eps=1e-4, maximize=True)),
    case("torch_adam", T("Adam", **TB), spec("adam", **EB)),
    case("torch_adam_amsgrad", T("Adam", **TB, amsgrad=True), spec("adam", **EB, amsgrad=True)),
    case("torch_adam_wd", T("Adam", **TB, weight_decay=0.01), spec("adam", **EB, weight_decay=0.01)),
    case("torch_adam_decoupled_amsgrad", T("Adam", **TB, weight_decay=0.01, decoupled_weight_decay=True, amsgrad=True),
         spec("adam", **EB, weight_decay=0.01, decoupled_weight_decay=True, amsgrad=True)),
    case("torch_adam_maximize_wd", T("Adam", **TB, maximize=True, weight_decay=0.01),
         spec("adam", **EB, maximize=True, weight_decay=0.01)),
    case("torch_adamw", T("AdamW", **TB), spec("adamw", **EB)),
    case("torch_adamw_amsgrad", T("AdamW", **TB, weight_decay=0.05, amsgrad=True),
         spec("adamw", **EB, weight_decay=0.05, amsgrad=True)),
    case("torch_adamw_maximize", T("AdamW", **TB, weight_decay=0.05, maximize=True),
         spec("adamw", **EB, weight_decay=0.05, maximize=True)),
    case("torch_amsgrad_wd", T("Adam", **TB, weight_decay=0.01, amsgrad=True), spec("amsgrad", **EB, weight_decay=0.01)),
    case("torch_amsgrad_decoupled", T("AdamW", **TB, weight_decay=0.02, amsgrad=True),
         spec("amsgrad", **EB, weight_decay=0.02, decoupled_weight_decay=True)),
    case("torch_adamax", T("Adamax", **TB), spec("adamax", **EB)),
    case("torch_adamax_wd_maximize", T("Adamax", **TB, weight_decay=0.01, maximize=True),
         spec("adamax", **EB, weight_decay=0.01, maximize=True)),
    case("torch_nadam", T("NAdam", **TB), spec("nadam", **EB)),
    case("torch_nadam_psi_wd", T("NAdam", **TB, momentum_decay=0.1, weight_decay=0.01),
         spec("nadam", **EB, momentum_decay=0.1, weight_decay=0.01)),
    case("torch_nadam_decoupled", T("NAdam", **TB, weight_decay=0.01, decoupled_weight_decay=True),
         spec("nadam", **EB, weight_decay=0.01, decoupled_weight_decay=True)),
    case("torch_nadam_psi1", T("NAdam", **TB, momentum_decay=1.0), spec("nadam", **EB, momentum_decay=1.0)),
    case("torch_nadam_psi1_as_keras", T("NAdam", **TB, momentum_decay=1.0), spec("nadam", **EB, form="keras"),
         note="Keras's Nadam is torch's NAdam with momentum_decay (psi) = 1"),
    case("torch_nadam_maximize", T("NAdam", **TB, maximize=True), spec("nadam", **EB, maximize=True)),
    case("torch_radam", T("RAdam", **TB), spec("radam", **EB)),
    case("torch_radam_wd", T("RAdam", **TB, weight_decay=0.01), spec("radam", **EB, weight_decay=0.01)),
    case("torch_radam_decoupled", T("RAdam", **TB, weight_decay=0.01, decoupled_weight_decay=True),
         spec("radam", **EB, weight_decay=0.01, decoupled_weight_decay=True)),
    case("torch_radam_maximize", T("RAdam", **TB, maximize=True), spec("radam", **EB, maximize=True)),
    # the learning rate on a schedule, stepped after every update
    case("torch_sgd_momentum_steplr", T("SGD", lr=0.02, momentum=0.9), spec("sgd", lr=0.02, momentum=0.9),
         schedule=spec("step", step_size=30, gamma=0.5),
         scheduler=lambda o: __import__("torch").optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5),
         scheduler_text="StepLR(step_size=30, gamma=0.5)"),
    case("torch_sgd_nesterov_steplr", T("SGD", lr=0.01, momentum=0.9, nesterov=True),
         spec("sgd", lr=0.01, momentum=0.9, nesterov=True),
         schedule=spec("step", step_size=30, gamma=0.5),
         scheduler=lambda o: __import__("torch").optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5),
         scheduler_text="StepLR(step_size=30, gamma=0.5)"),
    case("torch_adamw_cosine", T("AdamW", **TB, weight_decay=0.05), spec("adamw", **EB, weight_decay=0.05),
         schedule=spec("cosine", T_max=60, eta_min=0.001),
         scheduler=lambda o: __import__("torch").optim.lr_scheduler.CosineAnnealingLR(o, T_max=60, eta_min=0.001),
         scheduler_text="CosineAnnealingLR(T_max=60, eta_min=0.001)"),
    # OneCycleLR and CyclicLR cycle the momentum (SGD) or beta1 (Adam) too: a scheduled hyperparameter
    case("torch_sgd_momentum_onecycle", T("SGD", lr=0.03, momentum=0.5), spec("sgd", lr=0.03, momentum=0.5),
         schedule=spec("one_cycle", total_steps=STEPS, pct_start=0.25, base_momentum=0.8, max_momentum=0.95),
         scheduler=lambda o: __import__("torch").optim.lr_scheduler.OneCycleLR(
             o, max_lr=0.03, total_steps=STEPS, pct_start=0.25, base_momentum=0.8, max_momentum=0.95),
         scheduler_text="OneCycleLR(max_lr=0.03, total_steps=100, pct_start=0.25, base_momentum=0.8, "
                        "max_momentum=0.95)"),
    case("torch_adam_cyclic_beta1", T("Adam", lr=0.001), spec("adam", lr=0.001),
         schedule=spec("cyclic", max_lr=0.05, step_size_up=20, step_size_down=30, mode="triangular2",
                       base_momentum=0.8, max_momentum=0.95),
         scheduler=lambda o: __import__("torch").optim.lr_scheduler.CyclicLR(
             o, base_lr=0.001, max_lr=0.05, step_size_up=20, step_size_down=30, mode="triangular2",
             base_momentum=0.8, max_momentum=0.95),
         scheduler_text="CyclicLR(base_lr=0.001, max_lr=0.05, step_size_up=20, step_size_down=30, "
                        "mode='triangular2', base_momentum=0.8, max_momentum=0.95)"),
]

# -- pytorch-optimizer and the authors' packages -----------------------------------------------

PYTORCH_OPTIMIZER = [
    case("pto_lion", P("Lion", lr=0.01, betas=(0.8, 0.95), weight_decay=0.01),
         spec("lion", lr=0.01, beta1=0.8, beta2=0.95, weight_decay=0.01)),
    case("pto_lion_nowd", P("Lion", lr=0.003, betas=(0.9, 0.99)), spec("lion", lr=0.003, weight_decay=0.0)),
    case("pto_adabound", P("AdaBound", lr=0.01, final_lr=0.05, betas=(0.8, 0.99), gamma=0.01, eps=1e-3),
         spec("adabound", lr=0.01, final_lr=0.05, beta1=0.8, beta2=0.99, gamma=0.01, eps=1e-3)),
    case("pto_adabound_amsbound", P("AdaBound", lr=0.01, final_lr=0.05, betas=(0.8, 0.99), gamma=0.01, eps=1e-3,
                                    ams_bound=True),
         spec("adabound", lr=0.01, final_lr=0.05, beta1=0.8, beta2=0.99, gamma=0.01, eps=1e-3, amsbound=True)),
    case("pto_adabound_decoupled", P("AdaBound", lr=0.01, final_lr=0.05, betas=(0.8, 0.99), gamma=0.01, eps=1e-3,
                                     weight_decay=0.01, weight_decouple=True),
         spec("adabound", lr=0.01, final_lr=0.05, beta1=0.8, beta2=0.99, gamma=0.01, eps=1e-3, weight_decay=0.01,
              decoupled_weight_decay=True)),
    case("pto_adabound_coupled", P("AdaBound", lr=0.01, final_lr=0.05, betas=(0.8, 0.99), gamma=0.01, eps=1e-3,
                                   weight_decay=0.01, weight_decouple=False),
         spec("adabound", lr=0.01, final_lr=0.05, beta1=0.8, beta2=0.99, gamma=0.01, eps=1e-3, weight_decay=0.01)),
    case("pto_swats", P("SWATS", lr=0.01, betas=(0.8, 0.99), eps=1e-9), spec("swats", lr=0.01, beta1=0.8, beta2=0.99)),
    case("pto_ademamix", P("AdEMAMix", lr=0.01, betas=(0.8, 0.99, 0.999), alpha=3.0, eps=1e-3),
         spec("ademamix", lr=0.01, beta1=0.8, beta2=0.99, beta3=0.999, alpha=3.0, eps=1e-3)),
    case("pto_ademamix_wd", P("AdEMAMix", lr=0.01, betas=(0.8, 0.99, 0.999), alpha=3.0, eps=1e-3,
                              weight_decay=0.05, weight_decouple=True),
         spec("ademamix", lr=0.01, beta1=0.8, beta2=0.99, beta3=0.999, alpha=3.0, eps=1e-3, weight_decay=0.05)),
    case("pto_ademamix_warmup", P("AdEMAMix", lr=0.01, betas=(0.8, 0.99, 0.9999), alpha=8.0, eps=1e-3,
                                  t_alpha_beta3=60),
         spec("ademamix", lr=0.01, beta1=0.8, beta2=0.99, beta3=0.9999, alpha=8.0, eps=1e-3),
         schedules={"alpha": spec("linear_warmup", warmup_steps=60),
                    "beta3": spec("beta3_warmup", warmup_steps=60, beta_start=0.8)}),
    case("pto_prodigy", P("Prodigy", lr=1.0, betas=(0.8, 0.99), d0=1e-3),
         spec("prodigy", beta1=0.8, beta2=0.99, d0=1e-3)),
    case("pto_prodigy_all", P("Prodigy", lr=0.5, betas=(0.85, 0.98), beta3=0.9, d0=1e-4, d_coef=2.0,
                              growth_rate=1.5, weight_decay=0.01, bias_correction=True, safeguard_warmup=True),
         spec("prodigy", lr=0.5, beta1=0.85, beta2=0.98, beta3=0.9, d0=1e-4, d_coef=2.0, growth_rate=1.5,
              weight_decay=0.01, use_bias_correction=True, safeguard_warmup=True)),
    case("prodigyopt_prodigy", PRODIGYOPT(lr=1.0, betas=(0.8, 0.99), d0=1e-3),
         spec("prodigy", beta1=0.8, beta2=0.99, d0=1e-3)),
    case("prodigyopt_prodigy_all", PRODIGYOPT(lr=0.5, betas=(0.85, 0.98), beta3=0.9, d0=1e-4, d_coef=2.0,
                                              growth_rate=1.5, weight_decay=0.01, use_bias_correction=True,
                                              safeguard_warmup=True),
         spec("prodigy", lr=0.5, beta1=0.85, beta2=0.98, beta3=0.9, d0=1e-4, d_coef=2.0, growth_rate=1.5,
              weight_decay=0.01, use_bias_correction=True, safeguard_warmup=True)),
    case("prodigyopt_prodigy_coupled", PRODIGYOPT(lr=1.0, betas=(0.9, 0.99), d0=1e-3, weight_decay=0.05,
                                                  decouple=False),
         spec("prodigy", beta1=0.9, beta2=0.99, d0=1e-3, weight_decay=0.05, decouple=False)),
    case("pto_sam", P("SAM", base_optimizer="SGD", rho=0.1, lr=0.01,
                      momentum=0.8),
         spec("sam", lr=0.01, rho=0.1, momentum=0.8), runner="sam"),
    case("pto_sam_adaptive", P("SAM", base_optimizer="SGD", rho=0.5, adaptive=True, lr=0.01, momentum=0.5,
                               weight_decay=0.01),
         spec("sam", lr=0.01, rho=0.5, adaptive=True, momentum=0.5, weight_decay=0.01), runner="sam"),
]

# -- Muon on matrices ----------------------------------------------------------------------------

MATRIX = {"W": (2, 3)}
MATRIX_BIAS = {"W": (3, 2), "b": (3,)}

MUON = [
    case("torch_muon", T("Muon", lr=0.02, weight_decay=0.0, momentum=0.9),
         spec("muon", lr=0.02, momentum=0.9), shapes=MATRIX),
    case("torch_muon_wd_plain", T("Muon", lr=0.01, weight_decay=0.1, momentum=0.8, nesterov=False, ns_steps=4),
         spec("muon", lr=0.01, weight_decay=0.1, momentum=0.8, nesterov=False, ns_steps=4), shapes=MATRIX),
    case("torch_muon_match_rms", T("Muon", lr=0.02, weight_decay=0.0, adjust_lr_fn="match_rms_adamw"),
         spec("muon", lr=0.02, adjust_lr="match_rms_adamw"), shapes={"W": (3, 2)}),
    case("pto_muon", P_MUON( lr=0.02, momentum=0.9, adamw_lr=0.01, adamw_betas=(0.8, 0.95), adamw_eps=1e-8),
         spec("muon", lr=0.02, momentum=0.9, adamw_lr=0.01, adamw_beta1=0.8, adamw_eps=1e-8), shapes=MATRIX_BIAS),
    case("optax_muon", O("contrib.muon", 0.02, beta=0.9, adam_b1=0.8, adam_b2=0.95, eps=1e-7),
         spec("muon", lr=0.02, momentum=0.9, adamw_beta1=0.8, adamw_eps=1e-8), shapes=MATRIX_BIAS),
]

# -- optax ---------------------------------------------------------------------------------------

OPTAX = [
    case("optax_sgd", O("sgd", 0.01), spec("sgd", lr=0.01)),
    case("optax_sgd_momentum", O("sgd", 0.01, momentum=0.9), spec("sgd", lr=0.01, momentum=0.9)),
    case("optax_sgd_nesterov", O("sgd", 0.005, momentum=0.8, nesterov=True),
         spec("sgd", lr=0.005, momentum=0.8, nesterov=True)),
    case("optax_adagrad", O("adagrad", 0.1), spec("adagrad", lr=0.1, initial_accumulator_value=0.1, eps=1e-7,
                                                  eps_inside=True)),
    case("optax_adagrad_zero_acc", O("adagrad", 0.1, initial_accumulator_value=0.0, eps=1e-3),
         spec("adagrad", lr=0.1, initial_accumulator_value=0.0, eps=1e-3, eps_inside=True)),
    case("optax_rmsprop", O("rmsprop", 0.01, eps=1e-3), spec("rmsprop", lr=0.01, alpha=0.9, eps=1e-3, eps_inside=True)),
    case("optax_rmsprop_eps_outside", O("rmsprop", 0.01, eps=1e-3, eps_in_sqrt=False),
         spec("rmsprop", lr=0.01, alpha=0.9, eps=1e-3)),
    case("optax_rmsprop_centered_momentum", O("rmsprop", 0.005, decay=0.95, eps=1e-3, centered=True, momentum=0.8),
         spec("rmsprop", lr=0.005, alpha=0.95, eps=1e-3, eps_inside=True, centered=True, momentum=0.8,
              momentum_form="lr_inside")),
    case("optax_rmsprop_nesterov_bc", O("rmsprop", 0.005, eps=1e-3, momentum=0.8, nesterov=True, bias_correction=True,
                                        initial_scale=0.3),
         spec("rmsprop", lr=0.005, alpha=0.9, eps=1e-3, eps_inside=True, momentum=0.8, nesterov=True,
              momentum_form="lr_inside", bias_correction=True, initial_scale=0.3)),
    case("optax_rmsprop_centered_bc", O("rmsprop", 0.01, eps=1e-3, eps_in_sqrt=False, centered=True,
                                        bias_correction=True, initial_scale=0.5),
         spec("rmsprop", lr=0.01, alpha=0.9, eps=1e-3, centered=True, bias_correction=True, initial_scale=0.5)),
    case("optax_adadelta", O("adadelta", 0.5, rho=0.95, eps=1e-3, weight_decay=0.01),
         spec("adadelta", lr=0.5, rho=0.95, eps=1e-3, weight_decay=0.01)),
    case("optax_lion", O("lion", 0.01), spec("lion", lr=0.01)),
    case("optax_lion_wd", O("lion", 0.01, b1=0.8, b2=0.95, weight_decay=0.01),
         spec("lion", lr=0.01, beta1=0.8, beta2=0.95, weight_decay=0.01)),
    case("optax_adam", O("adam", **OB), spec("adam", **EB)),
    case("optax_adam_eps_root", O("adam", **OB, eps_root=1e-4), spec("adam", **EB),
         loops=(), note="eps_root (inside the square root, on v_hat) has no optsim option"),
    case("optax_adamw", O("adamw", **OB, weight_decay=0.05), spec("adamw", **EB, weight_decay=0.05)),
    case("optax_adam_amsgrad_vhat", O("amsgrad", **OB), spec("adam", **EB, amsgrad=True, amsgrad_mode="max_vhat")),
    case("optax_amsgrad", O("amsgrad", **OB), spec("amsgrad", **EB, form="optax")),
    case("optax_adamax", O("adamax", **OB), spec("adamax", **EB)),
    case("optax_adamaxw", O("adamaxw", **OB, weight_decay=0.05),
         spec("adamax", **EB, weight_decay=0.05, decoupled_weight_decay=True)),
    case("optax_nadam", O("nadam", **OB), spec("nadam", **EB, form="optax")),
    case("optax_adam_nesterov", O("adam", **OB, nesterov=True), spec("nadam", **EB, form="optax")),
    case("optax_nadamw", O("nadamw", **OB, weight_decay=0.05),
         spec("nadam", **EB, form="optax", weight_decay=0.05, decoupled_weight_decay=True)),
    case("optax_radam", O("radam", **OB), spec("radam", **EB, comparison=">=", eps_mode="sqrt_vhat")),
    case("optax_radam_threshold4", O("radam", **OB, threshold=4.0),
         spec("radam", **EB, comparison=">=", eps_mode="sqrt_vhat", threshold=4.0)),
    # the learning rate, and beta1, on optax schedules (evaluated at the update count 0, 1, ...)
    case("optax_adam_exponential", O("adam", ("schedule", "exponential_decay", 0.01, 10, 0.8), b1=0.8, b2=0.99,
                                     eps=1e-3),
         spec("adam", **EB), schedule=spec("exponential", gamma=0.8, transition_steps=10)),
    case("optax_sgd_cosine", O("sgd", ("schedule", "cosine_decay_schedule", 0.01, 70, 0.1), momentum=0.9),
         spec("sgd", lr=0.01, momentum=0.9), schedule=spec("cosine", T_max=70, eta_min=0.001, convention="clamped")),
    case("optax_adam_scheduled_b1", O("inject_hyperparams(adam)", learning_rate=0.01,
                                      b1=("schedule", "polynomial_schedule", 0.9, 0.5, 1.0, 50), b2=0.99, eps=1e-3),
         spec("adam", lr=0.01, beta1=0.9, beta2=0.99, eps=1e-3),
         schedules={"beta1": spec("polynomial", total_steps=50, power=1.0, end_lr=0.5)}),
    # the 2024 rules in optax.contrib
    case("optax_ademamix", O("contrib.ademamix", 0.01, b1=0.8, b2=0.99, b3=0.999, alpha=3.0, eps=1e-3),
         spec("ademamix", lr=0.01, beta1=0.8, beta2=0.99, beta3=0.999, alpha=3.0, eps=1e-3)),
    case("optax_ademamix_wd", O("contrib.ademamix", 0.01, b1=0.8, b2=0.99, b3=0.999, alpha=3.0, eps=1e-3,
                                weight_decay=0.05),
         spec("ademamix", lr=0.01, beta1=0.8, beta2=0.99, beta3=0.999, alpha=3.0, eps=1e-3, weight_decay=0.05)),
    case("optax_prodigy", O("contrib.prodigy", 1.0, betas=(0.8, 0.99), estim_lr0=1e-3),
         spec("prodigy", beta1=0.8, beta2=0.99, d0=1e-3)),
    case("optax_prodigy_all", O("contrib.prodigy", 0.5, betas=(0.85, 0.98), beta3=0.9, estim_lr0=1e-4,
                                estim_lr_coef=2.0, weight_decay=0.01, safeguard_warmup=True),
         spec("prodigy", lr=0.5, beta1=0.85, beta2=0.98, beta3=0.9, d0=1e-4, d_coef=2.0, weight_decay=0.01,
              safeguard_warmup=True)),
    case("optax_sam", O("contrib.sam", ("sgd", 0.01, 0.8), ("adv", 0.1)),
         spec("sam", lr=0.01, rho=0.1, momentum=0.8, eps=0.0), calls=2),
]

# -- Keras 3 -------------------------------------------------------------------------------------

KERAS = [
    case("keras_sgd_momentum", K("SGD", learning_rate=0.01, momentum=0.9),
         spec("sgd", lr=0.01, momentum=0.9, momentum_form="lr_inside")),
    case("keras_sgd_nesterov", K("SGD", learning_rate=0.005, momentum=0.8, nesterov=True),
         spec("sgd", lr=0.005, momentum=0.8, nesterov=True, momentum_form="lr_inside")),
    case("keras_rmsprop", K("RMSprop", learning_rate=0.01, rho=0.95, epsilon=1e-3),
         spec("rmsprop", lr=0.01, alpha=0.95, eps=1e-3, eps_inside=True)),
    case("keras_rmsprop_centered_momentum", K("RMSprop", learning_rate=0.005, rho=0.9, momentum=0.8, epsilon=1e-3,
                                              centered=True),
         spec("rmsprop", lr=0.005, alpha=0.9, eps=1e-3, eps_inside=True, momentum=0.8, centered=True,
              momentum_form="lr_inside")),
    case("keras_adagrad", K("Adagrad", learning_rate=0.1, initial_accumulator_value=0.2, epsilon=1e-3),
         spec("adagrad", lr=0.1, initial_accumulator_value=0.2, eps=1e-3, eps_inside=True)),
    case("keras_adadelta", K("Adadelta", learning_rate=0.5, rho=0.95, epsilon=1e-3),
         spec("adadelta", lr=0.5, rho=0.95, eps=1e-3)),
    case("keras_adam", K("Adam", **KB), spec("adam", **EB, eps_mode="sqrt_v")),
    case("keras_adam_amsgrad", K("Adam", **KB, amsgrad=True), spec("adam", **EB, eps_mode="sqrt_v", amsgrad=True)),
    case("keras_amsgrad", K("Adam", **KB, amsgrad=True), spec("amsgrad", **EB, form="keras")),
    case("keras_adam_wd", K("Adam", **KB, weight_decay=0.05),
         spec("adam", **EB, eps_mode="sqrt_v", weight_decay=0.05, decoupled_weight_decay=True)),
    case("keras_adamw", K("AdamW", **KB, weight_decay=0.004),
         spec("adamw", **EB, eps_mode="sqrt_v", weight_decay=0.004)),
    case("keras_adamax", K("Adamax", **KB), spec("adamax", **EB, eps_mode="outside")),
    case("keras_nadam", K("Nadam", **KB), spec("nadam", **EB, form="keras")),
    case("keras_lion", K("Lion", learning_rate=0.01, beta_1=0.8, beta_2=0.95), spec("lion", lr=0.01, beta1=0.8,
                                                                                    beta2=0.95, weight_decay=0.0)),
    case("keras_lion_wd", K("Lion", learning_rate=0.01, beta_1=0.8, beta_2=0.95, weight_decay=0.01),
         spec("lion", lr=0.01, beta1=0.8, beta2=0.95, weight_decay=0.01)),
]


# -- running the cases -------------------------------------------------------------------------


def _optax_sam(args):
    """optax.contrib.sam over sgd(lr, momentum) with the normalized-SGD ascent of radius rho."""
    import optax

    (_, lr, mom), (_, rho) = args
    return optax.contrib.sam(optax.sgd(lr, momentum=mom), optax.chain(optax.contrib.normalize(), optax.sgd(rho)))


def _inject(name, kw):
    import optax

    inner = getattr(optax, name[len("inject_hyperparams("):-1])
    return optax.inject_hyperparams(inner)(**{k: _optax_value(v) for k, v in kw.items()})


def run_case(c, loop, problem):
    x0, grads, curv, center = problem
    arrays = dict(grads=grads) if loop == "open" else dict(curvatures=curv, center=center)
    lib = c["library"]
    shapes = c.get("shapes")
    if lib in ("torch", "pytorch_optimizer", "prodigyopt"):
        make = c["make"]
        if c.get("runner") == "sam":
            import torch
            import pytorch_optimizer

            kw = dict(c["sam_kw"])
            make = lambda ps: pytorch_optimizer.SAM(ps, base_optimizer=torch.optim.SGD, **kw)  # noqa: E731
            return drivers.torch_sam_run(make, x0, STEPS, loop, **arrays)
        return drivers.torch_run(make, x0, STEPS, loop, scheduler=c.get("scheduler"), shapes=shapes, **arrays)
    if lib == "optax":
        if c["case"].startswith("optax_sam"):
            opt = _optax_sam(c["sam_args"])
        elif c["reference"].startswith("optax.inject_hyperparams"):
            opt = _inject(c["inject_name"], c["inject_kw"])
        else:
            opt = c["make"]()
        return drivers.optax_run(opt, x0, STEPS, loop, shapes=shapes, calls=c.get("calls", 1), **arrays)
    if lib == "keras":
        return drivers.keras_run(c["make"], x0, STEPS, loop, shapes=shapes, **arrays)
    raise ValueError(lib)


def _problem(shapes):
    """(x0, grads, curvatures, center) of d = 3, or of the size of ``shapes``."""
    if not shapes:
        x0, curv, center = drivers.closed_loop_problem()
        return x0, drivers.gradient_sequence(STEPS), curv, center
    d = sum(int(np.prod(s)) for s in shapes.values())
    rng = np.random.default_rng(11)
    x0 = rng.standard_normal(d)
    center = 0.3 * rng.standard_normal(d)
    curv = np.geomspace(1.0, 30.0, d)
    return x0, drivers.gradient_sequence(STEPS, d=d), curv, center


def _prepare(c):
    """Fill in what the generic makers cannot say: SAM's and inject_hyperparams's pieces."""
    ref = c["reference"]
    if c.get("runner") == "sam":
        kw = {"rho": c["optimizer"]["rho"], "lr": c["optimizer"]["lr"], "momentum": c["optimizer"]["momentum"]}
        for k in ("adaptive", "weight_decay"):
            if k in c["optimizer"]:
                kw[k] = c["optimizer"][k]
        c["sam_kw"] = kw
        c["reference"] = f"pytorch_optimizer.SAM(base_optimizer=torch.optim.SGD, {_fmt((), kw)})"
    if c["case"].startswith("optax_sam"):
        o = c["optimizer"]
        c["sam_args"] = (("sgd", o["lr"], o["momentum"]), ("adv", o["rho"]))
        c["reference"] = (f"optax.contrib.sam(optax.sgd({o['lr']}, momentum={o['momentum']}), "
                          f"optax.chain(optax.contrib.normalize(), optax.sgd({o['rho']})), sync_period=2)")
    if ref.startswith("optax.inject_hyperparams"):
        c["inject_name"] = "inject_hyperparams(adam)"
        c["inject_kw"] = dict(learning_rate=0.01, b1=("schedule", "polynomial_schedule", 0.9, 0.5, 1.0, 50),
                              b2=0.99, eps=1e-3)
        c["reference"] = ("optax.inject_hyperparams(optax.adam)(learning_rate=0.01, "
                          "b1=optax.polynomial_schedule(0.9, 0.5, 1.0, 50), b2=0.99, eps=1e-3)")
    if c.get("scheduler_text"):
        c["reference"] += f" + torch.optim.lr_scheduler.{c['scheduler_text']} stepped after every update"
    return c


META_KEYS = ("schedule", "schedules", "rtol", "note")


def optimizer_cases(version, only=None):
    written = []
    for c in TORCH + PYTORCH_OPTIMIZER + MUON + OPTAX + KERAS:
        if only and not any(c["case"].startswith(o) for o in only):
            continue
        c = _prepare(dict(c))
        problem = _problem(c.get("shapes"))
        meta = dict(library=c["library"], library_version=version[c["library"]], reference=c["reference"],
                    optimizer=c["optimizer"])
        if c["library"] in ("optax", "keras"):
            meta["jax_version"] = version["jax"]
        if c["library"] == "keras":
            meta["keras_backend"] = os.environ.get("KERAS_BACKEND", "jax")
        if c.get("shapes"):
            meta["param_shapes"] = {k: list(v) for k, v in c["shapes"].items()}
        meta.update({k: c[k] for k in META_KEYS if k in c})
        for loop in c.get("loops", ("open", "closed")):
            x0, grads, curv, center = problem
            xs = run_case(c, loop, problem)
            arrays = dict(x0=x0, grads=grads) if loop == "open" else dict(x0=x0, curvatures=curv, center=center)
            written.append(fixtures.save("optimizers", dict(meta, case=f"{c['case']}_{loop}", loop=loop), xs=xs,
                                         **arrays))
    return written


# -- schedules -----------------------------------------------------------------------------------


def torch_schedule(name, **kw):
    return ("torch", f"torch.optim.lr_scheduler.{name}({_fmt((), kw)})",
            lambda opt: getattr(__import__("torch").optim.lr_scheduler, name)(opt, **kw))


def optax_schedule(name, *args, **kw):
    return ("optax", f"optax.{name}({_fmt(args, kw)})", lambda: getattr(__import__("optax"), name)(*args, **kw))


def keras_schedule(name, **kw):
    return ("keras", f"keras.optimizers.schedules.{name}({_fmt((), kw)})",
            lambda: getattr(__import__("keras").optimizers.schedules, name)(**kw))


def sched(name, lib, spec_, base_lr, steps=200, **extra):
    library, ref, make = lib
    return dict(case=name, library=library, reference=ref, make=make, schedule=spec_, base_lr=base_lr, steps=steps,
                **extra)


def _cyclic(**kw):
    return dict(kw)


TORCH_SCHEDULES = [
    sched("torch_steplr", torch_schedule("StepLR", step_size=7, gamma=0.5), spec("step", step_size=7, gamma=0.5),
          0.1, 40),
    sched("torch_steplr_long", torch_schedule("StepLR", step_size=30, gamma=0.5),
          spec("step", step_size=30, gamma=0.5), 0.1),
    sched("torch_multisteplr", torch_schedule("MultiStepLR", milestones=[30, 80, 80, 150], gamma=0.5),
          spec("multistep", milestones=[30, 80, 80, 150], gamma=0.5), 0.1),
    sched("torch_exponentiallr", torch_schedule("ExponentialLR", gamma=0.99), spec("exponential", gamma=0.99), 0.1),
    sched("torch_polynomiallr_p2", torch_schedule("PolynomialLR", total_iters=150, power=2.0),
          spec("polynomial", total_steps=150, power=2.0), 0.1),
    sched("torch_polynomiallr_linear", torch_schedule("PolynomialLR", total_iters=80, power=1.0),
          spec("polynomial", total_steps=80, power=1.0), 0.05),
    sched("torch_cosineannealinglr", torch_schedule("CosineAnnealingLR", T_max=70, eta_min=0.01),
          spec("cosine", T_max=70, eta_min=0.01), 0.1, note="past T_max torch's rate rises again (period 2 T_max)"),
    sched("torch_warmrestarts_30_1", torch_schedule("CosineAnnealingWarmRestarts", T_0=30, T_mult=1, eta_min=0.0),
          spec("warm_restarts", T_0=30, T_mult=1, eta_min=0.0), 0.1),
    sched("torch_warmrestarts_10_2", torch_schedule("CosineAnnealingWarmRestarts", T_0=10, T_mult=2, eta_min=0.01),
          spec("warm_restarts", T_0=10, T_mult=2, eta_min=0.01), 0.1),
    sched("torch_warmrestarts_50_1", torch_schedule("CosineAnnealingWarmRestarts", T_0=50, T_mult=1, eta_min=0.1),
          spec("warm_restarts", T_0=50, T_mult=1, eta_min=0.1), 0.3),
    sched("torch_linearlr_warmup", torch_schedule("LinearLR", start_factor=0.25, end_factor=1.0, total_iters=40),
          spec("linear_warmup", warmup_steps=40, start_factor=0.25), 0.1),
    sched("torch_lambdalr_transformer", ("torch", "torch.optim.lr_scheduler.LambdaLR(lambda s: 64**-0.5 * "
                                         "min((s + 1)**-0.5, (s + 1) * 50**-1.5))",
                                         lambda opt: __import__("torch").optim.lr_scheduler.LambdaLR(
                                             opt, lambda s: 64**-0.5 * min((s + 1) ** -0.5, (s + 1) * 50**-1.5))),
          spec("transformer", d_model=64, warmup_steps=50), 2.0),
]
for _i, _kw in enumerate([dict(step_size_up=20),
                          dict(step_size_up=15, step_size_down=40, mode="triangular2"),
                          dict(step_size_up=25, mode="exp_range", gamma=0.997, base_momentum=0.7, max_momentum=0.95)]):
    for _adam in (False, True):
        TORCH_SCHEDULES.append(sched(f"torch_cycliclr_{_i}_{'adam' if _adam else 'sgd'}",
                                     torch_schedule("CyclicLR", base_lr=0.01, max_lr=0.5, **_kw),
                                     spec("cyclic", max_lr=0.5, **_kw), 0.01, adam=_adam))
for _i, _kw in enumerate([dict(),
                          dict(anneal_strategy="linear", pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
                          dict(three_phase=True, base_momentum=0.8, max_momentum=0.9),
                          dict(three_phase=True, anneal_strategy="linear")]):
    TORCH_SCHEDULES.append(sched(f"torch_onecyclelr_{_i}", torch_schedule("OneCycleLR", max_lr=0.1, total_steps=137,
                                                                          **_kw),
                                 spec("one_cycle", total_steps=137, **_kw), 0.1, 137))
for _i, _kw in enumerate([dict(factor=0.5, patience=5),
                          dict(factor=0.5, patience=3, threshold=1e-3, threshold_mode="abs", cooldown=4),
                          dict(factor=0.1, patience=2, cooldown=1, min_lr=1e-3, threshold=0.0),
                          dict(factor=0.5, patience=2, eps=0.02)]):
    TORCH_SCHEDULES.append(sched(f"torch_reducelronplateau_{_i}", torch_schedule("ReduceLROnPlateau", **_kw),
                                 spec("plateau", **_kw), 0.1, 300, plateau=True,
                                 note="torch is stepped with the loss seen at update k (k >= 1) before it gives "
                                      "the rate of update k"))

OPTAX_SCHEDULES = [
    sched("optax_constant", optax_schedule("constant_schedule", 0.1), spec("constant"), 0.1),
    sched("optax_exponential_staircase", optax_schedule("exponential_decay", 0.1, 30, 0.5, 10, True, 0.01),
          spec("exponential", gamma=0.5, transition_steps=30, staircase=True, transition_begin=10, end_lr=0.01), 0.1),
    sched("optax_exponential", optax_schedule("exponential_decay", 0.1, 7, 0.9),
          spec("exponential", gamma=0.9, transition_steps=7), 0.1),
    sched("optax_exponential_growth", optax_schedule("exponential_decay", 0.1, 1, 1.01, end_value=0.3),
          spec("exponential", gamma=1.01, end_lr=0.3), 0.1),
    sched("optax_polynomial", optax_schedule("polynomial_schedule", 0.1, 1e-3, 2.0, 100, 20),
          spec("polynomial", total_steps=100, power=2.0, end_lr=1e-3, transition_begin=20), 0.1),
    sched("optax_linear", optax_schedule("linear_schedule", 0.1, 0.02, 120),
          spec("polynomial", total_steps=120, power=1.0, end_lr=0.02), 0.1),
    sched("optax_cosine_decay", optax_schedule("cosine_decay_schedule", 0.1, 150, alpha=0.2, exponent=1.5),
          spec("cosine", T_max=150, eta_min=0.02, convention="clamped", exponent=1.5), 0.1),
    sched("optax_cosine_decay_default", optax_schedule("cosine_decay_schedule", 0.1, 90),
          spec("cosine", T_max=90, convention="clamped"), 0.1),
    sched("optax_piecewise_constant_multistep", optax_schedule("piecewise_constant_schedule", 0.1, {30: 0.3, 100: 0.3}),
          spec("multistep", milestones=[30, 100], gamma=0.3), 0.1),
    sched("optax_cosine_onecycle", optax_schedule("cosine_onecycle_schedule", 150, 0.1),
          spec("one_cycle", total_steps=150, convention="optax"), 0.1),
    sched("optax_cosine_onecycle_kw", optax_schedule("cosine_onecycle_schedule", 150, 0.1, 0.2, 10.0, 100.0),
          spec("one_cycle", total_steps=150, convention="optax", pct_start=0.2, div_factor=10.0,
               final_div_factor=100.0), 0.1),
    sched("optax_linear_onecycle", optax_schedule("linear_onecycle_schedule", 150, 0.1),
          spec("one_cycle", total_steps=150, convention="optax", three_phase=True, anneal_strategy="linear"), 0.1),
    sched("optax_linear_onecycle_pct", optax_schedule("linear_onecycle_schedule", 150, 0.1, 0.3, 0.8),
          spec("one_cycle", total_steps=150, convention="optax", three_phase=True, anneal_strategy="linear",
               pct_final=0.8), 0.1),
]

KERAS_SCHEDULES = [
    sched("keras_exponential", keras_schedule("ExponentialDecay", initial_learning_rate=0.1, decay_steps=17.5,
                                              decay_rate=0.7),
          spec("exponential", gamma=0.7, transition_steps=17.5), 0.1),
    sched("keras_exponential_staircase", keras_schedule("ExponentialDecay", initial_learning_rate=0.1, decay_steps=30,
                                                        decay_rate=0.5, staircase=True),
          spec("exponential", gamma=0.5, transition_steps=30, staircase=True), 0.1),
    sched("keras_piecewise_constant_multistep", keras_schedule("PiecewiseConstantDecay", boundaries=[30, 120],
                                                     values=[0.1, 0.03, 0.009]),
          spec("multistep", milestones=[30, 120], gamma=0.3, convention="keras"), 0.1,
          note="Keras switches after the boundary (k > b), torch and optax at it (k >= b)", rtol=1e-15),
    sched("keras_inverse_time", keras_schedule("InverseTimeDecay", initial_learning_rate=0.1, decay_steps=10,
                                               decay_rate=0.5),
          spec("inverse_time", decay_rate=0.5, decay_steps=10), 0.1),
    sched("keras_inverse_time_staircase", keras_schedule("InverseTimeDecay", initial_learning_rate=0.1, decay_steps=7,
                                                         decay_rate=2.0, staircase=True),
          spec("inverse_time", decay_rate=2.0, decay_steps=7, staircase=True), 0.1),
    sched("keras_polynomial", keras_schedule("PolynomialDecay", initial_learning_rate=0.1, decay_steps=100,
                                             end_learning_rate=1e-3, power=0.5),
          spec("polynomial", total_steps=100, power=0.5, end_lr=1e-3), 0.1),
    sched("keras_polynomial_cycle", keras_schedule("PolynomialDecay", initial_learning_rate=0.1, decay_steps=60,
                                                   end_learning_rate=1e-3, power=1.5, cycle=True),
          spec("polynomial", total_steps=60, power=1.5, end_lr=1e-3, cycle=True), 0.1),
    sched("keras_cosine_decay", keras_schedule("CosineDecay", initial_learning_rate=0.1, decay_steps=150, alpha=0.1),
          spec("cosine", T_max=150, eta_min=0.01, convention="clamped"), 0.1),
    sched("keras_cosine_restarts", keras_schedule("CosineDecayRestarts", initial_learning_rate=0.1,
                                                  first_decay_steps=30, t_mul=2.0, m_mul=1.0, alpha=0.0),
          spec("warm_restarts", T_0=30, T_mult=2.0), 0.1),
    sched("keras_cosine_restarts_mmul", keras_schedule("CosineDecayRestarts", initial_learning_rate=0.1,
                                                       first_decay_steps=20, t_mul=1.0, m_mul=0.8, alpha=0.1),
          spec("warm_restarts", T_0=20, T_mult=1.0, m_mul=0.8, eta_min=0.01), 0.1),
]


def plateau_losses(n=300, seed=0):
    """Improves, stalls, improves a little (below and above the threshold), stalls again."""
    rng = np.random.default_rng(seed)
    f = np.concatenate([np.linspace(10, 5, 40), np.full(30, 5.0), 5.0 - 1e-5 * np.arange(40),
                        np.linspace(5, 3, 20), 3 + 0.1 * rng.random(n - 130)])
    return f[:n]


def torch_lrs(make_scheduler, base_lr, steps, adam=False, metrics=None):
    """The rate (and momentum, or Adam's beta1) of each update under a torch scheduler
    stepped after every update (with ``metrics[k]`` for ReduceLROnPlateau)."""
    import torch

    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=base_lr) if adam else torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    sched_ = make_scheduler(opt)
    lrs, moms = [], []
    for k in range(steps):
        g = opt.param_groups[0]
        lrs.append(float(g["lr"]))
        moms.append(float(g["betas"][0] if adam else g["momentum"]))
        opt.step()
        if metrics is None:
            sched_.step()
        else:
            sched_.step(metrics[k])
    return np.array(lrs), np.array(moms)


def schedule_cases(version, only=None):
    written = []
    for s in TORCH_SCHEDULES + OPTAX_SCHEDULES + KERAS_SCHEDULES:
        if only and not any(s["case"].startswith(o) for o in only):
            continue
        meta = dict(case=s["case"], library=s["library"], library_version=version[s["library"]],
                    reference=s["reference"], schedule=s["schedule"], base_lr=s["base_lr"])
        meta.update({k: s[k] for k in ("rtol", "note") if k in s})
        arrays = {}
        n = s["steps"]
        if s["library"] == "torch":
            if s.get("plateau"):
                f = plateau_losses(n)
                lrs, _ = torch_lrs(s["make"], s["base_lr"], n, metrics=list(f[1:]) + [0.0])
                arrays["losses"] = f
            else:
                lrs, moms = torch_lrs(s["make"], s["base_lr"], n, adam=s.get("adam", False))
                if s["schedule"]["name"] in ("cyclic", "one_cycle"):
                    arrays["momentum"] = moms
                    meta["reference"] += " on torch.optim." + ("Adam (its beta1)" if s.get("adam") else
                                                               "SGD(momentum=0.9)")
        elif s["library"] == "optax":
            import jax

            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp

            meta["jax_version"] = version["jax"]
            fn = s["make"]()
            lrs = np.asarray(jax.vmap(fn)(jnp.arange(n, dtype=jnp.int64)), dtype=float)
        else:
            import jax

            jax.config.update("jax_enable_x64", True)
            import keras

            keras.config.set_floatx("float64")
            meta["jax_version"] = version["jax"]
            meta["keras_backend"] = os.environ.get("KERAS_BACKEND", "jax")
            fn = s["make"]()
            lrs = np.array([float(fn(keras.ops.convert_to_tensor(k, dtype="int64"))) for k in range(n)])
        written.append(fixtures.save("schedules", meta, lrs=lrs, **arrays))
    return written


if __name__ == "__main__":
    only = sys.argv[1:] or None
    v = drivers.versions()
    print(len(optimizer_cases(v, only)), "optimizer files;", len(schedule_cases(v, only)), "schedule files")
