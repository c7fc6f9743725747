"""ADOPT (Taniguchi et al. 2024): Adam's momentum of the gradient normalized by the *previous*
second moment, with the clipping of the paper's later versions."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["ADOPT", "CLIP_STEPS"]

CLIP_STEPS = ("previous", "current")

ADOPT_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the momentum of the normalized gradient", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.9999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-6, "floor of sqrt(v) in the normalization", low=0.0),
    Param("clip", True, "clip the normalized gradient to [-c_t, c_t], c_t = s^clip_exponent", kind="bool"),
    Param("clip_exponent", 0.25, "exponent p of the clipping value s^p", low=0.0),
    Param("clip_step", "previous", "the step index s of the clipping value: t-1 (the authors' code, "
          "optax.contrib) or t (pytorch-optimizer)", kind="choice", choices=CLIP_STEPS),
    Param("weight_decay", 0.0, "L2 (coupled) or decoupled decay coefficient", low=0.0),
    Param("decouple", False, "decoupled decay x <- x (1 - lr wd) instead of L2 in the gradient", kind="bool"),
    Param("decay_first_step", False, "apply the decoupled decay on the first step too (pytorch-optimizer)",
          kind="bool"),
    Param("fixed_decay", False, "decoupled decay x <- x (1 - wd), without lr (pytorch-optimizer)", kind="bool"),
    Param("nesterov", False, "step along the EMA taken twice, b1 m_t + (1-b1) n_t (optax.contrib)", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
ADOPT_SLOTS = ("m", "v")
H = param_layout(ADOPT_PARAMS, "AdoptParams")
M = layout(ADOPT_SLOTS, "AdoptSlots")


@njit(cache=True)
def adopt_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    maximize = hp[H.maximize] != 0.0
    decouple = hp[H.decouple] != 0.0
    first = t == 1
    shrink = 1.0 - wd * (1.0 if hp[H.fixed_decay] != 0.0 else lr)
    decay_now = wd != 0.0 and decouple and (not first or hp[H.decay_first_step] != 0.0)
    clip = hp[H.clip] != 0.0
    s = float(t - 1) if hp[H.clip_step] == 0.0 else float(t)
    c = s ** hp[H.clip_exponent]
    nesterov = hp[H.nesterov] != 0.0
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0 and not decouple:
            gi = gi + wd * x[i]
        if decay_now:
            x[i] = x[i] * shrink
        v_prev = S[M.v, i]
        if first:
            S[M.v, i] = gi * gi
            continue
        n = gi / max(math.sqrt(v_prev), eps)
        if clip:
            n = min(max(n, -c), c)
        m = beta1 * S[M.m, i] + (1.0 - beta1) * n
        S[M.m, i] = m
        S[M.v, i] = beta2 * v_prev + (1.0 - beta2) * gi * gi
        u = beta1 * m + (1.0 - beta1) * n if nesterov else m
        x[i] = x[i] - lr * u


@njit(cache=True)
def adopt_eff_lr(S, sc, t, lr, hp, out):
    eps = hp[H.eps]
    for i in range(out.shape[0]):
        out[i] = lr / max(math.sqrt(S[M.v, i]), eps)


class ADOPT(Optimizer):
    r"""ADOPT, in the authors' form by default (``adopt.ADOPT``, github.com/iShohei220/adopt).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``,
    ``beta2`` (or ``betas``), :math:`\epsilon` = ``eps``, :math:`p` = ``clip_exponent``: the
    first step only sets :math:`v_1 = g_1^2` (the parameters do not move); from then on

    .. math::

        n_t &= \operatorname{clip}\!\big(g_t / \max(\sqrt{v_{t-1}}, \epsilon),\ -c_t,\ c_t\big),
        \qquad c_t = s^p \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) n_t, \qquad x_t = x_{t-1} - \eta_t m_t \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2

    with :math:`m_1 = 0`.  The gradient of step :math:`t` is normalized by the second moment
    *before* it, :math:`v_{t-1}`, so that :math:`g_t` and its normalization are independent
    (the paper's fix of Adam's non-convergence for any :math:`\beta_2`).

    Options (where the implementations differ):

    - ``clip`` (default True; the paper's later versions and every library) and
      ``clip_exponent`` :math:`p` (0.25): with ``clip=False`` the rule is the paper's first
      version, without clipping.
    - ``clip_step``: the step index :math:`s` in :math:`c_t = s^p`.  ``'previous'``,
      :math:`s = t - 1` (the authors' ``clip_lambda(step)`` with their 0-based ``step``, and
      ``optax.contrib.adopt``'s ``clip_value_fn(count)``), or ``'current'``, :math:`s = t`
      (``pytorch_optimizer.ADOPT``, whose ``group['step']`` is already 1-based).  The two
      differ most at the second step, where the clip is 1 against :math:`2^{1/4}`.
    - ``weight_decay`` :math:`\lambda` with ``decouple``: coupled L2, :math:`g_t + \lambda
      x_{t-1}` (on every step, the first included, in every implementation), or decoupled
      :math:`x \leftarrow x(1 - \eta_t\lambda)` before the step (the authors' ``decouple=True``
      and pytorch-optimizer's ``weight_decouple=True``).  The authors skip the decoupled
      decay on the first step; pytorch-optimizer applies it there too
      (``decay_first_step=True``), and its ``fixed_decay=True`` drops :math:`\eta_t`,
      :math:`x \leftarrow x(1-\lambda)`.  optax.contrib's ADOPT has no weight decay.
    - ``nesterov``: step along :math:`\beta_1 m_t + (1-\beta_1) n_t` (``optax.contrib.adopt``'s
      ``nesterov=True``).
    - ``maximize``: negate the gradient first.

    State (``slot_names``): ``m``, ``v``.  ``eff_lr`` is
    :math:`\eta_t / \max(\sqrt{v_t}, \epsilon)`: the rate at which the next gradient enters
    the momentum, times :math:`1/(1-\beta_1)`.

    References: S. Taniguchi, K. Harada, G. Minegishi, Y. Oshima, S. C. Jeong, G. Nagahara,
    T. Iiyama, M. Suzuki, Y. Iwasawa, Y. Matsuo, *ADOPT: Modified Adam Can Converge with
    Any* :math:`\beta_2` *with the Optimal Rate*, NeurIPS 2024 (arXiv:2411.02853; clipping
    from its v2).
    """

    name = "adopt"
    params = ADOPT_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": adopt_step, "eff_lr": adopt_eff_lr}
    slots = len(ADOPT_SLOTS)
    slot_names = ADOPT_SLOTS
    momentum_param = "beta1"
    elementwise = True
