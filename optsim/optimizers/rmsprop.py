"""RMSprop (Tieleman & Hinton 2012), in PyTorch's form with optax's and Keras's conventions as options."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import l2_gradient

__all__ = ["RMSprop", "RMSPROP_MOMENTUM_FORMS"]

RMSPROP_MOMENTUM_FORMS = ("torch", "lr_inside")

RMSPROP_PARAMS = (
    Param("lr", 1e-2, "learning rate", low=0.0, low_open=True),
    Param("alpha", 0.99, "decay of the squared-gradient average", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "added to the denominator", low=0.0),
    Param("weight_decay", 0.0, "coupled L2 coefficient added to the gradient", low=0.0),
    Param("momentum", 0.0, "momentum factor mu", low=0.0, high=1.0, high_open=True),
    Param("centered", False, "divide by the estimated standard deviation", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
    Param("eps_inside", False, "sqrt(v + eps) (optax default, Keras) instead of sqrt(v) + eps", kind="bool"),
    Param("momentum_form", "torch", "lr outside the momentum buffer (torch) or inside it (optax, Keras)",
          kind="choice", choices=RMSPROP_MOMENTUM_FORMS),
    Param("nesterov", False, "Nesterov momentum, as optax's trace(nesterov=True)", kind="bool"),
    Param("bias_correction", False, "divide the averages by 1 - alpha^t (optax's option)", kind="bool"),
    Param("initial_scale", 0.0, "starting value of v (optax's initial_scale)", low=0.0),
)
RMSPROP_SLOTS = ("square_avg", "grad_avg", "momentum_buffer")

H = param_layout(RMSPROP_PARAMS, "RMSpropParams")
M = layout(RMSPROP_SLOTS, "RMSpropSlots")


@njit(cache=True)
def rmsprop_init(x, S, sc, hp):
    init = hp[H.initial_scale]
    for i in range(x.shape[0]):
        S[M.square_avg, i] = init


@njit(cache=True, inline="always")
def _rms_denominator(v, ga, bc, centered, inside, eps):
    vh = v / bc
    if centered:
        gh = ga / bc
        vh = vh - gh * gh
    if inside:
        return math.sqrt(vh + eps)
    return math.sqrt(vh) + eps


@njit(cache=True)
def rmsprop_step(x, g, S, sc, t, lr, hp):
    alpha = hp[H.alpha]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    momentum = hp[H.momentum]
    centered = hp[H.centered] != 0.0
    maximize = hp[H.maximize] != 0.0
    inside = hp[H.eps_inside] != 0.0
    lr_inside = hp[H.momentum_form] != 0.0
    nesterov = hp[H.nesterov] != 0.0
    bc = 1.0 - alpha ** float(t) if hp[H.bias_correction] != 0.0 else 1.0
    if wd == 0.0 and not maximize and momentum == 0.0 and not centered and bc == 1.0:
        # PyTorch's and optax's plain forms, in loops without branches (which the compiler
        # vectorizes): the general loop's operations in its order (v / 1.0 is v)
        if inside:
            for i in range(x.shape[0]):
                v = alpha * S[M.square_avg, i] + (1.0 - alpha) * g[i] * g[i]
                S[M.square_avg, i] = v
                x[i] = x[i] - lr * (g[i] / math.sqrt(v + eps))
        else:
            for i in range(x.shape[0]):
                v = alpha * S[M.square_avg, i] + (1.0 - alpha) * g[i] * g[i]
                S[M.square_avg, i] = v
                x[i] = x[i] - lr * (g[i] / (math.sqrt(v) + eps))
        return
    for i in range(x.shape[0]):
        gi = l2_gradient(g[i], x[i], wd, maximize)
        v = alpha * S[M.square_avg, i] + (1.0 - alpha) * gi * gi
        S[M.square_avg, i] = v
        ga = 0.0
        if centered:
            ga = alpha * S[M.grad_avg, i] + (1.0 - alpha) * gi
            S[M.grad_avg, i] = ga
        u = gi / _rms_denominator(v, ga, bc, centered, inside, eps)
        if momentum > 0.0:
            if lr_inside:  # optax / Keras: the buffer accumulates lr-scaled steps
                b = momentum * S[M.momentum_buffer, i] + lr * u
                S[M.momentum_buffer, i] = b
                d = lr * u + momentum * b if nesterov else b
            else:  # PyTorch: lr outside the buffer
                b = momentum * S[M.momentum_buffer, i] + u
                S[M.momentum_buffer, i] = b
                d = lr * (u + momentum * b) if nesterov else lr * b
            x[i] = x[i] - d
        else:
            x[i] = x[i] - lr * u


@njit(cache=True)
def rmsprop_eff_lr(S, sc, t, lr, hp, out):
    alpha = hp[H.alpha]
    eps = hp[H.eps]
    centered = hp[H.centered] != 0.0
    inside = hp[H.eps_inside] != 0.0
    bc = 1.0 - alpha ** float(t) if hp[H.bias_correction] != 0.0 else 1.0
    for i in range(out.shape[0]):
        out[i] = lr / _rms_denominator(S[M.square_avg, i], S[M.grad_avg, i], bc, centered, inside, eps)


class RMSprop(Optimizer):
    r"""RMSprop, in PyTorch's form by default (``torch.optim.RMSprop``).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\alpha` = ``alpha`` (optax's
    ``decay``, Keras's ``rho``, the lectures' :math:`\beta`), :math:`\epsilon` = ``eps``,
    :math:`\mu` = ``momentum``, :math:`\lambda` = ``weight_decay`` and
    :math:`g_t \leftarrow \pm g_t + \lambda x_{t-1}` (``maximize``, then coupled L2):

    .. math::

        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad v_0 = \texttt{initial\_scale} \\
        \bar g_t &= \alpha \bar g_{t-1} + (1-\alpha) g_t \quad\text{(centered)}, \qquad \bar g_0 = 0 \\
        c_t &= 1 - \alpha^t \ \text{(bias\_correction)} \ \text{else}\ 1, \qquad
        \sigma_t^2 = v_t / c_t - [\text{centered}]\,(\bar g_t / c_t)^2 \\
        a_t &= \sqrt{\sigma_t^2} + \epsilon \quad\text{or (eps\_inside)}\quad a_t = \sqrt{\sigma_t^2 + \epsilon} \\
        u_t &= g_t / a_t

    then, without momentum, :math:`x_t = x_{t-1} - \eta_t u_t`; with momentum
    (:math:`b_0 = 0`):

    - ``momentum_form='torch'``: :math:`b_t = \mu b_{t-1} + u_t`,
      :math:`x_t = x_{t-1} - \eta_t b_t` (or :math:`\eta_t (u_t + \mu b_t)` with ``nesterov``);
    - ``momentum_form='lr_inside'`` (optax, Keras): :math:`b_t = \mu b_{t-1} + \eta_t u_t`,
      :math:`x_t = x_{t-1} - b_t` (or :math:`\eta_t u_t + \mu b_t` with ``nesterov``, optax's
      ``trace(nesterov=True)``).  Equal to ``'torch'`` at constant lr.

    Options and the reference each matches:

    - defaults: ``torch.optim.RMSprop`` (lr 1e-2, alpha 0.99, eps 1e-8 outside the square
      root, no bias correction).  The lecture-002 code
      (``eta*dw/(np.sqrt(v_w)+eps)``) is this form; its formula
      :math:`\eta/\sqrt{v_t + \epsilon}` is ``eps_inside=True``.
    - optax ``rmsprop(lr, decay, eps, initial_scale, eps_in_sqrt, centered, momentum,
      nesterov, bias_correction)``: ``RMSprop(lr=lr, alpha=decay, eps=eps,
      initial_scale=initial_scale, eps_inside=eps_in_sqrt, centered=centered,
      momentum=momentum or 0, nesterov=nesterov, bias_correction=bias_correction,
      momentum_form='lr_inside')``; its defaults are ``alpha=0.9, eps=1e-8,
      eps_inside=True``.  optax's bias correction divides both :math:`v` and
      :math:`\bar g` by :math:`1-\alpha^t` (``initial_scale`` included).
    - Keras ``RMSprop(learning_rate=1e-3, rho=0.9, momentum=0, epsilon=1e-7, centered)``:
      ``RMSprop(lr=1e-3, alpha=0.9, eps=1e-7, eps_inside=True, momentum_form='lr_inside',
      momentum=..., centered=...)`` (Keras's ``weight_decay`` is decoupled, not this L2
      term).

    ``eff_lr`` is :math:`\eta_t / a_t` per coordinate (the momentum amplification is not
    included).  State (``slot_names``): ``square_avg`` = :math:`v`, ``grad_avg`` = :math:`\bar g`,
    ``momentum_buffer`` = :math:`b`.

    References: Tieleman & Hinton, *Lecture 6.5, RMSprop*, COURSERA: Neural Networks for
    Machine Learning, 2012; Graves, *Generating Sequences With Recurrent Neural Networks*,
    2013 (the centered form).

    .. warning:: Where eps goes matters at the start: with :math:`v_0 = 0` and small
       gradients, :math:`\sqrt{v}+\epsilon` and :math:`\sqrt{v+\epsilon}` differ by orders
       of magnitude (optax issue #532).  torch's ``alpha`` default is 0.99, optax's and
       Keras's 0.9.  ``centered`` with ``bias_correction`` and :math:`v_0 = 0` has
       :math:`\sigma_1^2 = g_1^2 - g_1^2 = 0` at the first step, up to rounding: the first
       step is :math:`\eta g_1/\epsilon` (or :math:`\eta g_1/\sqrt\epsilon`), and with eps
       outside the square root a rounding of the variance below zero gives NaN (in optax too).
    """

    name = "rmsprop"
    params = RMSPROP_PARAMS
    kernels = {"init": rmsprop_init, "step": rmsprop_step, "eff_lr": rmsprop_eff_lr}
    slots = 3
    elementwise = True
    slot_names = RMSPROP_SLOTS
    momentum_param = "momentum"

    def _validate(self):
        from .._components import ParameterError

        if self.nesterov and self.momentum <= 0.0:
            raise ParameterError(f"RMSprop: nesterov=True requires momentum > 0 (got momentum={self.momentum})")
