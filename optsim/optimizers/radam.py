"""RAdam (Liu et al. 2020): Adam with the variance of the adaptive learning rate rectified."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ..theory import radam_rect, radam_rho
from ._common import MOMENTS, adam_moments, no_init

__all__ = ["RAdam", "RADAM_COMPARISONS", "RADAM_BELOW", "RADAM_EPS_MODES", "radam_rho", "radam_rect"]

RADAM_COMPARISONS = (">", ">=")
RADAM_BELOW = ("sgd", "none")
RADAM_EPS_MODES = ("sqrt_v", "sqrt_vhat")

RADAM_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "added to the denominator", low=0.0),
    Param("weight_decay", 0.0, "L2 (coupled) or decoupled decay coefficient", low=0.0),
    Param("decoupled_weight_decay", False, "decay x by lr*wd before each step taken", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
    Param("threshold", 5.0, "rectify when rho_t exceeds it (paper 4, torch and optax 5)", low=4.0),
    Param("comparison", ">", "rho_t > threshold (torch) or >= (optax, official code)", kind="choice",
          choices=RADAM_COMPARISONS),
    Param("below", "sgd", "below the threshold: momentum-SGD step (torch, optax) or no update "
          "(official default)", kind="choice", choices=RADAM_BELOW),
    Param("eps_mode", "sqrt_v", "eps on the uncorrected sqrt(v) (torch) or on sqrt(v_hat) (optax)",
          kind="choice", choices=RADAM_EPS_MODES),
)
RADAM_SLOTS = ("m", "v")

H = param_layout(RADAM_PARAMS, "RAdamParams")
M = layout(RADAM_SLOTS, "RAdamSlots")
assert (M.m, M.v) == (MOMENTS.m, MOMENTS.v)  # the rows adam_moments updates


@njit(cache=True, inline="always")
def _phase(t, hp):
    """(rho_inf, rho_t, rectified?) at step t."""
    rho_inf, rho_t = radam_rho(t, hp[H.beta2])
    threshold = hp[H.threshold]
    if hp[H.comparison] == 0.0:
        rectified = rho_t > threshold
    else:
        rectified = rho_t >= threshold
    return rho_inf, rho_t, rectified


@njit(cache=True)
def radam_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    decoupled = hp[H.decoupled_weight_decay] != 0.0
    maximize = hp[H.maximize] != 0.0
    skip = hp[H.below] != 0.0
    eps_vhat = hp[H.eps_mode] != 0.0
    bc1 = 1.0 - beta1 ** float(t)
    bc2 = 1.0 - beta2 ** float(t)
    sqrt_bc2 = math.sqrt(bc2)
    rho_inf, rho_t, rectified = _phase(t, hp)
    update = rectified or not skip
    rect = radam_rect(rho_t, rho_inf) if rectified else 0.0
    if not maximize and wd == 0.0 and not eps_vhat:
        # the common case (PyTorch's form) as loops without branches, which the compiler
        # vectorizes (the same operations in the same order as the general loop below)
        if rectified:
            for i in range(x.shape[0]):
                gi = g[i]
                m, v = adam_moments(S, i, gi, beta1, beta2)
                x[i] = x[i] - m / bc1 * lr * (sqrt_bc2 / (math.sqrt(v) + eps)) * rect
        else:
            for i in range(x.shape[0]):
                gi = g[i]
                m, v = adam_moments(S, i, gi, beta1, beta2)
                if update:
                    x[i] = x[i] - m / bc1 * lr
        return
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            if decoupled:
                if update:  # the official code decays only when it takes a step
                    x[i] = x[i] * (1.0 - lr * wd)
            else:
                gi = gi + wd * x[i]
        m, v = adam_moments(S, i, gi, beta1, beta2)
        m_hat = m / bc1
        if rectified:
            if eps_vhat:  # optax: eps on sqrt(v_hat)
                x[i] = x[i] - lr * (rect * m_hat / (math.sqrt(v / bc2) + eps))
            else:  # torch, official: eps on the uncorrected sqrt(v), times sqrt(1 - beta2^t)
                x[i] = x[i] - m_hat * lr * (sqrt_bc2 / (math.sqrt(v) + eps)) * rect
        elif update:
            x[i] = x[i] - m_hat * lr


@njit(cache=True)
def radam_eff_lr(S, sc, t, lr, hp, out):
    t = max(t, 1)
    bc1 = 1.0 - hp[H.beta1] ** float(t)
    bc2 = 1.0 - hp[H.beta2] ** float(t)
    eps = hp[H.eps]
    rho_inf, rho_t, rectified = _phase(t, hp)
    for i in range(out.shape[0]):
        if rectified:
            rect = radam_rect(rho_t, rho_inf)
            if hp[H.eps_mode] != 0.0:
                out[i] = lr / bc1 * rect / (math.sqrt(S[M.v, i] / bc2) + eps)
            else:
                out[i] = lr / bc1 * rect * math.sqrt(bc2) / (math.sqrt(S[M.v, i]) + eps)
        elif hp[H.below] == 0.0:
            out[i] = lr / bc1
        else:
            out[i] = 0.0


class RAdam(Optimizer):
    r"""Rectified Adam, in PyTorch's form by default (``torch.optim.RAdam``).

    With :math:`\eta_t` the scheduled ``lr``, moments :math:`m_t, v_t` as in Adam and
    :math:`\hat m_t = m_t/(1-\beta_1^t)`:

    .. math::

        \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t} \\
        r_t &= \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},
        \qquad l_t = \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} \\
        x_t &= x_{t-1} - \eta_t\, r_t\, l_t\, \hat m_t \quad \text{if } \rho_t > \tau,
        \qquad\text{otherwise}\quad x_t = x_{t-1} - \eta_t \hat m_t

    Options (``threshold`` :math:`\tau` = 5 by default):

    - ``comparison``: ``'>'`` (torch, hard-coded :math:`\rho_t > 5`) or ``'>='``
      (``optax.radam``'s ``ro >= threshold``; the official repository's ``N_sma >= 5``).
      The paper's Algorithm 2 uses :math:`\rho_t > 4` (``threshold=4``).
    - ``below``: ``'sgd'`` takes the un-adapted momentum-SGD step
      :math:`\eta_t \hat m_t` while :math:`\rho_t` is below the threshold (torch, optax,
      official ``degenerated_to_sgd=True``); ``'none'`` applies no update at all (the
      official repository's default ``degenerated_to_sgd=False``).  The moments are updated
      either way.
    - ``eps_mode``: ``'sqrt_v'`` puts eps on the uncorrected :math:`\sqrt{v_t}` as
      :math:`l_t` above (torch, official); ``'sqrt_vhat'`` uses
      :math:`r_t \hat m_t/(\sqrt{\hat v_t} + \epsilon)` (optax).
    - ``weight_decay``: coupled L2 (torch default) or, with ``decoupled_weight_decay``,
      :math:`x \leftarrow x(1-\eta_t\lambda)` before the step (torch's option, the official
      code) -- only on steps that update, so never below the threshold with ``below='none'``.
    - ``maximize``: negate the gradient first.

    For :math:`\beta_2 = 0.999`, :math:`\rho_t` first exceeds 4 at t = 5 and 5 at t = 6
    (:math:`\rho_5 \approx 4.99`, :math:`\rho_6 \approx 5.99`).
    State (``slot_names``): ``m``, ``v``.  ``eff_lr``: the step is ``eff_lr * m``
    (:math:`\eta_t r_t l_t/(1-\beta_1^t)`, :math:`\eta_t/(1-\beta_1^t)` or 0).

    References: Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*,
    ICLR 2020; LiyuanLucasLiu/RAdam ``radam/radam.py``; ``torch.optim.RAdam``; ``optax.radam``.
    """

    name = "radam"
    params = RADAM_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": radam_step, "eff_lr": radam_eff_lr}
    slots = 2
    elementwise = True
    slot_names = RADAM_SLOTS
    momentum_param = "beta1"
