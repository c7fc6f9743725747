"""Yogi (Zaheer et al. 2018): Adam whose second moment moves by an additive, sign-controlled
step, so that the effective learning rate cannot grow abruptly."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["Yogi"]

YOGI_PARAMS = (
    Param("lr", 1e-2, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "rate of the additive second-moment update", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-3, "added to sqrt(v_hat) in the denominator", low=0.0),
    Param("eps_root", 0.0, "added to v_hat inside the square root (optax's scale_by_yogi)", low=0.0),
    Param("initial_accumulator", 1e-6, "the starting value v_0 of the second moment", low=0.0),
    Param("init_m", True, "start the first moment at initial_accumulator too (optax, pytorch-optimizer) "
          "instead of 0", kind="bool"),
    Param("bias_correction", True, "divide m and v by 1 - beta^t (the libraries; the paper has none)",
          kind="bool"),
    Param("weight_decay", 0.0, "decoupled or L2 decay coefficient", low=0.0),
    Param("weight_decouple", True, "decoupled decay x <- x (1 - lr wd) (pytorch-optimizer) instead of L2",
          kind="bool"),
    Param("fixed_decay", False, "decoupled decay x <- x (1 - wd), without lr", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
YOGI_SLOTS = ("m", "v")
H = param_layout(YOGI_PARAMS, "YogiParams")
M = layout(YOGI_SLOTS, "YogiSlots")


@njit(cache=True)
def yogi_init(x, S, sc, hp):
    v0 = hp[H.initial_accumulator]
    m0 = v0 if hp[H.init_m] != 0.0 else 0.0
    for i in range(x.shape[0]):
        S[M.m, i] = m0
        S[M.v, i] = v0


@njit(cache=True, inline="always")
def _corrections(t, hp):
    if hp[H.bias_correction] == 0.0:
        return 1.0, 1.0
    return 1.0 - hp[H.beta1] ** float(t), math.sqrt(1.0 - hp[H.beta2] ** float(t))


@njit(cache=True)
def yogi_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    eps_root = hp[H.eps_root]
    wd = hp[H.weight_decay]
    decouple = hp[H.weight_decouple] != 0.0
    shrink = 1.0 - wd * (1.0 if hp[H.fixed_decay] != 0.0 else lr)
    maximize = hp[H.maximize] != 0.0
    bc1, sqrt_bc2 = _corrections(t, hp)
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            if decouple:
                x[i] = x[i] * shrink
            else:
                gi = gi + wd * x[i]
        m = beta1 * S[M.m, i] + (1.0 - beta1) * gi
        S[M.m, i] = m
        g2 = gi * gi
        v = S[M.v, i]
        d = v - g2
        sign = 1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)
        v = v - (1.0 - beta2) * sign * g2
        S[M.v, i] = v
        if eps_root == 0.0:
            den = math.sqrt(v) / sqrt_bc2 + eps
        else:
            den = math.sqrt(v / (sqrt_bc2 * sqrt_bc2) + eps_root) + eps
        x[i] = x[i] - lr * (m / bc1) / den


@njit(cache=True)
def yogi_eff_lr(S, sc, t, lr, hp, out):
    bc1, sqrt_bc2 = _corrections(max(t, 1), hp)
    for i in range(out.shape[0]):
        out[i] = lr / bc1 / (math.sqrt(S[M.v, i] / (sqrt_bc2 * sqrt_bc2) + hp[H.eps_root]) + hp[H.eps])


class Yogi(Optimizer):
    r"""Yogi, as ``optax.yogi`` and ``pytorch_optimizer.Yogi``.

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``,
    ``beta2`` (or ``betas``), :math:`\epsilon` = ``eps``, :math:`\epsilon_r` = ``eps_root``,
    :math:`v_0` = ``initial_accumulator``:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        v_t &= v_{t-1} - (1-\beta_2)\, \operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2 \\
        x_t &= x_{t-1} - \eta_t\, \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t) + \epsilon_r} + \epsilon}

    with :math:`\operatorname{sign}(0) = 0`, and :math:`m_0 = v_0` (both libraries start both
    moments at ``initial_accumulator``, 1e-6; ``init_m=False`` starts :math:`m` at 0).

    Options: ``bias_correction=False`` drops both :math:`1-\beta^t` factors (the paper's
    Algorithm 2 has none; both libraries have them); ``eps_root`` is optax's
    ``scale_by_yogi(eps_root=...)`` (``optax.yogi`` leaves it 0); ``weight_decay`` with
    ``weight_decouple`` (default True: :math:`x \leftarrow x(1-\eta_t\lambda)` before the
    step, pytorch-optimizer's default), ``fixed_decay`` (:math:`x(1-\lambda)`) or coupled L2;
    optax's Yogi has no decay.  ``maximize`` negates the gradient first.  The defaults are the
    libraries' (lr 1e-2 as pytorch-optimizer, eps 1e-3).

    State (``slot_names``): ``m``, ``v``.  ``eff_lr`` is
    :math:`\eta_t/((1-\beta_1^t)(\sqrt{\hat v_t + \epsilon_r} + \epsilon))`.

    References: M. Zaheer, S. Reddi, D. Sachan, S. Kale, S. Kumar, *Adaptive Methods for
    Nonconvex Optimization*, NeurIPS 2018.
    """

    name = "yogi"
    params = YOGI_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": yogi_init, "step": yogi_step, "eff_lr": yogi_eff_lr}
    slots = len(YOGI_SLOTS)
    slot_names = YOGI_SLOTS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "eps", "eps_root", "weight_decay")
    elementwise = True
