"""Regenerate the golden files of ADOPT, AdaBelief, Yogi, LaProp, Adan, Rprop, NovoGrad, LAMB
and LARS from the libraries that have them.

Run where the libraries are installed (optsim need not be)::

    python tests/golden/make_elem.py          # from the repository root

torch, optax (with optax.contrib), pytorch-optimizer and the AdaBelief authors'
``adabelief-pytorch`` come from PyPI.  The ADOPT and Adan authors' optimizers are not
packaged: put their single files on ``PYTHONPATH`` as ``adopt_authors.py``
(``src/adopt/adopt.py`` of github.com/iShohei220/adopt) and ``adan_authors.py``
(``adan.py`` of github.com/sail-sg/Adan), and the LaProp authors' as ``laprop_authors.py``
(``laprop.py`` of github.com/Z-T-WANG/LaProp-Optimizer); the cases of a library that cannot be imported
are skipped with a message.  Every case is written open loop and closed loop, 100 steps,
with non-default hyperparameters (:mod:`fixtures` is the format).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import drivers  # noqa: E402
import fixtures  # noqa: E402

STEPS = 100


def _torch():
    return __import__("torch")


def _po():
    return __import__("pytorch_optimizer")


def _optax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return __import__("optax")


def _contrib():
    _optax()
    import optax.contrib

    return optax.contrib


def _authors(module):
    return __import__(module)


# (case, library, reference text, optsim spec, kind, make): kind "torch" makes an optimizer
# from a parameter list, kind "optax" makes a GradientTransformation.
CASES = [
    # -- ADOPT --------------------------------------------------------------------------------
    ("adopt_authors", "adopt_authors",
     "adopt.ADOPT(lr=0.01, betas=(0.8, 0.99), eps=1e-3)",
     {"name": "adopt", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3}, "torch",
     lambda ps: _authors("adopt_authors").ADOPT(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3)),
    ("adopt_authors_decouple", "adopt_authors",
     "adopt.ADOPT(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05, decouple=True)",
     {"name": "adopt", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.05,
      "decouple": True}, "torch",
     lambda ps: _authors("adopt_authors").ADOPT(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05,
                                                decouple=True)),
    ("adopt_authors_l2_noclip", "adopt_authors",
     "adopt.ADOPT(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05, clip_lambda=None)",
     {"name": "adopt", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.05,
      "clip": False}, "torch",
     lambda ps: _authors("adopt_authors").ADOPT(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05,
                                                clip_lambda=None)),
    ("optax_contrib_adopt", "optax",
     "optax.contrib.adopt(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-3)",
     {"name": "adopt", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3}, "optax",
     lambda: _contrib().adopt(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-3)),
    ("optax_contrib_adopt_nesterov", "optax",
     "optax.contrib.adopt(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-3, nesterov=True)",
     {"name": "adopt", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "nesterov": True}, "optax",
     lambda: _contrib().adopt(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-3, nesterov=True)),
    ("pytorch_optimizer_adopt", "pytorch_optimizer",
     "pytorch_optimizer.ADOPT(lr=0.01, betas=(0.8, 0.99), eps=1e-3)",
     {"name": "adopt", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "clip_step": "current"}, "torch",
     lambda ps: _po().ADOPT(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3)),
    ("pytorch_optimizer_adopt_decouple", "pytorch_optimizer",
     "pytorch_optimizer.ADOPT(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05, weight_decouple=True)",
     {"name": "adopt", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "clip_step": "current",
      "weight_decay": 0.05, "decouple": True, "decay_first_step": True}, "torch",
     lambda ps: _po().ADOPT(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05, weight_decouple=True)),
    # -- AdaBelief ----------------------------------------------------------------------------
    ("adabelief_authors", "adabelief_pytorch",
     "adabelief_pytorch.AdaBelief(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, rectify=False)",
     {"name": "adabelief", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05}, "torch",
     lambda ps: _authors("adabelief_pytorch").AdaBelief(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05,
                                                        rectify=False, print_change_log=False)),
    ("adabelief_authors_rectify", "adabelief_pytorch",
     "adabelief_pytorch.AdaBelief(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, weight_decouple=False, "
     "amsgrad=True)  # rectify=True by default",
     {"name": "adabelief", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05,
      "weight_decouple": False, "amsgrad": True, "rectify": True}, "torch",
     lambda ps: _authors("adabelief_pytorch").AdaBelief(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05,
                                                        weight_decouple=False, amsgrad=True, print_change_log=False)),
    ("adabelief_authors_rectify_nosgd", "adabelief_pytorch",
     "adabelief_pytorch.AdaBelief(lr=0.01, betas=(0.8, 0.99), eps=1e-6, degenerated_to_sgd=False, fixed_decay=True, "
     "weight_decay=0.01)",
     {"name": "adabelief", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "rectify": True,
      "degenerated_to_sgd": False, "fixed_decay": True, "weight_decay": 0.01}, "torch",
     lambda ps: _authors("adabelief_pytorch").AdaBelief(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6,
                                                        degenerated_to_sgd=False, fixed_decay=True, weight_decay=0.01,
                                                        print_change_log=False)),
    ("optax_adabelief", "optax",
     "optax.adabelief(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-8)",
     {"name": "adabelief", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "eps_root": 1e-8}, "optax",
     lambda: _optax().adabelief(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-8)),
    ("optax_adabelief_nesterov", "optax",
     "optax.adabelief(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-8, nesterov=True)",
     {"name": "adabelief", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "eps_root": 1e-8,
      "nesterov": True}, "optax",
     lambda: _optax().adabelief(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-8, nesterov=True)),
    ("pytorch_optimizer_adabelief", "pytorch_optimizer",
     "pytorch_optimizer.AdaBelief(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, ams_bound=True)",
     {"name": "adabelief", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05,
      "amsgrad": True}, "torch",
     lambda ps: _po().AdaBelief(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, ams_bound=True)),
    ("pytorch_optimizer_adabelief_rectify", "pytorch_optimizer",
     "pytorch_optimizer.AdaBelief(lr=0.01, betas=(0.8, 0.99), eps=1e-6, rectify=True, n_sma_threshold=4, "
     "maximize=False)",
     {"name": "adabelief", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "rectify": True,
      "n_sma_threshold": 4.0}, "torch",
     lambda ps: _po().AdaBelief(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, rectify=True, n_sma_threshold=4)),
    # -- Yogi ---------------------------------------------------------------------------------
    ("optax_yogi", "optax", "optax.yogi(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-4)",
     {"name": "yogi", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4}, "optax",
     lambda: _optax().yogi(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-4)),
    ("optax_scale_by_yogi", "optax",
     "optax.chain(optax.scale_by_yogi(b1=0.8, b2=0.99, eps=1e-4, eps_root=1e-6, initial_accumulator_value=0.1), "
     "optax.scale(-0.01))",
     {"name": "yogi", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "eps_root": 1e-6,
      "initial_accumulator": 0.1}, "optax",
     lambda: _optax().chain(_optax().scale_by_yogi(b1=0.8, b2=0.99, eps=1e-4, eps_root=1e-6,
                                                   initial_accumulator_value=0.1), _optax().scale(-0.01))),
    ("pytorch_optimizer_yogi", "pytorch_optimizer",
     "pytorch_optimizer.Yogi(lr=0.01, betas=(0.8, 0.99), eps=1e-4, initial_accumulator=0.01, weight_decay=0.05)",
     {"name": "yogi", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "initial_accumulator": 0.01,
      "weight_decay": 0.05}, "torch",
     lambda ps: _po().Yogi(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-4, initial_accumulator=0.01, weight_decay=0.05)),
    ("pytorch_optimizer_yogi_l2", "pytorch_optimizer",
     "pytorch_optimizer.Yogi(lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.05, weight_decouple=False)",
     {"name": "yogi", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "weight_decay": 0.05,
      "weight_decouple": False}, "torch",
     lambda ps: _po().Yogi(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.05, weight_decouple=False)),
    # -- LaProp -------------------------------------------------------------------------------
    ("laprop_authors", "laprop_authors",
     "laprop.LaProp(lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.001)",
     {"name": "laprop", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "weight_decay": 0.001}, "torch",
     lambda ps: _authors("laprop_authors").LaProp(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.001)),
    ("laprop_authors_centered_amsgrad", "laprop_authors",
     "laprop.LaProp(lr=0.01, betas=(0.8, 0.99), eps=1e-4, centered=True, amsgrad=True)",
     {"name": "laprop", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "centered": True, "amsgrad": True},
     "torch",
     lambda ps: _authors("laprop_authors").LaProp(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-4, centered=True,
                                                  amsgrad=True)),
    ("laprop_authors_steplr", "laprop_authors",
     "laprop.LaProp(lr=0.01, betas=(0.8, 0.99), eps=1e-4) with torch.optim.lr_scheduler.StepLR(step_size=7, gamma=0.5)",
     {"name": "laprop", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4}, "torch",
     lambda ps: _authors("laprop_authors").LaProp(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-4)),
    ("pytorch_optimizer_laprop", "pytorch_optimizer",
     "pytorch_optimizer.LaProp(lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.05, foreach=False)",
     {"name": "laprop", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "weight_decay": 0.05,
      "eps_mode": "sqrt_v", "eps_root": 1e-15, "fixed_decay": False}, "torch",
     lambda ps: _po().LaProp(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.05, foreach=False)),
    ("pytorch_optimizer_laprop_centered_ams", "pytorch_optimizer",
     "pytorch_optimizer.LaProp(lr=0.01, betas=(0.8, 0.99), eps=1e-4, centered=True, ams_bound=True, foreach=False)",
     {"name": "laprop", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "centered": True, "amsgrad": True,
      "ams_during_centered_warmup": True, "eps_mode": "sqrt_v", "eps_root": 1e-15}, "torch",
     lambda ps: _po().LaProp(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-4, centered=True, ams_bound=True,
                             foreach=False)),
    # -- Adan ---------------------------------------------------------------------------------
    ("adan_authors", "adan_authors",
     "adan.Adan(lr=0.01, betas=(0.8, 0.7, 0.95), eps=1e-3, weight_decay=0.05)",
     {"name": "adan", "lr": 0.01, "beta1": 0.8, "beta2": 0.7, "beta3": 0.95, "eps": 1e-3, "weight_decay": 0.05}, "torch",
     lambda ps: _authors("adan_authors").Adan(ps, lr=0.01, betas=(0.8, 0.7, 0.95), eps=1e-3, weight_decay=0.05)),
    ("adan_authors_no_prox", "adan_authors",
     "adan.Adan(lr=0.01, betas=(0.8, 0.7, 0.95), eps=1e-3, weight_decay=0.05, no_prox=True, foreach=False)",
     {"name": "adan", "lr": 0.01, "beta1": 0.8, "beta2": 0.7, "beta3": 0.95, "eps": 1e-3, "weight_decay": 0.05, "no_prox": True}, "torch",
     lambda ps: _authors("adan_authors").Adan(ps, lr=0.01, betas=(0.8, 0.7, 0.95), eps=1e-3, weight_decay=0.05,
                                              no_prox=True, foreach=False)),
    ("optax_adan", "optax",
     "optax.adan(learning_rate=0.01, b1=0.8, b2=0.7, b3=0.95, eps=1e-3, eps_root=1e-6, weight_decay=0.05)",
     {"name": "adan", "lr": 0.01, "beta1": 0.8, "beta2": 0.7, "beta3": 0.95, "eps": 1e-3, "eps_root": 1e-6, "weight_decay": 0.05, "no_prox": True,
      "diff_coefficient": "one_minus_beta2"}, "optax",
     lambda: _optax().adan(learning_rate=0.01, b1=0.8, b2=0.7, b3=0.95, eps=1e-3, eps_root=1e-6, weight_decay=0.05)),
    ("pytorch_optimizer_adan", "pytorch_optimizer",
     "pytorch_optimizer.Adan(lr=0.01, betas=(0.8, 0.7, 0.95), eps=1e-3, weight_decay=0.05)",
     {"name": "adan", "lr": 0.01, "beta1": 0.8, "beta2": 0.7, "beta3": 0.95, "eps": 1e-3, "weight_decay": 0.05}, "torch",
     lambda ps: _po().Adan(ps, lr=0.01, betas=(0.8, 0.7, 0.95), eps=1e-3, weight_decay=0.05)),
    ("pytorch_optimizer_adan_decouple", "pytorch_optimizer",
     "pytorch_optimizer.Adan(lr=0.01, betas=(0.8, 0.7, 0.95), eps=1e-3, weight_decay=0.05, weight_decouple=True)",
     {"name": "adan", "lr": 0.01, "beta1": 0.8, "beta2": 0.7, "beta3": 0.95, "eps": 1e-3, "weight_decay": 0.05, "no_prox": True}, "torch",
     lambda ps: _po().Adan(ps, lr=0.01, betas=(0.8, 0.7, 0.95), eps=1e-3, weight_decay=0.05, weight_decouple=True)),
    # -- Rprop --------------------------------------------------------------------------------
    ("torch_rprop", "torch",
     "torch.optim.Rprop(lr=0.003, etas=(0.3, 1.5), step_sizes=(1e-4, 0.05))",
     {"name": "rprop", "lr": 0.003, "eta_minus": 0.3, "eta_plus": 1.5, "step_size_min": 1e-4,
      "step_size_max": 0.05}, "torch",
     lambda ps: _torch().optim.Rprop(ps, lr=0.003, etas=(0.3, 1.5), step_sizes=(1e-4, 0.05))),
    ("torch_rprop_maximize", "torch",
     "torch.optim.Rprop(lr=1e-7, step_sizes=(1e-5, 1.0), maximize=True)",
     {"name": "rprop", "lr": 1e-7, "step_size_min": 1e-5, "step_size_max": 1.0, "maximize": True}, "torch",
     lambda ps: _torch().optim.Rprop(ps, lr=1e-7, step_sizes=(1e-5, 1.0), maximize=True)),
    ("optax_rprop", "optax",
     "optax.rprop(learning_rate=0.003, eta_minus=0.3, eta_plus=1.5, min_step_size=1e-4, max_step_size=0.05)",
     {"name": "rprop", "lr": 0.003, "eta_minus": 0.3, "eta_plus": 1.5, "step_size_min": 1e-4,
      "step_size_max": 0.05, "form": "optax"}, "optax",
     lambda: _optax().rprop(learning_rate=0.003, eta_minus=0.3, eta_plus=1.5, min_step_size=1e-4,
                            max_step_size=0.05)),
    # -- NovoGrad (the whole vector is one layer) ---------------------------------------------
    ("optax_novograd", "optax",
     "optax.novograd(learning_rate=0.01, b1=0.8, b2=0.5, eps=1e-3, eps_root=1e-4, weight_decay=0.05)",
     {"name": "novograd", "lr": 0.01, "beta1": 0.8, "beta2": 0.5, "eps": 1e-3, "eps_root": 1e-4, "weight_decay": 0.05}, "optax",
     lambda: _optax().novograd(learning_rate=0.01, b1=0.8, b2=0.5, eps=1e-3, eps_root=1e-4, weight_decay=0.05)),
    ("pytorch_optimizer_novograd", "pytorch_optimizer",
     "pytorch_optimizer.NovoGrad(lr=0.01, betas=(0.8, 0.5), eps=1e-3, weight_decay=0.05)",
     {"name": "novograd", "lr": 0.01, "beta1": 0.8, "beta2": 0.5, "eps": 1e-3, "weight_decay": 0.05}, "torch",
     lambda ps: _po().NovoGrad(ps, lr=0.01, betas=(0.8, 0.5), eps=1e-3, weight_decay=0.05)),
    ("pytorch_optimizer_novograd_averaging", "pytorch_optimizer",
     "pytorch_optimizer.NovoGrad(lr=0.01, betas=(0.8, 0.5), eps=1e-3, weight_decay=0.05, weight_decouple=True, "
     "grad_averaging=True)",
     {"name": "novograd", "lr": 0.01, "beta1": 0.8, "beta2": 0.5, "eps": 1e-3, "weight_decay": 0.05, "weight_decouple": True, "grad_averaging": True}, "torch",
     lambda ps: _po().NovoGrad(ps, lr=0.01, betas=(0.8, 0.5), eps=1e-3, weight_decay=0.05, weight_decouple=True,
                               grad_averaging=True)),
    # -- LAMB and LARS (the whole vector is one layer) -----------------------------------------
    ("optax_lamb", "optax",
     "optax.lamb(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-3, eps_root=1e-6, weight_decay=0.05)",
     {"name": "lamb", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "eps_root": 1e-6,
      "weight_decay": 0.05}, "optax",
     lambda: _optax().lamb(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-3, eps_root=1e-6, weight_decay=0.05)),
    ("pytorch_optimizer_lamb", "pytorch_optimizer",
     "pytorch_optimizer.Lamb(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05)",
     {"name": "lamb", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.05,
      "weight_decouple": True, "bias_correction": "step_size", "max_weight_norm": 10.0, "trust_eps": 1e-3},
     "torch",
     lambda ps: _po().Lamb(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05)),
    ("pytorch_optimizer_lamb_l2", "pytorch_optimizer",
     "pytorch_optimizer.Lamb(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05, weight_decouple=False, "
     "grad_averaging=False)",
     {"name": "lamb", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.05,
      "bias_correction": "step_size", "grad_averaging": False, "max_weight_norm": 10.0, "trust_eps": 1e-3},
     "torch",
     lambda ps: _po().Lamb(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.05, weight_decouple=False,
                           grad_averaging=False)),
    ("optax_lars", "optax",
     "optax.lars(learning_rate=0.1, weight_decay=0.05, trust_coefficient=0.02, eps=1e-3, momentum=0.8)",
     {"name": "lars", "lr": 0.1, "weight_decay": 0.05, "trust_coefficient": 0.02, "eps": 1e-3, "momentum": 0.8,
      "ratio_form": "update", "lr_in_buffer": True}, "optax",
     lambda: _optax().lars(learning_rate=0.1, weight_decay=0.05, trust_coefficient=0.02, eps=1e-3, momentum=0.8)),
    ("optax_lars_nesterov", "optax",
     "optax.lars(learning_rate=0.1, weight_decay=0.05, trust_coefficient=0.02, momentum=0.8, nesterov=True)",
     {"name": "lars", "lr": 0.1, "weight_decay": 0.05, "trust_coefficient": 0.02, "momentum": 0.8,
      "nesterov": True, "ratio_form": "update", "lr_in_buffer": True}, "optax",
     lambda: _optax().lars(learning_rate=0.1, weight_decay=0.05, trust_coefficient=0.02, momentum=0.8,
                           nesterov=True)),
    ("pytorch_optimizer_lars_matrix", "pytorch_optimizer",
     "pytorch_optimizer.LARS(lr=0.1, weight_decay=0.05, momentum=0.8, dampening=0.1, trust_coefficient=0.02) "
     "on the parameter as a 1 x d matrix",
     {"name": "lars", "lr": 0.1, "weight_decay": 0.05, "momentum": 0.8, "dampening": 0.1,
      "trust_coefficient": 0.02}, "torch_matrix",
     lambda ps: _po().LARS(ps, lr=0.1, weight_decay=0.05, momentum=0.8, dampening=0.1, trust_coefficient=0.02)),
    ("pytorch_optimizer_lars_vector", "pytorch_optimizer",
     "pytorch_optimizer.LARS(lr=0.005, weight_decay=0.05, momentum=0.8, nesterov=True) on the parameter as a "
     "vector (no ratio, no decay)",
     {"name": "lars", "lr": 0.005, "weight_decay": 0.05, "momentum": 0.8, "nesterov": True,
      "exclude_vectors": True}, "torch",
     lambda ps: _po().LARS(ps, lr=0.005, weight_decay=0.05, momentum=0.8, nesterov=True)),
]

NOTES = {
    "pytorch_optimizer_laprop": "foreach=False: pytorch-optimizer's foreach path casts the step sizes "
                                "1/c_t to float32",
    "pytorch_optimizer_laprop_centered_ams": "foreach=False: pytorch-optimizer's foreach path casts the step "
                                             "sizes 1/c_t to float32",
}
"""{case: note} for the cases whose library departs from optsim's default form."""
SCHEDULERS = {
    "laprop_authors_steplr": ({"name": "step", "step_size": 7, "gamma": 0.5},
                              lambda opt: _torch().optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)),
}
"""{case: (optsim's schedule spec, make(optimizer) -> torch scheduler stepped after every update)}."""
RTOL = {}
"""{case: rtol} where a library computes part of the rule in lower precision."""


