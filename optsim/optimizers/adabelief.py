"""AdaBelief (Zhuang et al. 2020): Adam whose second moment is the EMA of (g - m)^2, the
"belief" in the observed gradient, with the authors' rectified and decoupled variants."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["AdaBelief"]

ADABELIEF_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the belief s = EMA of (g - m)^2", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-16, "added to sqrt(s_hat) in the denominator", low=0.0),
    Param("eps_root", None, "added to s at every step, inside the square root (None: eps, as the authors; "
          "optax's eps_root)", low=0.0, none_ok=True),
    Param("weight_decay", 0.0, "decoupled or L2 decay coefficient", low=0.0),
    Param("weight_decouple", True, "decoupled decay x <- x (1 - lr wd) (the authors' default) instead of L2",
          kind="bool"),
    Param("fixed_decay", False, "decoupled decay x <- x (1 - wd), without lr", kind="bool"),
    Param("amsgrad", False, "divide by the running max of s", kind="bool"),
    Param("rectify", False, "RAdam's rectification of the step (the authors' package default)", kind="bool"),
    Param("n_sma_threshold", 5.0, "rectify: the length of the SMA from which the adaptive step is taken "
          "(rho_t >= threshold)", low=0.0),
    Param("degenerated_to_sgd", True, "rectify: below the threshold take the momentum step m_hat "
          "(else no step)", kind="bool"),
    Param("nesterov", False, "optax's Nesterov form of m_hat", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
ADABELIEF_SLOTS = ("m", "s", "s_max")
H = param_layout(ADABELIEF_PARAMS, "AdaBeliefParams")
M = layout(ADABELIEF_SLOTS, "AdaBeliefSlots")


@njit(cache=True, inline="always")
def _rectification(t, beta2, threshold):
    """RAdam's (rho_t, r_t) as the authors compute them: r_t includes sqrt(1 - beta2^t)."""
    b2t = beta2 ** float(t)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho = rho_inf - 2.0 * t * b2t / (1.0 - b2t)
    r = 0.0
    if rho >= threshold:
        r = math.sqrt((1.0 - b2t) * (rho - 4.0) / (rho_inf - 4.0) * (rho - 2.0) / rho * rho_inf / (rho_inf - 2.0))
    return rho, r


@njit(cache=True)
def adabelief_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    eps_root = hp[H.eps_root]
    if eps_root != eps_root:  # None: the authors' one eps
        eps_root = eps
    wd = hp[H.weight_decay]
    decouple = hp[H.weight_decouple] != 0.0
    shrink = 1.0 - wd * (1.0 if hp[H.fixed_decay] != 0.0 else lr)
    maximize = hp[H.maximize] != 0.0
    ams = hp[H.amsgrad] != 0.0
    nesterov = hp[H.nesterov] != 0.0
    bc1 = 1.0 - beta1 ** float(t)
    bc1_next = 1.0 - beta1 ** float(t + 1)
    sqrt_bc2 = math.sqrt(1.0 - beta2 ** float(t))
    rectify = hp[H.rectify] != 0.0
    adaptive = True
    step_size = lr / bc1
    if rectify:
        rho, r = _rectification(t, beta2, hp[H.n_sma_threshold])
        if rho >= hp[H.n_sma_threshold]:
            step_size = lr * r / bc1
        else:
            adaptive = False
            if hp[H.degenerated_to_sgd] == 0.0:
                step_size = 0.0
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            if decouple:
                x[i] = x[i] * shrink
            else:
                gi = gi + wd * x[i]
        m = beta1 * S[M.m, i] + (1.0 - beta1) * gi
        S[M.m, i] = m
        d = gi - m
        s = beta2 * S[M.s, i] + (1.0 - beta2) * d * d + eps_root
        S[M.s, i] = s
        if ams:
            s = max(S[M.s_max, i], s)
            S[M.s_max, i] = s
        if nesterov:
            mh = beta1 * m / bc1_next + (1.0 - beta1) * gi / bc1
            num = mh * bc1  # step_size carries 1 / bc1
        else:
            num = m
        if not rectify:
            x[i] = x[i] - step_size * num / (math.sqrt(s) / sqrt_bc2 + eps)
        elif adaptive:
            x[i] = x[i] - step_size * num / (math.sqrt(S[M.s, i]) + eps)
        else:
            x[i] = x[i] - step_size * num


