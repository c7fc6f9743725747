"""NovoGrad (Ginsburg et al. 2019): a layer-wise second moment, one number per parameter
block, that normalizes the gradient before the momentum.

The second moment sums over each of the problem's parameter blocks (``Problem.param_shapes``:
one block, the whole vector, unless the problem declares layers), so NovoGrad takes the
blocks (``matrix = True``) and advances one trajectory at a time.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["NovoGrad", "block_span"]

NOVOGRAD_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.95, "decay of the momentum", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.98, "decay of each block's second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "added to the square root of the block's second moment", low=0.0),
    Param("eps_root", 0.0, "added to the block's second moment inside the square root (optax)", low=0.0),
    Param("weight_decay", 0.0, "decay coefficient", low=0.0),
    Param("weight_decouple", False, "decoupled decay x <- x (1 - lr wd) before the step, instead of "
          "wd x added to the normalized gradient (the paper, optax, pytorch-optimizer's default)", kind="bool"),
    Param("fixed_decay", False, "decoupled decay x <- x (1 - wd), without lr", kind="bool"),
    Param("grad_averaging", False, "momentum m = beta1 m + (1 - beta1) n after the first step "
          "(pytorch-optimizer's grad_averaging)", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
NOVOGRAD_SLOTS = ("m", "v")
H = param_layout(NOVOGRAD_PARAMS, "NovoGradParams")
M = layout(NOVOGRAD_SLOTS, "NovoGradSlots")
BL = layout(("offset", "rows", "cols"), "ParamBlock")


@njit(cache=True, inline="always")
def block_span(blocks, k):
    """(first coordinate, number of coordinates) of block ``k`` of ``Problem.param_blocks``."""
    r = blocks[k, BL.rows]
    c = blocks[k, BL.cols]
    return blocks[k, BL.offset], r * c if c > 0 else r


@njit(cache=True)
def novograd_step(x, g, S, sc, t, lr, hp, blocks):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    eps_root = hp[H.eps_root]
    wd = hp[H.weight_decay]
    decouple = hp[H.weight_decouple] != 0.0
    shrink = 1.0 - wd * (1.0 if hp[H.fixed_decay] != 0.0 else lr)
    averaging = hp[H.grad_averaging] != 0.0
    sign = -1.0 if hp[H.maximize] != 0.0 else 1.0
    first = t == 1
    for k in range(blocks.shape[0]):
        off, n = block_span(blocks, k)
        sq = 0.0
        for i in range(off, off + n):
            sq += g[i] * g[i]
        v = sq if first else beta2 * S[M.v, off] + (1.0 - beta2) * sq
        den = math.sqrt(v + eps_root) + eps
        for i in range(off, off + n):
            S[M.v, i] = v
            u = sign * g[i] / den
            if wd != 0.0:
                if decouple:
                    x[i] = x[i] * shrink
                else:
                    u = u + wd * x[i]
            if first:
                m = u
            elif averaging:
                m = beta1 * S[M.m, i] + (1.0 - beta1) * u
            else:
                m = beta1 * S[M.m, i] + u
            S[M.m, i] = m
            x[i] = x[i] - lr * m


@njit(cache=True)
def novograd_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr / (math.sqrt(S[M.v, i] + hp[H.eps_root]) + hp[H.eps])


class NovoGrad(Optimizer):
    r"""NovoGrad, as ``optax.novograd`` and ``pytorch_optimizer.NovoGrad``.

    For every parameter block :math:`l` (``Problem.param_shapes``; one block when the problem
    declares none), with :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` =
    ``beta1``, ``beta2`` (or ``betas``), :math:`\epsilon` = ``eps``, :math:`\epsilon_r` =
    ``eps_root``, :math:`\lambda` = ``weight_decay``:

    .. math::

        v^l_t &= \beta_2 v^l_{t-1} + (1-\beta_2) \|g^l_t\|^2, \qquad v^l_1 = \|g^l_1\|^2 \\
        m^l_t &= \beta_1 m^l_{t-1} + \Big(\frac{g^l_t}{\sqrt{v^l_t + \epsilon_r} + \epsilon}
                 + \lambda x^l_{t-1}\Big), \qquad m^l_1 = \text{the bracket} \\
        x^l_t &= x^l_{t-1} - \eta_t m^l_t

    :math:`v^l` is one number per block (the paper's layer-wise second moment); the momentum
    has no :math:`(1-\beta_1)` factor (the paper's Algorithm 1, optax, pytorch-optimizer).

    Options: ``grad_averaging`` puts :math:`(1-\beta_1)` on the bracket after the first step
    (pytorch-optimizer's ``grad_averaging``); ``weight_decouple`` replaces the
    :math:`\lambda x` term by :math:`x \leftarrow x(1-\eta_t\lambda)` before the step
    (``fixed_decay``: :math:`x(1-\lambda)`), pytorch-optimizer's decoupled forms;
    ``eps_root`` is optax's; ``maximize`` negates the gradient.  Defaults: pytorch-optimizer's
    (betas 0.95, 0.98, eps 1e-8; the paper's ImageNet setting); ``optax.novograd``'s are
    0.9, 0.25 and eps 1e-6.

    State (``slot_names``): ``m``; ``v``, each block's second moment, held in every
    coordinate of its block.  ``eff_lr`` is :math:`\eta_t/(\sqrt{v^l_t+\epsilon_r}+\epsilon)`.

    References: B. Ginsburg, P. Castonguay, O. Hrinchuk, O. Kuchaiev, V. Lavrukhin, R. Leary,
    J. Li, H. Nguyen, Y. Zhang, J. M. Cohen, *Stochastic Gradient Methods with Layer-wise
    Adaptive Moments for Training of Deep Networks*, arXiv:1905.11286, 2019.
    """

    name = "novograd"
    params = NOVOGRAD_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": novograd_step, "eff_lr": novograd_eff_lr}
    slots = len(NOVOGRAD_SLOTS)
    slot_names = NOVOGRAD_SLOTS
    momentum_param = "beta1"
    matrix = True  # the second moment sums over each parameter block
