"""Lion (Chen et al. 2023), in optax's form."""

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["Lion"]

LION_PARAMS = (
    Param("lr", 1e-4, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "interpolation of the update direction", low=0.0, high=1.0),
    Param("beta2", 0.99, "decay of the tracked momentum", low=0.0, high=1.0),
    Param("weight_decay", 1e-3, "decoupled decay coefficient (times lr)", low=0.0),
)
LION_SLOTS = ("m",)

H = param_layout(LION_PARAMS, "LionParams")
M = layout(LION_SLOTS, "LionSlots")


@njit(cache=True)
def lion_step(x, g, S, sc, t, lr, hp):
    b1 = hp[H.beta1]
    b2 = hp[H.beta2]
    wd = hp[H.weight_decay]
    for i in range(x.shape[0]):
        gi = g[i]
        m = S[M.m, i]
        c = (1.0 - b1) * gi + b1 * m
        if c > 0.0:
            d = 1.0
        elif c < 0.0:
            d = -1.0
        else:
            d = c  # sign(0) = 0 (and NaN stays NaN)
        S[M.m, i] = (1.0 - b2) * gi + b2 * m
        x[i] = x[i] - lr * (d + wd * x[i])


@njit(cache=True)
def lion_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class Lion(Optimizer):
    r"""Lion (EvoLved Sign Momentum), in optax's form (``optax.lion``).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``,
    ``beta2`` (optax's ``b1``, ``b2``; Keras's ``beta_1``, ``beta_2``), :math:`\lambda` =
    ``weight_decay``, :math:`m_0 = 0`:

    .. math::

        c_t &= (1-\beta_1) g_t + \beta_1 m_{t-1}, \qquad d_t = \mathrm{sign}(c_t) \\
        m_t &= (1-\beta_2) g_t + \beta_2 m_{t-1} \\
        x_t &= x_{t-1} - \eta_t\,(d_t + \lambda x_{t-1})

    The update direction interpolates with :math:`\beta_1`, the tracked momentum decays
    with :math:`\beta_2`; every coordinate moves by exactly :math:`\eta_t` (plus the
    decay), so ``eff_lr`` is the scheduled lr.  ``sign(0) = 0``.  The weight decay is
    decoupled and multiplied by the scheduled lr, as optax's
    ``chain(scale_by_lion, add_decayed_weights(wd), scale_by_learning_rate(lr))``.
    ``beta1`` is the parameter a momentum-cycling schedule overrides.

    Defaults: ``beta1=0.9, beta2=0.99, weight_decay=1e-3`` as optax.  optax requires a
    learning rate; the default here is ``lr=1e-4``, following the paper's advice that
    Lion's lr be 3-10x smaller than AdamW's (1e-3), since the sign update has a larger
    norm.  Keras's ``Lion(learning_rate=1e-3, beta_1=0.9, beta_2=0.99)`` is the same
    rule, its (decoupled) ``weight_decay`` giving the same :math:`x - \eta(d + \lambda x)`;
    Keras's default is ``weight_decay=None``, i.e. ``Lion(lr=1e-3, weight_decay=0)``.

    State: ``m`` = :math:`m`.

    References: Chen et al., *Symbolic Discovery of Optimization Algorithms*, NeurIPS 2023.

    .. note:: optax's ``scale_by_lion`` also has ``mode='smooth'|'refined'`` variants (a
       tanh or clipped sign); only the default ``'hard'`` sign is implemented.
    """

    name = "lion"
    params = LION_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": lion_step, "eff_lr": lion_eff_lr}
    slots = 1
    elementwise = True
    slot_names = LION_SLOTS
    momentum_param = "beta1"
