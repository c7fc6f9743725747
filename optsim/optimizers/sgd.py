"""Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

from numba import njit

from .._components import Param
from .._roles import Optimizer

__all__ = ["SGD"]


@njit(cache=True)
def sgd_init(x, S, sc, hp):
    pass


@njit(cache=True)
def sgd_step(x, g, S, sc, t, lr, hp):
    momentum = hp[1]
    dampening = hp[2]
    wd = hp[3]
    nesterov = hp[4] != 0.0
    maximize = hp[5] != 0.0
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            gi = gi + wd * x[i]
        if momentum != 0.0:
            if t == 1:
                b = gi  # PyTorch: the buffer starts as the first gradient, undampened
            else:
                b = momentum * S[0, i] + (1.0 - dampening) * gi
            S[0, i] = b
            gi = gi + momentum * b if nesterov else b
        x[i] = x[i] - lr * gi


@njit(cache=True)
def sgd_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class SGD(Optimizer):
    r"""Stochastic gradient descent, in PyTorch's form (``torch.optim.SGD``).

    With :math:`\eta` = ``lr``, :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``,
    :math:`\lambda` = ``weight_decay``:

    .. math::

        g_t &\leftarrow g_t + \lambda x_{t-1} \\
        b_1 &= g_1, \qquad b_t = \mu b_{t-1} + (1 - \tau) g_t \quad (t > 1) \\
        d_t &= g_t + \mu b_t \ \text{(nesterov)} \quad\text{or}\quad d_t = b_t \\
        x_t &= x_{t-1} - \eta\, d_t

    The learning rate is *outside* the buffer, so a schedule rescales the accumulated
    velocity at once.  ``momentum=0`` is plain SGD.  ``nesterov=True`` is the
    Sutskever et al. (2013) form as PyTorch and optax store it (the parameter is the
    look-ahead point).  State: ``S[0]`` is the momentum buffer.

    References: Robbins & Monro (1951); Polyak (1964); Sutskever et al. (2013).
    Matches ``torch.optim.SGD`` and, with ``dampening=0``, ``optax.sgd``.
    """

    name = "sgd"
    params = (
        Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
        Param("momentum", 0.0, "momentum factor mu", low=0.0, high=1.0, high_open=True),
        Param("dampening", 0.0, "dampening tau of the gradient in the buffer", low=0.0, high=1.0),
        Param("weight_decay", 0.0, "coupled L2 coefficient added to the gradient", low=0.0),
        Param("nesterov", False, "Nesterov momentum (needs momentum > 0, dampening 0)", kind="bool"),
        Param("maximize", False, "ascend instead of descend", kind="bool"),
    )
    kernels = {"init": sgd_init, "step": sgd_step, "eff_lr": sgd_eff_lr}
    slots = 1
    slot_names = ("momentum_buffer",)
    momentum_param = "momentum"

    def _validate(self):
        from .._components import ParameterError

        if self.nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ParameterError(
                "SGD: nesterov=True requires momentum > 0 and dampening = 0 "
                f"(got momentum={self.momentum}, dampening={self.dampening})"
            )
