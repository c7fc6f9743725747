"""AdaMax (Kingma & Ba 2015, §7.1): Adam with the infinity norm in place of the L2 norm."""

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["Adamax", "ADAMAX_EPS_MODES"]

ADAMAX_EPS_MODES = ("inside_max", "outside")

ADAMAX_PARAMS = (
    Param("lr", 2e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the infinity norm", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "keeps the denominator positive", low=0.0),
    Param("weight_decay", 0.0, "L2 (coupled) or decoupled decay coefficient", low=0.0),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
    Param("eps_mode", "inside_max", "eps inside the max (torch, optax) or added to u (Keras)",
          kind="choice", choices=ADAMAX_EPS_MODES),
    Param("decoupled_weight_decay", False, "decay x by lr*wd before the step", kind="bool"),
)
ADAMAX_SLOTS = ("m", "u")

H = param_layout(ADAMAX_PARAMS, "AdamaxParams")
M = layout(ADAMAX_SLOTS, "AdamaxSlots")


@njit(cache=True)
def adamax_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    maximize = hp[H.maximize] != 0.0
    outside = hp[H.eps_mode] != 0.0
    decoupled = hp[H.decoupled_weight_decay] != 0.0
    clr = lr / (1.0 - beta1 ** float(t))
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            if decoupled:
                x[i] = x[i] * (1.0 - lr * wd)
            else:
                gi = gi + wd * x[i]
        m = beta1 * S[M.m, i] + (1.0 - beta1) * gi
        S[M.m, i] = m
        if outside:  # Keras, the lecture: u = max(b2 u, |g|), divide by u + eps
            u = max(beta2 * S[M.u, i], abs(gi))
            S[M.u, i] = u
            x[i] = x[i] - clr * m / (u + eps)
        else:  # torch, optax: eps inside the max
            u = max(beta2 * S[M.u, i], abs(gi) + eps)
            S[M.u, i] = u
            x[i] = x[i] - clr * m / u


@njit(cache=True)
def adamax_eff_lr(S, sc, t, lr, hp, out):
    clr = lr / (1.0 - hp[H.beta1] ** float(max(t, 1)))
    eps = hp[H.eps] if hp[H.eps_mode] != 0.0 else 0.0
    for i in range(out.shape[0]):
        out[i] = clr / (S[M.u, i] + eps)


class Adamax(Optimizer):
    r"""AdaMax, in PyTorch's form by default (``torch.optim.Adamax``).

    With :math:`\eta_t` the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``, ``beta2``,
    :math:`\epsilon` = ``eps``:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t| + \epsilon), \qquad
        x_t = x_{t-1} - \frac{\eta_t}{1-\beta_1^t}\, \frac{m_t}{u_t}
        \qquad (\text{eps\_mode='inside\_max'}) \\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t|), \qquad
        x_t = x_{t-1} - \frac{\eta_t}{1-\beta_1^t}\, \frac{m_t}{u_t + \epsilon}
        \qquad (\text{eps\_mode='outside'})

    :math:`u` is the limit :math:`p \to \infty` of the :math:`L^p` rule
    :math:`v_t = \beta_2^p v_{t-1} + (1-\beta_2^p)|g_t|^p`, :math:`u_t = v_t^{1/p}`; it needs
    no bias correction.  ``'inside_max'`` matches ``torch.optim.Adamax`` and
    ``optax.adamax``; ``'outside'`` matches Keras ``Adamax`` (eps default 1e-7 there) and
    lecture 002's update :math:`w_{t+1} = w_t - \eta \hat m_t/(v_t + \epsilon)`; with
    ``eps=0`` both are Kingma & Ba's Algorithm 2.

    ``weight_decay`` is coupled L2 (torch) unless ``decoupled_weight_decay``
    (:math:`x \leftarrow x(1-\eta_t\lambda)` before the step: ``optax.adamaxw``, Keras).
    State (``slot_names``): ``m``, ``u``.  ``eff_lr`` is
    :math:`\eta_t/((1-\beta_1^t)\,\mathrm{denominator})`: the step is ``eff_lr * m``.

    .. note:: Kingma & Ba state :math:`|\Delta_t| \le \eta`.  That is not exact: the tight bound
       is :math:`\eta \frac{1-\beta_1}{1-\beta_1^t}\sum_{j<t} (\beta_1/\beta_2)^j`, which
       exceeds :math:`\eta` by up to :math:`(1-\beta_1)/(1-\beta_1/\beta_2) - 1`
       (0.9% for the defaults) when :math:`|g|` shrinks by :math:`\beta_2` per step.

    Reference: Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015, §7.1.
    """

    name = "adamax"
    params = ADAMAX_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": adamax_step, "eff_lr": adamax_eff_lr}
    slots = 2
    elementwise = True
    slot_names = ADAMAX_SLOTS
    momentum_param = "beta1"
