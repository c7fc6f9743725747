"""SPAM (Huang et al. 2025): Adam with spike-aware clipping of the gradient and periodic
resets of its moments, each followed by a cosine warm-up of the step."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["SPAM"]

SPAM_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-6, "added to the root of the second moment", low=0.0),
    Param("weight_decay", 0.0, "decoupled weight decay (times lr), after the step", low=0.0),
    Param("threshold", 5000.0, "spike threshold theta: g_i^2 > theta v_i is clipped to sqrt(theta v_i) "
          "(0: no clipping)", low=0.0),
    Param("grad_accu_steps", 20, "no clipping in the first steps of every period", kind="int", low=0),
    Param("update_proj_gap", 500, "the moments are reset every this many steps", kind="int", low=1),
    Param("warmup_epoch", 50, "length W of the cosine warm-up of the step after a reset", kind="int", low=0),
    Param("death_rate", 0.99, "the warm-up scales the step by 1 minus this, rising to 1", low=0.0, high=1.0),
)
H = param_layout(SPAM_PARAMS, "SPAMParams")
SLOTS = ("exp_avg", "exp_avg_sq")
S_ = layout(SLOTS, "SPAMSlots")


@njit(cache=True)
def spam_scale(t, hp):
    """The warm-up factor of step t (1-based): 1 before the first reset, then
    1 - r (1 + cos(pi (c + 1) / (W + 1))) / 2 for the c-th step (0-based) after a reset."""
    gap = hp[H.update_proj_gap]
    w = hp[H.warmup_epoch]
    tf = float(t)
    if tf < gap:
        return 1.0
    c = tf - gap * math.floor(tf / gap)
    if c >= w:
        return 1.0
    return 1.0 - hp[H.death_rate] * (1.0 + math.cos(math.pi * (c + 1.0) / (w + 1.0))) / 2.0


@njit(cache=True)
def spam_init(x, S, sc, hp):
    pass  # the moments start at zero


@njit(cache=True)
def spam_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    theta = hp[H.threshold]
    gap = hp[H.update_proj_gap]
    tf = float(t)
    phase = tf - gap * math.floor(tf / gap)  # t mod gap
    reset = phase == 0.0
    clip = theta != 0.0 and tf >= hp[H.grad_accu_steps] and phase >= hp[H.grad_accu_steps]
    step = lr * math.sqrt(1.0 - beta2 ** tf) / (1.0 - beta1 ** tf) * spam_scale(t, hp)
    shrink = 1.0 - lr * hp[H.weight_decay]
    for i in range(x.shape[0]):
        m = 0.0 if reset else S[S_.exp_avg, i]
        v = 0.0 if reset else S[S_.exp_avg_sq, i]
        gi = g[i]
        if clip and gi * gi > theta * v:
            gi = math.sqrt(v * theta) if gi > 0.0 else -math.sqrt(v * theta)
        m = m + (gi - m) * (1.0 - beta1)
        v = beta2 * v + (1.0 - beta2) * gi * gi
        S[S_.exp_avg, i] = m
        S[S_.exp_avg_sq, i] = v
        x[i] = (x[i] - step * (m / (math.sqrt(v) + eps))) * shrink


@njit(cache=True)
def spam_eff_lr(S, sc, t, lr, hp, out):
    tf = float(max(t, 1))
    step = lr * math.sqrt(1.0 - hp[H.beta2] ** tf) / (1.0 - hp[H.beta1] ** tf) * spam_scale(max(t, 1), hp)
    for i in range(out.shape[0]):
        out[i] = step / (math.sqrt(S[S_.exp_avg_sq, i]) + hp[H.eps])


class SPAM(Optimizer):
    r"""SPAM, spike-aware Adam with momentum reset, as ``pytorch_optimizer.SPAM`` on vectors
    (``density=1``).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``,
    ``beta2`` (or ``betas``), :math:`\epsilon` = ``eps``, :math:`\lambda` = ``weight_decay``,
    :math:`\theta` = ``threshold``, :math:`A` = ``grad_accu_steps``, :math:`P` =
    ``update_proj_gap``, :math:`W` = ``warmup_epoch``, :math:`r` = ``death_rate`` and
    :math:`t` the 1-based step:

    .. math::

        m, v &\leftarrow 0 \quad\text{when } t \bmod P = 0 \text{ (before the step)} \\
        \hat g_{t,i} &= \operatorname{sign}(g_{t,i}) \sqrt{\theta v_{t-1,i}} \quad\text{where }
            g_{t,i}^2 > \theta v_{t-1,i},\ t \ge A,\ t \bmod P \ge A \quad (\text{else } g_{t,i}) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\hat g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\hat g_t^2 \\
        s_t &= 1 - r\,\tfrac12\big(1 + \cos(\pi (c+1)/(W+1))\big) \text{ for the } c\text{-th step
            after a reset } (c < W), \text{ else } 1 \\
        x_t &= \Big(x_{t-1} - \eta_t s_t \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}
            \frac{m_t}{\sqrt{v_t} + \epsilon}\Big)(1 - \eta_t\lambda)

    The bias corrections count from the first step, not from the last reset (as
    pytorch-optimizer); the warm-up factor is torch's ``CosineAnnealingLR`` from
    :math:`r` over :math:`W+1` epochs, which pytorch-optimizer steps recursively (the same up
    to rounding), and there is no warm-up before the first reset.  The random sparse masks
    of 2-D parameters (``density < 1``) are not included.

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v).  ``eff_lr`` is the step over the
    denominator.

    References: Huang, Zhu, Jin, Liu, Wang & Liu, *SPAM: Spike-Aware Adam with Momentum
    Reset for Stable LLM Training*, ICLR 2025 (arXiv:2501.06842); the authors' code,
    github.com/TianjinYellow/SPAM-Optimizer; ``pytorch_optimizer.SPAM``.
    """

    name = "spam"
    params = SPAM_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    slots = len(SLOTS)
    slot_names = SLOTS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "eps", "weight_decay", "threshold")
    elementwise = True
    kernels = {"init": spam_init, "step": spam_step, "eff_lr": spam_eff_lr}
