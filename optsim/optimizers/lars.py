"""LARS (You, Gitman & Ginsburg 2017): SGD with momentum whose gradient is rescaled per
parameter block by the trust ratio eta ||x|| / (||g|| + wd ||x||).

The ratio takes norms over each of the problem's parameter blocks (``Problem.param_shapes``;
the whole vector when the problem declares none), so LARS takes the blocks (``matrix = True``)
and advances one trajectory at a time.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init
from .novograd import BL, block_span

__all__ = ["LARS", "LARS_RATIO_FORMS"]

LARS_RATIO_FORMS = ("paper", "update")

LARS_PARAMS = (
    Param("lr", 1e-3, "learning rate (the global rate gamma)", low=0.0, low_open=True),
    Param("momentum", 0.9, "momentum of the buffer", low=0.0, high=1.0, high_open=True),
    Param("dampening", 0.0, "the new term enters the buffer times 1 - dampening", low=0.0, high=1.0),
    Param("nesterov", False, "step along u + momentum * buffer", kind="bool"),
    Param("weight_decay", 0.0, "L2 coefficient beta, in the gradient and in the ratio", low=0.0),
    Param("trust_coefficient", 1e-3, "trust coefficient eta of the ratio", low=0.0, low_open=True),
    Param("eps", 0.0, "added to the ratio's denominator", low=0.0),
    Param("ratio_form", "paper", "the ratio's denominator: ||g|| + wd ||x|| (the paper, pytorch-optimizer) or "
          "||g + wd x|| (optax)", kind="choice", choices=LARS_RATIO_FORMS),
    Param("lr_in_buffer", False, "the buffer accumulates lr times the scaled gradient (the paper, optax) "
          "instead of the scaled gradient, stepped times lr (pytorch-optimizer)", kind="bool"),
    Param("exclude_vectors", False, "vector blocks (biases) take plain momentum SGD, without ratio or decay "
          "(pytorch-optimizer scales only parameters of two or more dimensions)", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
LARS_SLOTS = ("buf", "rate")
H = param_layout(LARS_PARAMS, "LarsParams")
M = layout(LARS_SLOTS, "LarsSlots")


@njit(cache=True)
def lars_step(x, g, S, sc, t, lr, hp, blocks):
    mu = hp[H.momentum]
    keep = 1.0 - hp[H.dampening]
    nesterov = hp[H.nesterov] != 0.0
    wd = hp[H.weight_decay]
    tc = hp[H.trust_coefficient]
    eps = hp[H.eps]
    paper = hp[H.ratio_form] == 0.0
    inside = hp[H.lr_in_buffer] != 0.0
    exclude = hp[H.exclude_vectors] != 0.0
    sign = -1.0 if hp[H.maximize] != 0.0 else 1.0
    for k in range(blocks.shape[0]):
        off, n = block_span(blocks, k)
        scaled = not (exclude and blocks[k, BL.cols] == 0)
        r = 1.0
        lam = 0.0
        if scaled:
            lam = wd
            wn = 0.0
            gn = 0.0
            for i in range(off, off + n):
                gi = sign * g[i]
                wn += x[i] * x[i]
                d = gi if paper else gi + wd * x[i]
                gn += d * d
            wn = math.sqrt(wn)
            gn = math.sqrt(gn)
            if paper:
                den = gn + wd * wn + eps
                r = 1.0 if wn == 0.0 or den == 0.0 else tc * wn / den
            else:
                r = 1.0 if wn == 0.0 or gn == 0.0 else tc * wn / (gn + eps)
        for i in range(off, off + n):
            u = (sign * g[i] + lam * x[i]) * r
            S[M.rate, i] = lr * r
            if inside:
                u = lr * u
            if mu > 0.0:
                b = mu * S[M.buf, i] + keep * u
                S[M.buf, i] = b
                d = u + mu * b if nesterov else b
            else:
                d = u
            x[i] = x[i] - d if inside else x[i] - lr * d


@njit(cache=True)
def lars_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = S[M.rate, i]


class LARS(Optimizer):
    r"""LARS, with the paper's trust ratio by default (as ``pytorch_optimizer.LARS``).

    For every parameter block :math:`l` (``Problem.param_shapes``; one block when the problem
    declares none), with :math:`\gamma_t` = the scheduled ``lr``, :math:`\eta` =
    ``trust_coefficient``, :math:`\beta` = ``weight_decay``, :math:`\mu` = ``momentum``,
    :math:`\tau` = ``dampening``, :math:`\epsilon` = ``eps``:

    .. math::

        \lambda^l_t &= \frac{\eta\, \|x^l_{t-1}\|}{\|g^l_t\| + \beta \|x^l_{t-1}\| + \epsilon}, \qquad
        u^l_t = \lambda^l_t\, (g^l_t + \beta x^l_{t-1}) \\
        b_t &= \mu b_{t-1} + (1-\tau) u_t, \qquad x_t = x_{t-1} - \gamma_t\, b_t
        \quad (\text{``nesterov''}: x_t = x_{t-1} - \gamma_t (u_t + \mu b_t))

    with :math:`b_0 = 0` and :math:`\lambda^l_t = 1` where :math:`\|x^l\| = 0` or the
    denominator is 0.

    Options, where the implementations differ:

    - ``ratio_form='update'``: :math:`\lambda = \eta\|x\|/(\|g + \beta x\| + \epsilon)`, 1 where
      either norm is 0 (``optax.lars``'s ``scale_by_trust_ratio`` of the decayed gradient).
    - ``lr_in_buffer``: :math:`b_t = \mu b_{t-1} + (1-\tau)\gamma_t u_t`, :math:`x_t = x_{t-1}
      - b_t` (the paper's Algorithm 1 and optax, whose ``trace`` comes after the learning
      rate); the same numbers at a constant rate, not under a schedule.
    - ``exclude_vectors``: vector blocks get neither the ratio nor the decay
      (pytorch-optimizer treats only parameters of two or more dimensions; optax's masks
      include every parameter by default).  With ``exclude_vectors`` on a problem that
      declares no matrices, LARS is momentum SGD.
    - ``maximize`` negates the gradient.  Defaults: pytorch-optimizer's (lr 1e-3, momentum
      0.9, :math:`\eta` = 1e-3, as optax's).

    State (``slot_names``): ``buf`` (:math:`b`), ``rate`` (``eff_lr``:
    :math:`\gamma_t\lambda^l_t`, the rate of the last gradient).

    References: Y. You, I. Gitman, B. Ginsburg, *Large Batch Training of Convolutional
    Networks*, arXiv:1708.03888, 2017.
    """

    name = "lars"
    params = LARS_PARAMS
    kernels = {"init": no_init, "step": lars_step, "eff_lr": lars_eff_lr}
    slots = len(LARS_SLOTS)
    slot_names = LARS_SLOTS
    momentum_param = "momentum"
    schedulable = ("momentum", "weight_decay", "trust_coefficient")
    matrix = True  # the trust ratio takes norms over each parameter block