def _versions():
    v = drivers.versions()
    for module in ("adopt_authors", "adan_authors", "laprop_authors"):
        try:
            __import__(module)
            v[module] = "git file"
        except ImportError:
            pass
    try:
        from importlib import metadata

        v["adabelief_pytorch"] = metadata.version("adabelief-pytorch")
    except Exception:
        pass
    return v


def torch_run_matrix(make, x0, steps, loop, grads=None, curvatures=None, center=None):
    """:func:`drivers.torch_run` with the parameter held as a 1 x d matrix, for the rules that
    treat only parameters of two or more dimensions as layers (pytorch-optimizer's LARS)."""
    import numpy as np
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(np.asarray(x0, float)).reshape(1, -1))
        opt = make([p])
        xs = [p.detach().numpy().ravel().copy()]
        for k in range(steps):
            opt.zero_grad()
            x = p.detach().numpy().ravel().copy()
            g = grads[k] if loop == "open" else curvatures * (x - center)
            p.grad = torch.tensor(g).reshape(1, -1)
            opt.step()
            xs.append(p.detach().numpy().ravel().copy())
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


def _run(kind, make, x0, loop, scheduler=None, **problem):
    if kind == "torch_matrix":
        return torch_run_matrix(make, x0, STEPS, loop, **problem)
    if kind == "torch":
        return drivers.torch_run(make, x0, STEPS, loop, scheduler=scheduler, **problem)
    return drivers.optax_run(make(), x0, STEPS, loop, **problem)


