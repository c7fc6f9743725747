"""LaProp (Ziyin et al. 2020): normalize the gradient by the second moment first, then take
its momentum, so that momentum and adaptivity are decoupled."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["LaProp", "LAPROP_EPS_MODES"]

LAPROP_EPS_MODES = ("sqrt_vhat", "sqrt_v")

LAPROP_PARAMS = (
    Param("lr", 4e-4, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the momentum of the normalized gradient", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-15, "added to the square root in the denominator", low=0.0),
    Param("eps_mode", "sqrt_vhat", "eps on sqrt(v_hat) (the authors) or on the uncorrected sqrt(v), "
          "(sqrt(v) + eps) / sqrt(1 - beta2^t) (pytorch-optimizer)", kind="choice", choices=LAPROP_EPS_MODES),
    Param("eps_root", 0.0, "added to v inside the square root (pytorch-optimizer: 1e-15)", low=0.0),
    Param("weight_decay", 0.0, "decay coefficient, applied after the step", low=0.0),
    Param("weight_decouple", True, "decay the parameters after the step (else L2 in the gradient)", kind="bool"),
    Param("fixed_decay", True, "decoupled decay x <- x (1 - wd) (the authors) instead of x (1 - lr wd) "
          "(pytorch-optimizer's default)", kind="bool"),
    Param("centered", False, "normalize by the variance v - mu^2 after steps_before_using_centered steps",
          kind="bool"),
    Param("steps_before_using_centered", 10, "centered: the steps normalized by v before the variance is used",
          kind="int", low=0),
    Param("amsgrad", False, "normalize by the running max of the second moment", kind="bool"),
    Param("ams_during_centered_warmup", False, "amsgrad with centered: take the max during the first "
          "steps_before_using_centered steps too (pytorch-optimizer; the authors do not)", kind="bool"),
    Param("lr_weighted_correction", True, "the momentum's bias correction is the EMA of the learning rates "
          "over lr_t (the authors' code, pytorch-optimizer); else 1 - beta1^t (the paper)", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
LAPROP_SLOTS = ("m", "v", "mu", "v_max")
H = param_layout(LAPROP_PARAMS, "LaPropParams")
M = layout(LAPROP_SLOTS, "LaPropSlots")
LAPROP_SCALARS = ("lr_avg",)
SC = layout(LAPROP_SCALARS, "LaPropScalars")


@njit(cache=True)
def laprop_init(x, S, sc, hp):
    pass  # S and sc start at zero


@njit(cache=True)
def laprop_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    eps_root = hp[H.eps_root]
    sqrt_v_mode = hp[H.eps_mode] == 1.0
    wd = hp[H.weight_decay]
    decouple = hp[H.weight_decouple] != 0.0
    shrink = 1.0 - wd * (1.0 if hp[H.fixed_decay] != 0.0 else lr)
    maximize = hp[H.maximize] != 0.0
    lr_avg = beta1 * sc[SC.lr_avg] + (1.0 - beta1) * lr
    sc[SC.lr_avg] = lr_avg
    if hp[H.lr_weighted_correction] != 0.0:
        step_size = lr / lr_avg
    else:
        step_size = 1.0 / (1.0 - beta1 ** float(t))
    bc2 = 1.0 - beta2 ** float(t)
    sqrt_bc2 = math.sqrt(bc2)
    centered = hp[H.centered] != 0.0
    use_variance = centered and t > int(hp[H.steps_before_using_centered])
    ams = hp[H.amsgrad] != 0.0 and (not centered or use_variance or hp[H.ams_during_centered_warmup] != 0.0)
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0 and not decouple:
            gi = gi + wd * x[i]
        v = beta2 * S[M.v, i] + (1.0 - beta2) * gi * gi
        S[M.v, i] = v
        second = v
        if centered:
            mu = beta2 * S[M.mu, i] + (1.0 - beta2) * gi
            S[M.mu, i] = mu
            if use_variance:
                second = v - mu * mu
        if ams:
            second = max(S[M.v_max, i], second)
            S[M.v_max, i] = second
        if sqrt_v_mode:
            den = (math.sqrt(second + eps_root) + eps) / sqrt_bc2
        else:
            den = math.sqrt((second + eps_root) / bc2) + eps
        m = beta1 * S[M.m, i] + (1.0 - beta1) * lr * (gi / den)
        S[M.m, i] = m
        x[i] = x[i] - step_size * m
        if wd != 0.0 and decouple:
            x[i] = x[i] * shrink


@njit(cache=True)
def laprop_eff_lr(S, sc, t, lr, hp, out):
    tt = max(t, 1)
    bc2 = 1.0 - hp[H.beta2] ** float(tt)
    for i in range(out.shape[0]):
        vv = S[M.v_max, i] if hp[H.amsgrad] != 0.0 else S[M.v, i]
        if hp[H.eps_mode] == 1.0:
            den = (math.sqrt(vv + hp[H.eps_root]) + hp[H.eps]) / math.sqrt(bc2)
        else:
            den = math.sqrt((vv + hp[H.eps_root]) / bc2) + hp[H.eps]
        out[i] = lr / den


class LaProp(Optimizer):
    r"""LaProp, in the authors' form by default (``laprop.LaProp``, github.com/Z-T-WANG/LaProp-Optimizer).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``,
    ``beta2`` (or ``betas``), :math:`\epsilon` = ``eps``, :math:`\lambda` = ``weight_decay``:

    .. math::

        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, \eta_t\, \frac{g_t}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon} \\
        x_t &= x_{t-1} - m_t / c_t, \qquad
        c_t = L_t/\eta_t,\ L_t = \beta_1 L_{t-1} + (1-\beta_1)\eta_t

    and then :math:`x_t \leftarrow x_t(1 - \lambda)`.  The learning rate is *inside* the
    momentum, and the bias correction :math:`c_t` is the EMA of the learning rates over the
    current one (the authors' ``exp_avg_lr_1``), which is :math:`1-\beta_1^t` at a constant
    rate (``lr_weighted_correction=False`` takes :math:`1-\beta_1^t` always, the paper's
    Algorithm 1).

    Options, where pytorch-optimizer's ``LaProp`` differs from the authors':

    - ``eps_mode='sqrt_v'`` with ``eps_root=1e-15``: pytorch-optimizer's denominator
      :math:`(\sqrt{v_t + 10^{-15}} + \epsilon)/\sqrt{1-\beta_2^t}`.
    - ``fixed_decay``: True (the authors) decays :math:`x(1-\lambda)`; False,
      :math:`x(1-\eta_t\lambda)` (pytorch-optimizer's default).  Both decay after the step.
      ``weight_decouple=False`` is coupled L2, :math:`g + \lambda x` before the moments
      (pytorch-optimizer's ``weight_decouple=False`` adds the term to the gradient only after
      the step has used it, so there it changes nothing).
    - ``centered``: normalize by :math:`v_t - \mu_t^2`, :math:`\mu_t = \beta_2\mu_{t-1} +
      (1-\beta_2)g_t`, from step ``steps_before_using_centered`` + 1 on (10 in both).
    - ``amsgrad``: the running max of the (centered) second moment; with ``centered`` the
      authors start the max only when the variance is used, pytorch-optimizer
      (``ams_bound``) from the first step (``ams_during_centered_warmup=True``).
    - ``maximize``: negate the gradient first.

    State (``slot_names``): ``m``, ``v``, ``mu`` (centered), ``v_max``; the scalar ``lr_avg``
    (:math:`L_t`).  ``eff_lr`` is :math:`\eta_t/(\sqrt{\hat v_t} + \epsilon)`, the rate at
    which the gradient enters the momentum, times :math:`1/(1-\beta_1)`.

    References: L. Ziyin, Z. T. Wang, M. Ueda, *LaProp: Separating Momentum and Adaptivity
    in Adam*, arXiv:2002.04839, 2020.
    """

    name = "laprop"
    params = LAPROP_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": laprop_init, "step": laprop_step, "eff_lr": laprop_eff_lr}
    slots = len(LAPROP_SLOTS)
    slot_names = LAPROP_SLOTS
    scalar_names = LAPROP_SCALARS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "eps", "weight_decay")
    elementwise = True  # the one scalar, lr_avg, depends only on the learning rates: the same in a block
