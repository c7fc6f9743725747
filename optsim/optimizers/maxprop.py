"""MaxProp (lecture 002): RMSProp with the max norm in place of the squared-gradient average."""

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import l2_gradient, no_init

__all__ = ["MaxProp"]

MAXPROP_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta", 0.999, "decay of the running max of |g|", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "added to the denominator", low=0.0),
    Param("weight_decay", 0.0, "coupled L2 coefficient added to the gradient", low=0.0),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
MAXPROP_SLOTS = ("v",)

H = param_layout(MAXPROP_PARAMS, "MaxPropParams")
M = layout(MAXPROP_SLOTS, "MaxPropSlots")


@njit(cache=True)
def maxprop_step(x, g, S, sc, t, lr, hp):
    beta = hp[H.beta]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    maximize = hp[H.maximize] != 0.0
    for i in range(x.shape[0]):
        gi = l2_gradient(g[i], x[i], wd, maximize)
        v = max(beta * S[M.v, i], abs(gi))
        S[M.v, i] = v
        x[i] = x[i] - lr * gi / (v + eps)


@njit(cache=True)
def maxprop_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr / (S[M.v, i] + hp[H.eps])


class MaxProp(Optimizer):
    r"""MaxProp: RMSProp with the :math:`L^\infty` (max) norm, as lecture 002 defines it.

    With :math:`\eta_t` the scheduled ``lr``, :math:`\beta` = ``beta``, :math:`\epsilon` =
    ``eps``:

    .. math::

        v_t &= \max(\beta v_{t-1},\ |g_t|), \qquad v_0 = 0 \\
        x_t &= x_{t-1} - \frac{\eta_t}{v_t + \epsilon}\, g_t

    The lecture writes RMSProp as :math:`v_t = \beta v_{t-1} + (1-\beta) g_t^2`,
    :math:`w_{t+1} = w_t - \eta g_t/(\sqrt{v_t}+\epsilon)`, replaces :math:`\sqrt{v_t}`
    by the max norm :math:`\max(\beta v_{t-1}, |g_t|)` (:math:`=\max_s \beta^{t-s}|g_s|`,
    the limit :math:`p\to\infty` of the :math:`L^p` average) and calls the result MaxProp;
    AdaMax (:class:`~optsim.optimizers.Adamax`) is the same idea with momentum.  The max norm
    has no bias towards its zero initialisation, so there is no bias correction, and a
    zero gradient does not raise the step size (:math:`v` shrinks by :math:`\beta` per step
    only).  The first step is :math:`\eta\,\mathrm{sign}(g_1)` for :math:`\epsilon = 0`, and
    :math:`|\Delta_t| \le \eta_t` always.  The lecture uses :math:`\beta = 0.999` in its
    max-norm examples (the default here); it does not give :math:`\eta` or :math:`\epsilon`.

    ``weight_decay`` is coupled L2 (:math:`g + \lambda x`).  State: ``v``.
    ``eff_lr`` is :math:`\eta_t/(v_t+\epsilon)`.

    Reference: lecture 002 (IIT Madras deep-learning course, module on AdaMax), "MaxProp".
    """

    name = "maxprop"
    params = MAXPROP_PARAMS
    kernels = {"init": no_init, "step": maxprop_step, "eff_lr": maxprop_eff_lr}
    slots = 1
    elementwise = True
    slot_names = MAXPROP_SLOTS
    momentum_param = None
