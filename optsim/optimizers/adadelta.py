"""AdaDelta (Zeiler 2012), in PyTorch's form."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import l2_gradient, no_init

__all__ = ["Adadelta"]

ADADELTA_PARAMS = (
    Param("lr", 1.0, "learning rate (scales the delta)", low=0.0, low_open=True),
    Param("rho", 0.9, "decay of both running averages", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-6, "added inside both square roots", low=0.0),
    Param("weight_decay", 0.0, "coupled L2 coefficient added to the gradient", low=0.0),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
ADADELTA_SLOTS = ("square_avg", "acc_delta", "ratio")

H = param_layout(ADADELTA_PARAMS, "AdadeltaParams")
M = layout(ADADELTA_SLOTS, "AdadeltaSlots")


@njit(cache=True)
def adadelta_step(x, g, S, sc, t, lr, hp):
    rho = hp[H.rho]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    maximize = hp[H.maximize] != 0.0
    for i in range(x.shape[0]):
        gi = l2_gradient(g[i], x[i], wd, maximize)
        v = rho * S[M.square_avg, i] + (1.0 - rho) * gi * gi
        S[M.square_avg, i] = v
        ratio = math.sqrt(S[M.acc_delta, i] + eps) / math.sqrt(v + eps)
        S[M.ratio, i] = ratio
        d = ratio * gi
        S[M.acc_delta, i] = rho * S[M.acc_delta, i] + (1.0 - rho) * d * d  # the unscaled delta, before lr
        x[i] = x[i] - lr * d


@njit(cache=True)
def adadelta_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr * S[M.ratio, i]


class Adadelta(Optimizer):
    r"""AdaDelta, in PyTorch's form (``torch.optim.Adadelta``).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\rho` = ``rho`` (the lectures'
    :math:`\beta`), :math:`\epsilon` = ``eps``, :math:`\lambda` = ``weight_decay``,
    :math:`g_t \leftarrow \pm g_t + \lambda x_{t-1}` (``maximize``, then coupled L2),
    :math:`v_0 = u_0 = 0`:

    .. math::

        v_t &= \rho v_{t-1} + (1-\rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &= \rho u_{t-1} + (1-\rho) \Delta_t^2 \\
        x_t &= x_{t-1} - \eta_t \Delta_t

    Both eps are inside the square roots; :math:`u` accumulates the *unscaled* delta
    (before the lr).  ``lr=1`` is Zeiler's rule and the lectures' (lecture 002,
    :math:`w_{t+1} = w_t + \Delta w_t`).

    ``eff_lr`` is :math:`\eta_t \sqrt{u_{t-1}+\epsilon}/\sqrt{v_t+\epsilon}` per coordinate
    (lecture 002's "effective learning rate" of AdaDelta, times the lr), kept in ``ratio``.
    State (``slot_names``): ``square_avg`` = :math:`v`, ``acc_delta`` = :math:`u`, ``ratio`` =
    the last ratio :math:`\sqrt{u_{t-1}+\epsilon}/\sqrt{v_t+\epsilon}`.

    Matches ``torch.optim.Adadelta`` (lr 1.0, rho 0.9, eps 1e-6), ``optax.adadelta`` (same
    defaults when ``learning_rate`` is given; its ``weight_decay`` is added first in the
    chain, the same coupled term) and ``keras.optimizers.Adadelta`` with Keras's defaults
    ``Adadelta(lr=1e-3, rho=0.95, eps=1e-7)`` (Keras's ``weight_decay`` is decoupled, not
    this term).

    References: Zeiler, *ADADELTA: An Adaptive Learning Rate Method*, arXiv:1212.5701, 2012.

    .. warning:: ``optax.adadelta()`` with its default ``learning_rate=None`` applies no
       sign flip (``scale_by_learning_rate`` becomes the identity), so it *ascends*: it
       returns :math:`+\Delta_t` and ``apply_updates`` adds it.  Always pass a learning
       rate (1.0 for the paper's rule).  Keras's default lr is 1e-3, not 1.
    """

    name = "adadelta"
    params = ADADELTA_PARAMS
    kernels = {"init": no_init, "step": adadelta_step, "eff_lr": adadelta_eff_lr}
    slots = 3
    elementwise = True
    slot_names = ADADELTA_SLOTS