def optimizer_cases(version, only=None):
    x0, curv, center = drivers.closed_loop_problem()
    grads = drivers.gradient_sequence(STEPS)
    for case, library, ref, spec, kind, make in CASES:
        if only and not any(case.startswith(o) for o in only):
            continue
        lib_key = library if library in version else library.split(".")[0]
        if lib_key not in version:
            print(f"skip {case}: {library} is not importable here")
            continue
        meta = dict(library=library, library_version=version[lib_key], reference=ref, optimizer=spec)
        if case in NOTES:
            meta["note"] = NOTES[case]
        if case in RTOL:
            meta["rtol"] = RTOL[case]
        scheduler = None
        if case in SCHEDULERS:
            meta["schedule"], scheduler = SCHEDULERS[case]
        xs = _run(kind, make, x0, "open", scheduler, grads=grads)
        fixtures.save("optimizers", dict(meta, case=case + "_open", loop="open"), x0=x0, grads=grads, xs=xs)
        xs = _run(kind, make, x0, "closed", scheduler, curvatures=curv, center=center)
        fixtures.save("optimizers", dict(meta, case=case + "_closed", loop="closed"),
                      x0=x0, curvatures=curv, center=center, xs=xs)
        print("wrote", case)


if __name__ == "__main__":
    optimizer_cases(_versions(), only=sys.argv[1:])
