"""Schedule-Free SGD and AdamW (Defazio et al. 2024): the gradient at an interpolation y of
the base iterate z and the average x, which is what the engine records and evaluates.

The engine's parameter vector is the average :math:`x` (recorded as ``params``, its loss as
``loss``); the rule keeps :math:`z` and the gradient point :math:`y` in its state (``y`` is
recorded with ``record=("state",)``, slot ``y``) and hands :math:`y` to the engine through
its ``lookahead`` kernel, so the observed gradient (and any noise model) is taken there.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["ScheduleFreeSGD", "ScheduleFreeAdamW"]

WARMUP_INDEX = ("one_based", "optax")
DECAY_AT = ("y", "z")
BIAS_CORRECTION = ("moment", "lr")


def _common_params(lr):
    return (
        Param("lr", lr, "learning rate gamma of the z step (the peak of the built-in warm-up)", low=0.0,
              low_open=True),
    )


def _tail_params():
    return (
        Param("weight_decay", 0.0, "coupled weight decay lambda, at the point decay_at", low=0.0),
        Param("warmup_steps", 0, "length W of the built-in linear warm-up (0: none)", kind="int", low=0),
        Param("r", 0.0, "power r of the polynomial weighting t**r of the average", low=0.0),
        Param("weight_lr_power", 2.0, "power p of the largest lr so far in the averaging weight", low=0.0),
        Param("warmup_index", "one_based", "warm-up factor of update t (1-based): 'one_based' min(1, t/W) in "
              "the z step and the weight (schedulefree, pytorch-optimizer, the paper); 'optax' min(1, (t-1)/W) "
              "in the z step, min(1, t/W) in the weight (optax.contrib)", kind="choice", choices=WARMUP_INDEX),
        Param("decay_at", "y", "where weight decay is evaluated: 'y' (schedulefree, optax) or 'z' "
              "(schedulefree's reference implementation with decay_at_z)", kind="choice", choices=DECAY_AT),
    )


SGD_PARAMS = _common_params(1.0) + (
    Param("momentum", 0.9, "interpolation beta of y between z and x", low=0.0, high=1.0, low_open=True,
          high_open=True),
) + _tail_params()
ADAMW_PARAMS = _common_params(0.0025) + (
    Param("beta1", 0.9, "interpolation beta1 of y between z and x", low=0.0, high=1.0, low_open=True,
          high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "added to the root of the second moment", low=0.0),
    Param("eps_root", 0.0, "added to the second moment inside the root (pytorch-optimizer: 1e-15)", low=0.0),
) + _tail_params() + (
    Param("bias_correction", "moment", "where Adam's bias correction 1 - beta2**t goes: 'moment' divides v "
          "(schedulefree's AdamWScheduleFree, optax, pytorch-optimizer); 'lr' multiplies the lr by its root, in "
          "the step and the weight (the paper's Algorithm 1, AdamWScheduleFreePaper)", kind="choice",
          choices=BIAS_CORRECTION),
)

HS = param_layout(SGD_PARAMS, "SFSGDParams")
HA = param_layout(ADAMW_PARAMS, "SFAdamWParams")
SGD_SLOTS = ("z", "y")
ADAMW_SLOTS = ("z", "y", "exp_avg_sq")
SS = layout(SGD_SLOTS, "SFSGDSlots")
SA = layout(ADAMW_SLOTS, "SFAdamWSlots")
SCALARS = ("lr_t", "lr_max", "weight_sum", "c")
SC = layout(SCALARS, "SFScalars")


@njit(cache=True, inline="always")
def warmup_factor(t, w):
    """min(1, t / w), 1 for w = 0 (t may be 0)."""
    if w <= 0.0 or t >= w:
        return 1.0
    return t / w


@njit(cache=True, inline="always")
def average_weight(sc, t, lr_w, r, power):
    """Update the scalars for the weight of update t with warmed-up rate ``lr_w``; return c_t."""
    lr_max = max(lr_w, sc[SC.lr_max])
    sc[SC.lr_max] = lr_max
    weight = (float(t) ** r) * (lr_max ** power)
    ws = sc[SC.weight_sum] + weight
    sc[SC.weight_sum] = ws
    c = weight / ws if ws != 0.0 else 0.0
    sc[SC.c] = c
    return c


@njit(cache=True)
def sf_init(x, S, sc, hp):
    for i in range(x.shape[0]):
        S[SS.z, i] = x[i]
        S[SS.y, i] = x[i]


@njit(cache=True)
def sf_lookahead(x, S, sc, t, hp, y):
    for i in range(x.shape[0]):
        y[i] = S[SS.y, i]


@njit(cache=True)
def sf_sgd_step(x, g, S, sc, t, lr, hp):
    beta = hp[HS.momentum]
    wd = hp[HS.weight_decay]
    w = hp[HS.warmup_steps]
    at_z = hp[HS.decay_at] != 0.0
    tf = float(t)
    lr_w = lr * warmup_factor(tf, w)
    lr_t = lr * warmup_factor(tf - 1.0, w) if hp[HS.warmup_index] != 0.0 else lr_w
    sc[SC.lr_t] = lr_t
    c = average_weight(sc, t, lr_w, hp[HS.r], hp[HS.weight_lr_power])
    for i in range(x.shape[0]):
        z = S[SS.z, i]
        gi = g[i]
        if wd != 0.0:
            gi = gi + wd * (z if at_z else S[SS.y, i])
        z = z - lr_t * gi
        xi = (1.0 - c) * x[i] + c * z
        S[SS.z, i] = z
        S[SS.y, i] = (1.0 - beta) * z + beta * xi
        x[i] = xi


@njit(cache=True)
def sf_sgd_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = sc[SC.lr_t]


@njit(cache=True)
def sf_adamw_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[HA.beta1]
    beta2 = hp[HA.beta2]
    eps = hp[HA.eps]
    eps_root = hp[HA.eps_root]
    wd = hp[HA.weight_decay]
    w = hp[HA.warmup_steps]
    at_z = hp[HA.decay_at] != 0.0
    in_lr = hp[HA.bias_correction] != 0.0
    tf = float(t)
    bc2 = 1.0 - beta2 ** tf
    lr_w = lr * warmup_factor(tf, w)
    lr_t = lr * warmup_factor(tf - 1.0, w) if hp[HA.warmup_index] != 0.0 else lr_w
    if in_lr:
        root = math.sqrt(bc2)
        lr_w = lr_w * root
        lr_t = lr_t * root
    sc[SC.lr_t] = lr_t
    c = average_weight(sc, t, lr_w, hp[HA.r], hp[HA.weight_lr_power])
    for i in range(x.shape[0]):
        gi = g[i]
        v = beta2 * S[SA.exp_avg_sq, i] + (1.0 - beta2) * gi * gi
        S[SA.exp_avg_sq, i] = v
        den = math.sqrt((v if in_lr else v / bc2) + eps_root) + eps
        z = S[SA.z, i]
        u = gi / den
        if wd != 0.0:
            u = u + wd * (z if at_z else S[SA.y, i])
        z = z - lr_t * u
        xi = (1.0 - c) * x[i] + c * z
        S[SA.z, i] = z
        S[SA.y, i] = (1.0 - beta1) * z + beta1 * xi
        x[i] = xi


@njit(cache=True)
def sf_adamw_eff_lr(S, sc, t, lr, hp, out):
    beta2 = hp[HA.beta2]
    bc2 = 1.0 - beta2 ** float(max(t, 1))
    in_lr = hp[HA.bias_correction] != 0.0
    for i in range(out.shape[0]):
        v = S[SA.exp_avg_sq, i]
        out[i] = sc[SC.lr_t] / (math.sqrt((v if in_lr else v / bc2) + hp[HA.eps_root]) + hp[HA.eps])


_SHARED_DOC = r"""
    With :math:`\eta_t` = the scheduled ``lr`` of update :math:`t` (1-based), :math:`W` =
    ``warmup_steps``, :math:`r` = ``r``, :math:`p` = ``weight_lr_power``, :math:`\lambda` =
    ``weight_decay``, the built-in warm-up and the averaging weight are

    .. math::

        \gamma_t &= \eta_t \min(1, t/W) \quad\text{(``warmup_index='optax'``: }
                    \eta_t \min(1, (t-1)/W)\text{ in the z step)} \\
        \bar\gamma_t &= \max(\bar\gamma_{t-1}, \eta_t \min(1, t/W)), \qquad
        c_t = \frac{t^r \bar\gamma_t^{\,p}}{\sum_{i \le t} i^r \bar\gamma_i^{\,p}}
        \quad (0 \text{ when the sum is } 0)

    and the three sequences, from :math:`x_0 = y_0 = z_0` = the starting point, are

    .. math::

        z_t &= z_{t-1} - \gamma_t\, u_t \\
        x_t &= (1 - c_t)\, x_{t-1} + c_t\, z_t \\
        y_t &= (1 - \beta)\, z_t + \beta\, x_t

    where the gradient :math:`g_t = \nabla f(y_{t-1})` is observed at :math:`y_{t-1}` (the
    ``lookahead`` kernel: the engine evaluates the problem and the noise there).  The
    engine's parameter is :math:`x`: ``params``, ``loss``, ``distance`` and the final loss
    are those of the average, as a user evaluates after ``optimizer.eval()`` (schedulefree)
    or ``schedule_free_eval_params`` (optax).  The gradient point :math:`y_t` is the state
    row ``y`` (``record=("params", "state")``), which is what PyTorch keeps in the parameter
    during training.  ``weight_decay`` adds :math:`\lambda y_{t-1}` to :math:`u_t` (or
    :math:`\lambda z_{t-1}` with ``decay_at='z'``).  An outer ``schedule`` multiplies the
    warm-up, as a PyTorch scheduler setting the group's lr does; the weight uses the largest
    warmed-up rate so far, so a decaying schedule does not shrink it.

    The libraries agree on the update and differ in the warm-up index: schedulefree and
    pytorch-optimizer warm up both the z step and the weight by :math:`t/W`; optax's
    ``warmup_constant_schedule`` is read at the wrapper's count (from 1) for the weight but
    at the base optimizer's own count (from 0) for the z step, so optax's first z step is
    zero (``warmup_index='optax'``).  schedulefree and pytorch-optimizer update :math:`y` in
    place and recover :math:`x`, optax recovers :math:`x` from :math:`y` and :math:`z`; optsim
    keeps :math:`x` and :math:`z` (the same numbers up to rounding, about 1e-15).

    State: ``z``, ``y``{extra_state}; scalars ``lr_t`` (the last :math:`\gamma_t`),
    ``lr_max`` (:math:`\bar\gamma_t`), ``weight_sum`` and ``c`` (the last :math:`c_t`).

    References: Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, *The Road Less
    Scheduled*, NeurIPS 2024 (arXiv:2405.15682); the authors' package ``schedulefree``
    (github.com/facebookresearch/schedule_free, v1.4); ``optax.contrib.schedule_free``.
