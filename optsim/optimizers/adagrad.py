"""AdaGrad (Duchi, Hazan & Singer 2011), in PyTorch's form with the optax/Keras eps option."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import l2_gradient

__all__ = ["Adagrad"]

ADAGRAD_PARAMS = (
    Param("lr", 1e-2, "learning rate", low=0.0, low_open=True),
    Param("lr_decay", 0.0, "lr / (1 + (t-1) lr_decay)", low=0.0),
    Param("weight_decay", 0.0, "coupled L2 coefficient added to the gradient", low=0.0),
    Param("eps", 1e-10, "added to the denominator", low=0.0),
    Param("initial_accumulator_value", 0.0, "starting value of the sum of squares", low=0.0),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
    Param("eps_inside", False, "sqrt(sum + eps) (optax, Keras) instead of sqrt(sum) + eps", kind="bool"),
)
ADAGRAD_SLOTS = ("sum",)

H = param_layout(ADAGRAD_PARAMS, "AdagradParams")
M = layout(ADAGRAD_SLOTS, "AdagradSlots")


@njit(cache=True)
def adagrad_init(x, S, sc, hp):
    init = hp[H.initial_accumulator_value]
    for i in range(x.shape[0]):
        S[M.sum, i] = init


@njit(cache=True, inline="always")
def _adagrad_scale(s, eps, inside):
    """1 / denominator for the accumulated sum ``s``."""
    if inside:  # optax: where(sum > 0, rsqrt(sum + eps), 0)
        return 1.0 / math.sqrt(s + eps) if s > 0.0 else 0.0
    return 1.0 / (math.sqrt(s) + eps)


@njit(cache=True)
def adagrad_step(x, g, S, sc, t, lr, hp):
    lr_decay = hp[H.lr_decay]
    wd = hp[H.weight_decay]
    eps = hp[H.eps]
    maximize = hp[H.maximize] != 0.0
    inside = hp[H.eps_inside] != 0.0
    clr = lr / (1.0 + (t - 1) * lr_decay)
    for i in range(x.shape[0]):
        gi = l2_gradient(g[i], x[i], wd, maximize)
        s = S[M.sum, i] + gi * gi
        S[M.sum, i] = s
        if inside:
            x[i] = x[i] - clr * (gi * _adagrad_scale(s, eps, True))
        else:
            x[i] = x[i] - clr * gi / (math.sqrt(s) + eps)


@njit(cache=True)
def adagrad_eff_lr(S, sc, t, lr, hp, out):
    clr = lr / (1.0 + (t - 1) * hp[H.lr_decay])
    eps = hp[H.eps]
    inside = hp[H.eps_inside] != 0.0
    for i in range(out.shape[0]):
        out[i] = clr * _adagrad_scale(S[M.sum, i], eps, inside)


class Adagrad(Optimizer):
    r"""AdaGrad, in PyTorch's form by default (``torch.optim.Adagrad``).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\delta` = ``lr_decay``,
    :math:`\lambda` = ``weight_decay``, :math:`\epsilon` = ``eps``, :math:`s_0` =
    ``initial_accumulator_value``, and :math:`g_t \leftarrow \pm g_t + \lambda x_{t-1}`
    (``maximize`` flips the sign, then the coupled L2 term):

    .. math::

        s_t &= s_{t-1} + g_t^2 \\
        \tilde\eta_t &= \eta_t / (1 + (t-1)\,\delta) \\
        x_t &= x_{t-1} - \tilde\eta_t\, g_t / (\sqrt{s_t} + \epsilon)
        \quad\text{or, with } \texttt{eps\_inside}\text{:}\quad
        x_t = x_{t-1} - \tilde\eta_t\, g_t / \sqrt{s_t + \epsilon}

    ``eps_inside=False`` (default) is PyTorch's placement (and the lecture-002 code,
    ``eta*dw/(np.sqrt(v_w)+eps)``).  ``eps_inside=True`` is optax's ``scale_by_rss``, Keras's
    ``Adagrad`` and the formulas of lectures 000 and 002
    (:math:`\eta / \sqrt{v_t + \epsilon}`); like optax it gives a zero step where
    :math:`s_t = 0` (optax computes ``where(sum > 0, rsqrt(sum + eps), 0) * g``).
    ``lr_decay`` uses :math:`t-1`, so the first step uses the full lr.

    To reproduce optax's ``adagrad(lr)`` (defaults ``initial_accumulator_value=0.1``,
    ``eps=1e-7``): ``Adagrad(lr=lr, initial_accumulator_value=0.1, eps=1e-7,
    eps_inside=True)``.  Keras's ``Adagrad()`` is the same with ``lr=1e-3`` (its
    ``weight_decay`` is decoupled, not this L2 term).

    ``eff_lr`` is :math:`\tilde\eta_t / (\sqrt{s_t} + \epsilon)` per coordinate (or
    :math:`\tilde\eta_t / \sqrt{s_t + \epsilon}`), the factor multiplying the gradient in
    the last update: lecture 002's "effective learning rate" :math:`\eta_0/\sqrt{v_t+\epsilon}`.
    State: ``sum``, the sum of squared gradients.

    References: Duchi, Hazan & Singer, *Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization*, JMLR 2011.

    .. warning:: The defaults differ between libraries: PyTorch ``s_0 = 0``,
       ``eps = 1e-10`` outside the square root; optax and Keras ``s_0 = 0.1``,
       ``eps = 1e-7`` inside.  With :math:`s_0 = 0` the first step of PyTorch's form is
       :math:`\eta\,\mathrm{sign}(g_1)` per coordinate.
    """

    name = "adagrad"
    params = ADAGRAD_PARAMS
    kernels = {"init": adagrad_init, "step": adagrad_step, "eff_lr": adagrad_eff_lr}
    slots = 1
    elementwise = True
    slot_names = ADAGRAD_SLOTS
