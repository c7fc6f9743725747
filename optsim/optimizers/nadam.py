"""NAdam (Dozat 2016): Adam with Nesterov momentum, in the forms of PyTorch, Keras, optax and lecture 002."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import MOMENTS, adam_moments

__all__ = ["NAdam", "NADAM_FORMS"]

NADAM_FORMS = ("torch", "keras", "optax", "lecture")

NADAM_PARAMS = (
    Param("lr", 2e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "added to sqrt(v_hat)", low=0.0),
    Param("weight_decay", 0.0, "L2 (coupled) or decoupled decay coefficient", low=0.0),
    Param("momentum_decay", 4e-3, "psi of torch's mu schedule", low=0.0),
    Param("decoupled_weight_decay", False, "decay x by lr*wd before the step", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
    Param("form", "torch", "which mu schedule and bias corrections", kind="choice", choices=NADAM_FORMS),
)
NADAM_SLOTS = ("m", "v")
NADAM_SCALARS = ("mu_product",)

H = param_layout(NADAM_PARAMS, "NAdamParams")
M = layout(NADAM_SLOTS, "NAdamSlots")
C = layout(NADAM_SCALARS, "NAdamScalars")
assert (M.m, M.v) == (MOMENTS.m, MOMENTS.v)  # the rows adam_moments updates


@njit(cache=True)
def nadam_init(x, S, sc, hp):
    sc[C.mu_product] = 1.0  # the running product of mu (torch, Keras)


@njit(cache=True, inline="always")
def _mus(t, beta1, psi):
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
    return mu, mu_next


@njit(cache=True, inline="always")
def _coefficients(t, hp, mu_product):
    """(c_g, c_m): the step is lr * (c_g g + c_m m) / denominator.  ``mu_product`` includes mu_t."""
    beta1 = hp[H.beta1]
    form = int(hp[H.form])
    if form <= 1:
        psi = hp[H.momentum_decay] if form == 0 else 1.0
        mu, mu_next = _mus(t, beta1, psi)
        return (1.0 - mu) / (1.0 - mu_product), mu_next / (1.0 - mu_product * mu_next)
    elif form == 2:  # optax / Dozat's constant mu
        return (1.0 - beta1) / (1.0 - beta1 ** float(t)), beta1 / (1.0 - beta1 ** float(t + 1))
    else:  # lecture 002: beta1 m_hat_t + (1 - beta1) g_t / (1 - beta1^t)
        return (1.0 - beta1) / (1.0 - beta1 ** float(t)), beta1 / (1.0 - beta1 ** float(t))


@njit(cache=True)
def nadam_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    decoupled = hp[H.decoupled_weight_decay] != 0.0
    maximize = hp[H.maximize] != 0.0
    form = int(hp[H.form])
    bc2 = 1.0 - beta2 ** float(t)
    if form <= 1:
        psi = hp[H.momentum_decay] if form == 0 else 1.0
        mu, mu_next = _mus(t, beta1, psi)
        sc[C.mu_product] = sc[C.mu_product] * mu
    c_g, c_m = _coefficients(t, hp, sc[C.mu_product])
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            if decoupled:
                x[i] = x[i] * (1.0 - lr * wd)
            else:
                gi = gi + wd * x[i]
        m, v = adam_moments(S, i, gi, beta1, beta2)
        den = math.sqrt(v / bc2) + eps
        x[i] = x[i] + (-lr * c_g) * gi / den  # two separate updates, as torch applies them
        x[i] = x[i] + (-lr * c_m) * m / den


@njit(cache=True)
def nadam_eff_lr(S, sc, t, lr, hp, out):
    t = max(t, 1)
    bc2 = 1.0 - hp[H.beta2] ** float(t)
    c_g, c_m = _coefficients(t, hp, sc[C.mu_product])
    for i in range(out.shape[0]):
        out[i] = lr * (c_g + c_m) / (math.sqrt(S[M.v, i] / bc2) + hp[H.eps])


class NAdam(Optimizer):
    r"""NAdam: Adam with a Nesterov look-ahead in the first moment; PyTorch's form by default.

    With :math:`\eta_t` the scheduled ``lr``, moments :math:`m_t, v_t` as in Adam (from the
    gradient :math:`g_t`, after coupled L2 if any) and :math:`\hat v_t = v_t/(1-\beta_2^t)`,
    every form takes

    .. math::

        x_t = x_{t-1} - \eta_t\, \frac{c^g_t\, g_t + c^m_t\, m_t}{\sqrt{\hat v_t} + \epsilon}

    (applied as two updates, the :math:`g` term first, as PyTorch does), with ``form``:

    - ``'torch'`` (``torch.optim.NAdam``): :math:`\mu_t = \beta_1(1 - \tfrac12\,
      0.96^{t\psi})`, :math:`\psi` = ``momentum_decay`` (4e-3), :math:`\Pi_t = \prod_{s\le t}
      \mu_s` (kept in the scalar ``mu_product``), :math:`c^g_t = (1-\mu_t)/(1-\Pi_t)`,
      :math:`c^m_t = \mu_{t+1}/(1-\Pi_t \mu_{t+1})`.  ``momentum_decay=0`` gives
      :math:`\mu = \beta_1/2`, not the constant-:math:`\mu` form.
    - ``'keras'`` (Keras ``Nadam``): the same with :math:`0.96^t` (i.e. :math:`\psi = 1`;
      ``momentum_decay`` is ignored).  Keras's eps default is 1e-7.
    - ``'optax'`` (``optax.nadam``, Dozat's simplified constant :math:`\mu = \beta_1`):
      :math:`c^g_t = (1-\beta_1)/(1-\beta_1^t)`, :math:`c^m_t = \beta_1/(1-\beta_1^{t+1})`.
      Equals torch with a huge ``momentum_decay``.
    - ``'lecture'`` (lecture 002): :math:`w_{t+1} = w_t - \frac{\eta}{\sqrt{\hat v}+\epsilon}
      \big(\beta_1 \hat m + \frac{(1-\beta_1)\nabla w}{1-\beta_1^{t}}\big)` with
      :math:`\hat m = m/(1-\beta_1^{t})` (the lecture's :math:`t+1` is our 1-based
      :math:`t`), i.e. :math:`c^m_t = \beta_1/(1-\beta_1^t)`.  The lecture's slide puts eps
      outside the square root (as here); its code uses :math:`\sqrt{\hat v + \epsilon}`.

    ``weight_decay`` is coupled L2 unless ``decoupled_weight_decay`` (:math:`x \leftarrow
    x(1-\eta_t\lambda)` first; torch's option, Keras's ``weight_decay``, ``optax.nadamw``).
    State (``slot_names``): ``m``, ``v``; scalar (``scalar_names``): ``mu_product`` =
    :math:`\Pi_t`.  ``eff_lr`` is :math:`\eta_t (c^g_t + c^m_t)/(\sqrt{\hat v_t}+\epsilon)`, the
    step per unit of gradient when :math:`g_t = m_t`.

    References: Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop;
    ``torch.optim.NAdam``; ``keras.optimizers.Nadam``; ``optax.nadam``.
    """

    name = "nadam"
    params = NADAM_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": nadam_init, "step": nadam_step, "eff_lr": nadam_eff_lr}
    slots = 2
    elementwise = True
    slot_names = NADAM_SLOTS
    scalars = 1
    scalar_names = NADAM_SCALARS
    momentum_param = "beta1"