@njit(cache=True)
def adabelief_eff_lr(S, sc, t, lr, hp, out):
    tt = max(t, 1)
    bc1 = 1.0 - hp[H.beta1] ** float(tt)
    sqrt_bc2 = math.sqrt(1.0 - hp[H.beta2] ** float(tt))
    row = M.s_max if hp[H.amsgrad] != 0.0 else M.s
    for i in range(out.shape[0]):
        out[i] = lr / bc1 / (math.sqrt(S[row, i]) / sqrt_bc2 + hp[H.eps])


class AdaBelief(Optimizer):
    r"""AdaBelief, in the paper's form (Algorithm 1) by default; the authors' package
    ``adabelief_pytorch.AdaBelief`` 0.2 with ``rectify=False``, ``pytorch_optimizer.AdaBelief``
    and ``optax.adabelief``.

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``,
    ``beta2`` (or ``betas``), :math:`\epsilon` = ``eps``, :math:`\epsilon_r` = ``eps_root``
    (default :math:`\epsilon`), :math:`\lambda` = ``weight_decay``:

    .. math::

        x &\leftarrow x (1 - \eta_t \lambda) \quad (\text{``weight\_decouple``, the default}) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        s_t = \beta_2 s_{t-1} + (1-\beta_2) (g_t - m_t)^2 + \epsilon_r \\
        x_t &= x_{t-1} - \eta_t\, \frac{m_t / (1-\beta_1^t)}{\sqrt{s_t / (1-\beta_2^t)} + \epsilon}

    :math:`\epsilon_r` is added to the *stored* :math:`s_t` at every step (the paper's
    Algorithm 1, the authors' in-place ``exp_avg_var.add_(eps)``, optax's ``eps_root``), so it
    accumulates to :math:`\epsilon_r/(1-\beta_2)`.

    Options:

    - ``eps_root``: None uses ``eps`` in both places (the authors' one ``eps``, 1e-16 by
      default); ``optax.adabelief`` has the two as ``eps`` and ``eps_root`` (both 1e-16).
    - ``weight_decouple`` (default True, the authors' and pytorch-optimizer's) with
      ``fixed_decay`` (:math:`x(1-\lambda)`), or coupled L2 :math:`g + \lambda x`.  optax's
      AdaBelief has no decay.
    - ``amsgrad``: the max of the stored :math:`s` (including :math:`\epsilon_r`), as the
      authors' ``amsgrad`` and pytorch-optimizer's ``ams_bound``.
    - ``rectify`` (the default of the authors' package, not of the paper, optax or
      pytorch-optimizer): RAdam's step.  With :math:`\rho_\infty = 2/(1-\beta_2) - 1`,
      :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`: where
      :math:`\rho_t \ge` ``n_sma_threshold`` (5; the comparison is ``>=``, torch's RAdam uses
      ``>``) the step is :math:`\eta_t r_t \hat m_t / (\sqrt{s_t} + \epsilon)` with
      :math:`r_t = \sqrt{(1-\beta_2^t)\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}`
      (the bias correction of :math:`s` is inside :math:`r_t`, and ``amsgrad``'s max is not
      used there); below it, :math:`\eta_t \hat m_t` (``degenerated_to_sgd``, default) or no step.
    - ``nesterov``: optax's form :math:`\hat m_t = \beta_1 m_t/(1-\beta_1^{t+1}) +
      (1-\beta_1) g_t/(1-\beta_1^t)`.
    - ``maximize``: negate the gradient first.

    State (``slot_names``): ``m``, ``s``, ``s_max``.  ``eff_lr`` is
    :math:`\eta_t / ((1-\beta_1^t)(\sqrt{s_t/(1-\beta_2^t)} + \epsilon))` (the unrectified rate).

    References: J. Zhuang, T. Tang, Y. Ding, S. Tatikonda, N. Dvornek, X. Papademetris,
    J. Duncan, *AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients*,
    NeurIPS 2020; the authors' code, github.com/juntang-zhuang/Adabelief-Optimizer
    (``adabelief-pytorch``); L. Liu et al., *On the Variance of the Adaptive Learning Rate
    and Beyond*, ICLR 2020 (the rectification).

    .. warning:: ``adabelief_pytorch.AdaBelief()`` defaults to ``rectify=True`` and
       ``weight_decouple=True``; ``pytorch_optimizer.AdaBelief`` to ``rectify=False``.
    """

    name = "adabelief"
    params = ADABELIEF_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": adabelief_step, "eff_lr": adabelief_eff_lr}
    slots = len(ADABELIEF_SLOTS)
    slot_names = ADABELIEF_SLOTS
    momentum_param = "beta1"
    elementwise = True