"""


class ScheduleFreeSGD(Optimizer):
    __doc__ = r"""Schedule-Free SGD, as ``schedulefree.SGDScheduleFree`` and
    ``optax.contrib.schedule_free_sgd``.

    :math:`\beta` = ``momentum``; the base step is SGD, :math:`u_t = g_t + \lambda y_{t-1}`.
    ``eff_lr`` is :math:`\gamma_t`.
""" + _SHARED_DOC.replace("{extra_state}", "")

    name = "schedule_free_sgd"
    params = SGD_PARAMS
    slots = len(SGD_SLOTS)
    slot_names = SGD_SLOTS
    scalar_names = SCALARS
    momentum_param = "momentum"
    schedulable = ("momentum", "weight_decay")
    elementwise = True  # the scalars depend only on t, lr and hp
    kernels = {"init": sf_init, "step": sf_sgd_step, "eff_lr": sf_sgd_eff_lr, "lookahead": sf_lookahead}


class ScheduleFreeAdamW(Optimizer):
    __doc__ = r"""Schedule-Free AdamW, as ``schedulefree.AdamWScheduleFree``,
    ``optax.contrib.schedule_free_adamw`` and ``pytorch_optimizer.ScheduleFreeAdamW``.

    :math:`\beta` = ``beta1``, :math:`\beta_2` = ``beta2``, :math:`\epsilon` = ``eps``; the
    base step is Adam without momentum:

    .. math::

        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \qquad
        u_t = \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t) + \epsilon_r} + \epsilon} + \lambda y_{t-1}

    with :math:`\epsilon_r` = ``eps_root``, 0 as in schedulefree and optax;
    pytorch-optimizer's ``ScheduleFreeAdamW`` adds 1e-15 there (``eps_root=1e-15``).

    With ``bias_correction='lr'`` (the paper's Algorithm 1, schedulefree's
    ``AdamWScheduleFreePaper``) the denominator is :math:`\sqrt{v_t} + \epsilon` and both
    :math:`\gamma_t` and the rate in the weight carry the factor :math:`\sqrt{1-\beta_2^t}`,
    which changes the averaging weights.
    ``eff_lr`` is :math:`\gamma_t` over the denominator.
""" + _SHARED_DOC.replace("{extra_state}", ", ``exp_avg_sq`` (:math:`v`)")

    name = "schedule_free_adamw"
    params = ADAMW_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    slots = len(ADAMW_SLOTS)
    slot_names = ADAMW_SLOTS
    scalar_names = SCALARS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "eps", "eps_root", "weight_decay")
    elementwise = True
    kernels = {"init": sf_init, "step": sf_adamw_step, "eff_lr": sf_adamw_eff_lr, "lookahead": sf_lookahead}
