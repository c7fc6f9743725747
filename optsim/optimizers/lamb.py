"""LAMB (You et al. 2019): Adam's update rescaled per parameter block by the trust ratio
||x|| / ||update||.

The ratio takes norms over each of the problem's parameter blocks (``Problem.param_shapes``;
the whole vector when the problem declares none), so LAMB takes the blocks
(``matrix = True``) and advances one trajectory at a time.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init
from .novograd import block_span

__all__ = ["LAMB", "LAMB_BIAS_CORRECTIONS"]

LAMB_BIAS_CORRECTIONS = ("update", "step_size", "none")

LAMB_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-6, "added to sqrt(v_hat) in Adam's update", low=0.0),
    Param("eps_root", 0.0, "added to v_hat inside the square root (optax)", low=0.0),
    Param("weight_decay", 0.0, "decay coefficient", low=0.0),
    Param("weight_decouple", False, "decay x <- x (1 - lr wd) before the step, outside the ratio "
          "(pytorch-optimizer's default), instead of wd x added to the update inside it (the paper, optax)",
          kind="bool"),
    Param("fixed_decay", False, "decoupled decay x <- x (1 - wd), without lr", kind="bool"),
    Param("bias_correction", "update", "Adam's corrections in the update, before the ratio (the paper, optax); "
          "'step_size': only 1/(1 - beta1^t) on the step, after the ratio, and v uncorrected "
          "(pytorch-optimizer); 'none'", kind="choice", choices=LAMB_BIAS_CORRECTIONS),
    Param("grad_averaging", True, "first moment m = beta1 m + (1 - beta1) g (else + g)", kind="bool"),
    Param("max_weight_norm", None, "clip ||x|| to at most this in the ratio (pytorch-optimizer: 10; "
          "None: no clip, as the paper's identity phi and optax)", low=0.0, none_ok=True),
    Param("trust_eps", 0.0, "added to ||update|| in the ratio (pytorch-optimizer: eps; optax: 0)", low=0.0),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
LAMB_SLOTS = ("m", "v", "u", "rate")
H = param_layout(LAMB_PARAMS, "LambParams")
M = layout(LAMB_SLOTS, "LambSlots")


@njit(cache=True)
def lamb_step(x, g, S, sc, t, lr, hp, blocks):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    eps_root = hp[H.eps_root]
    wd = hp[H.weight_decay]
    decouple = hp[H.weight_decouple] != 0.0
    shrink = 1.0 - wd * (1.0 if hp[H.fixed_decay] != 0.0 else lr)
    c1 = 1.0 - beta1 if hp[H.grad_averaging] != 0.0 else 1.0
    mode = int(hp[H.bias_correction])
    bc1 = 1.0 - beta1 ** float(t) if mode != 2 else 1.0
    bc2 = 1.0 - beta2 ** float(t) if mode == 0 else 1.0
    in_update = 1.0 / bc1 if mode == 0 else 1.0
    on_step = 1.0 / bc1 if mode == 1 else 1.0
    max_wn = hp[H.max_weight_norm]
    sign = -1.0 if hp[H.maximize] != 0.0 else 1.0
    for k in range(blocks.shape[0]):
        off, n = block_span(blocks, k)
        wn = 0.0
        un = 0.0
        for i in range(off, off + n):
            gi = sign * g[i]
            if wd != 0.0 and decouple:
                x[i] = x[i] * shrink
            m = beta1 * S[M.m, i] + c1 * gi
            v = beta2 * S[M.v, i] + (1.0 - beta2) * gi * gi
            S[M.m, i] = m
            S[M.v, i] = v
            den = math.sqrt(v / bc2 + eps_root) + eps
            u = (m * in_update) / den
            S[M.rate, i] = in_update / den
            if wd != 0.0 and not decouple:
                u = u + wd * x[i]
            S[M.u, i] = u
            wn += x[i] * x[i]
            un += u * u
        wn = math.sqrt(wn)
        un = math.sqrt(un)
        if max_wn == max_wn:  # not None
            wn = min(wn, max_wn)
        r = 1.0 if wn == 0.0 or un == 0.0 else wn / (un + hp[H.trust_eps])
        step = lr * r * on_step
        for i in range(off, off + n):
            S[M.rate, i] = S[M.rate, i] * step
            x[i] = x[i] - step * S[M.u, i]


@njit(cache=True)
def lamb_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = S[M.rate, i]


class LAMB(Optimizer):
    r"""LAMB, in the paper's form by default (Algorithm 2; ``optax.lamb``).

    For every parameter block :math:`l` (``Problem.param_shapes``; one block when the problem
    declares none), with :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` =
    ``beta1``, ``beta2`` (or ``betas``), :math:`\epsilon` = ``eps``, :math:`\epsilon_r` =
    ``eps_root``, :math:`\lambda` = ``weight_decay``:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        u^l_t &= \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t) + \epsilon_r} + \epsilon} + \lambda x^l_{t-1}, \qquad
        r^l_t = \frac{\phi(\|x^l_{t-1}\|)}{\|u^l_t\| + \epsilon_\tau} \\
        x^l_t &= x^l_{t-1} - \eta_t\, r^l_t\, u^l_t

    with :math:`r^l_t = 1` where :math:`\|x^l\|` or :math:`\|u^l\|` is 0 (both libraries),
    :math:`\phi(z) = \min(z, \gamma)`, :math:`\gamma` = ``max_weight_norm`` (None: the
    identity), :math:`\epsilon_\tau` = ``trust_eps``.

    Options, where ``pytorch_optimizer.Lamb`` differs from the paper and optax (its form is
    ``weight_decouple=True, bias_correction='step_size', max_weight_norm=10,
    trust_eps=eps``):

    - ``weight_decouple``: :math:`x \leftarrow x(1-\eta_t\lambda)` (``fixed_decay``:
      :math:`x(1-\lambda)`) before the step, outside the ratio; the norm
      :math:`\|x^l\|` is then taken after the decay.
    - ``bias_correction='step_size'``: :math:`u` from the uncorrected :math:`m, v`, and the
      step :math:`\eta_t r_t u_t/(1-\beta_1^t)`: the correction of :math:`m` is not cancelled
      by the ratio, and :math:`v` is never corrected.  ``'none'``: no correction at all.
    - ``grad_averaging=False``: :math:`m_t = \beta_1 m_{t-1} + g_t` (pytorch-optimizer's).
    - ``max_weight_norm`` (pytorch-optimizer clamps :math:`\|x\|` at 10), ``trust_eps``
      (pytorch-optimizer adds ``eps`` to :math:`\|u\|`; optax nothing).
    - ``maximize`` negates the gradient.

    Not covered: pytorch-optimizer's ``rectify``, ``pre_norm`` (a global gradient-norm
    clipping) and ``adam`` (ratio 1) switches, and optax's ``min_norm`` of
    ``scale_by_trust_ratio`` (0 in ``optax.lamb``).

    State (``slot_names``): ``m``, ``v``, and scratch rows ``u`` (the block's update before
    the ratio) and ``rate`` (``eff_lr``: the last step was ``rate * m`` plus the decay term).

    References: Y. You, J. Li, S. Reddi, J. Hseu, S. Kumar, S. Bhojanapalli, X. Song,
    J. Demmel, K. Keutzer, C.-J. Hsieh, *Large Batch Optimization for Deep Learning: Training
    BERT in 76 minutes*, ICLR 2020 (arXiv:1904.00962).
    """

    name = "lamb"
    params = LAMB_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": lamb_step, "eff_lr": lamb_eff_lr}
    slots = len(LAMB_SLOTS)
    slot_names = LAMB_SLOTS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "eps", "weight_decay")
    matrix = True  # the trust ratio takes norms over each parameter block
