"""Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import heavy_ball, l2_gradient, no_init

__all__ = ["SGD", "MOMENTUM_FORMS"]

MOMENTUM_FORMS = ("torch", "lr_inside", "ema")

SGD_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("momentum", 0.0, "momentum factor mu", low=0.0, high=1.0, high_open=True),
    Param("dampening", 0.0, "dampening tau of the gradient in the buffer", low=0.0, high=1.0),
    Param("weight_decay", 0.0, "coupled L2 coefficient added to the gradient", low=0.0),
    Param("nesterov", False, "Nesterov momentum (needs momentum > 0, dampening 0)", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
    Param("momentum_form", "torch", "lr outside the buffer (torch), inside it (Keras, lectures) "
          "or an EMA buffer", kind="choice", choices=MOMENTUM_FORMS),
)
SGD_SLOTS = ("momentum_buffer",)

H = param_layout(SGD_PARAMS, "SGDParams")
M = layout(SGD_SLOTS, "SGDSlots")


@njit(cache=True, inline="always")
def _sgd_plain(x, g, S, t, lr, momentum, dampening, nesterov):
    """The general loop's numbers for PyTorch's forms without weight decay or ``maximize``,
    in loops without branches (which the compiler vectorizes): the same operations in the
    same order as :func:`heavy_ball`, with its choices made once per step."""
    n = x.shape[0]
    if momentum == 0.0:
        for i in range(n):
            x[i] = x[i] - lr * g[i]
    elif t == 1:  # the buffer starts as the first gradient
        for i in range(n):
            b = g[i]
            S[M.momentum_buffer, i] = b
            x[i] = x[i] - lr * (g[i] + momentum * b if nesterov else b)
    elif nesterov:
        for i in range(n):
            b = momentum * S[M.momentum_buffer, i] + (1.0 - dampening) * g[i]
            S[M.momentum_buffer, i] = b
            x[i] = x[i] - lr * (g[i] + momentum * b)
    else:
        for i in range(n):
            b = momentum * S[M.momentum_buffer, i] + (1.0 - dampening) * g[i]
            S[M.momentum_buffer, i] = b
            x[i] = x[i] - lr * b


@njit(cache=True)
def sgd_step(x, g, S, sc, t, lr, hp):
    momentum = hp[H.momentum]
    dampening = hp[H.dampening]
    wd = hp[H.weight_decay]
    nesterov = hp[H.nesterov] != 0.0
    maximize = hp[H.maximize] != 0.0
    form = int(hp[H.momentum_form])
    if wd == 0.0 and not maximize and (momentum == 0.0 or form == 0):
        _sgd_plain(x, g, S, t, lr, momentum, dampening, nesterov)
        return
    for i in range(x.shape[0]):
        gi = l2_gradient(g[i], x[i], wd, maximize)
        if momentum == 0.0:
            x[i] = x[i] - lr * gi
        elif form == 0:  # PyTorch: lr outside the buffer
            x[i], S[M.momentum_buffer, i] = heavy_ball(x[i], gi, S[M.momentum_buffer, i], t, lr, momentum,
                                                       dampening, nesterov)
        elif form == 1:  # Keras / lectures: lr inside the buffer
            if t == 1:
                v = lr * gi
            else:
                v = momentum * S[M.momentum_buffer, i] + (1.0 - dampening) * (lr * gi)
            S[M.momentum_buffer, i] = v
            d = lr * gi + momentum * v if nesterov else v
            x[i] = x[i] - d
        else:  # exponential moving average of the gradients
            v = momentum * S[M.momentum_buffer, i] + (1.0 - momentum) * gi
            S[M.momentum_buffer, i] = v
            d = (1.0 - momentum) * gi + momentum * v if nesterov else v
            x[i] = x[i] - lr * d


@njit(cache=True)
def sgd_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class SGD(Optimizer):
    r"""Stochastic gradient descent, in PyTorch's form (``torch.optim.SGD``) by default.

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\mu` = ``momentum``,
    :math:`\tau` = ``dampening``, :math:`\lambda` = ``weight_decay``, and the coupled L2
    term folded into the gradient first, :math:`g_t \leftarrow g_t + \lambda x_{t-1}`
    (after the sign flip of ``maximize``):

    ``momentum_form='torch'`` (default; ``torch.optim.SGD``, ``optax.sgd``): the
    learning rate is *outside* the buffer

    .. math::

        b_1 &= g_1, \qquad b_t = \mu b_{t-1} + (1 - \tau) g_t \quad (t > 1) \\
        d_t &= g_t + \mu b_t \ \text{(nesterov)} \quad\text{or}\quad d_t = b_t \\
        x_t &= x_{t-1} - \eta_t\, d_t

    ``momentum_form='lr_inside'`` (Keras ``SGD``; lectures 000, 001, 002:
    :math:`v_t = \gamma v_{t-1} + \eta \nabla`, :math:`\theta_{t+1} = \theta_t - v_t`):
    the learning rate is *inside* the buffer

    .. math::

        v_1 &= \eta_1 g_1, \qquad v_t = \mu v_{t-1} + (1 - \tau)\,\eta_t g_t \\
        x_t &= x_{t-1} - v_t \quad\text{or (nesterov)}\quad x_t = x_{t-1} - (\eta_t g_t + \mu v_t)

    At constant lr, :math:`v_t = \eta b_t` and the two forms are the same trajectory; under a
    schedule they differ: ``'torch'`` rescales the whole accumulated velocity when the lr
    changes, ``'lr_inside'`` keeps the old lr values in the velocity.  (Keras's
    ``m = momentum*m - lr*g; x += m`` is this with :math:`v = -m` and :math:`\tau = 0`;
    its Nesterov step ``x += momentum*m - lr*g`` is the nesterov line above.)

    ``momentum_form='ema'``: the buffer is an exponential moving average (as Adam's first
    moment, and the :math:`(1-\beta)` form lecture 002 drops "for brevity")

    .. math::

        v_0 &= 0, \qquad v_t = \mu v_{t-1} + (1 - \mu) g_t \\
        x_t &= x_{t-1} - \eta_t v_t \quad\text{or (nesterov)}\quad
        x_t = x_{t-1} - \eta_t\left((1-\mu) g_t + \mu v_t\right)

    Its steady-state step on a constant gradient is :math:`\eta g` rather than
    :math:`\eta g / (1 - \mu)`; ``dampening`` has no meaning here and must be 0.

    ``momentum=0`` is plain SGD in every form.  ``nesterov=True`` is the Sutskever et al.
    (2013) form as PyTorch, optax and Keras store it: the parameter is the look-ahead
    point; see :class:`optsim.optimizers.nag.NAG` for the lectures' look-ahead form.
    State: ``momentum_buffer``, the momentum buffer (:math:`b` or :math:`v`).  ``eff_lr`` is the
    scheduled lr (the momentum amplification is not included).

    References: Robbins & Monro (1951); Polyak (1964); Sutskever et al., *On the
    importance of initialization and momentum in deep learning*, ICML 2013.
    Matches ``torch.optim.SGD``, and with ``dampening=0`` ``optax.sgd`` (``'torch'``) and
    ``keras.optimizers.SGD`` (``'lr_inside'``; Keras's ``weight_decay`` is decoupled and
    is not this coupled L2 term).

    .. warning:: torch's buffer starts as the first gradient, *undampened*
       (:math:`b_1 = g_1`); dampening applies from step 2.  ``'lr_inside'`` keeps the same
       convention so that it equals ``'torch'`` at constant lr.
    """

    name = "sgd"
    params = SGD_PARAMS
    kernels = {"init": no_init, "step": sgd_step, "eff_lr": sgd_eff_lr}
    slots = 1
    elementwise = True
    slot_names = SGD_SLOTS
    momentum_param = "momentum"

    def _validate(self):
        from .._components import ParameterError

        if self.nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ParameterError(
                "SGD: nesterov=True requires momentum > 0 and dampening = 0 "
                f"(got momentum={self.momentum}, dampening={self.dampening})"
            )
        if self.momentum_form == "ema" and self.dampening != 0.0:
            raise ParameterError(
                f"SGD: momentum_form='ema' has no dampening (it is 1 - momentum); got dampening={self.dampening}"
            )
