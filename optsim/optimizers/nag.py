"""Nesterov accelerated gradient in the look-ahead form of the lectures."""

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["NAG"]

NAG_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("momentum", 0.9, "momentum factor gamma", low=0.0, high=1.0, high_open=True),
    Param("weight_decay", 0.0, "coupled L2 coefficient, at the look-ahead point", low=0.0),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
NAG_SLOTS = ("velocity",)
NAG_SCALARS = ("gamma_look",)

H = param_layout(NAG_PARAMS, "NAGParams")
M = layout(NAG_SLOTS, "NAGSlots")
C = layout(NAG_SCALARS, "NAGScalars")


@njit(cache=True)
def nag_lookahead(x, S, sc, t, hp, y):
    gamma = hp[H.momentum]
    sc[C.gamma_look] = gamma  # the gamma of this look-ahead, for the L2 term at the same point
    for i in range(x.shape[0]):
        y[i] = x[i] - gamma * S[M.velocity, i]


@njit(cache=True)
def nag_step(x, g, S, sc, t, lr, hp):
    gamma = hp[H.momentum]
    wd = hp[H.weight_decay]
    maximize = hp[H.maximize] != 0.0
    gamma_look = sc[C.gamma_look]
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            gi = gi + wd * (x[i] - gamma_look * S[M.velocity, i])  # L2 gradient at the look-ahead point
        u = gamma * S[M.velocity, i] + lr * gi
        S[M.velocity, i] = u
        x[i] = x[i] - u


@njit(cache=True)
def nag_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class NAG(Optimizer):
    r"""Nesterov accelerated gradient with the gradient taken at the look-ahead point.

    The form of lecture 002 (CS6910, "NAG"), with :math:`\eta_t` = the scheduled ``lr``,
    :math:`\gamma` = ``momentum``, :math:`u_0 = 0`:

    .. math::

        w_{\text{look}} &= w_t - \gamma u_{t-1} \\
        u_t &= \gamma u_{t-1} + \eta_t \nabla f(w_{\text{look}}) \\
        w_{t+1} &= w_t - u_t

    The engine evaluates the gradient (and any gradient noise) at :math:`w_{\text{look}}`
    (the ``lookahead`` kernel), while the recorded parameter is the true :math:`w_t`.
    ``weight_decay`` :math:`\lambda` is coupled L2, differentiated at the same look-ahead
    point (:math:`\nabla f(w_{\text{look}}) + \lambda w_{\text{look}}`); ``maximize`` negates
    the gradient.  The learning rate is inside the velocity :math:`u`, as in the lectures
    and Sutskever et al. (2013) (:math:`v = -u`).  Lecture 002 also writes the equivalent
    :math:`u_t = \gamma u_{t-1} + \nabla f(w_t - \gamma\eta u_{t-1})`,
    :math:`w_{t+1} = w_t - \eta u_t` (lr outside); the two agree at constant lr.

    Equivalence ("Rewritten NAG"): at constant lr the look-ahead points
    :math:`y_t = w_t - \gamma u_{t-1}` of this rule are exactly the parameters stored by
    ``SGD(momentum=gamma, nesterov=True)`` (PyTorch, optax and Keras all store the
    look-ahead variable), with buffer :math:`b_t = u_t / \eta`.  Under a schedule they
    differ (PyTorch keeps lr outside its buffer).

    State: ``velocity`` = :math:`u` (lr included); scalar ``gamma_look`` = the :math:`\gamma`
    used for the last look-ahead.  ``eff_lr`` is the scheduled lr.  ``momentum`` is the
    parameter a momentum-cycling schedule overrides; the look-ahead of a step uses the
    previous step's value (the override is applied after the gradient is taken).

    References: Nesterov, *A method of solving a convex programming problem with
    convergence rate O(1/k^2)*, 1983; Sutskever et al., *On the importance of
    initialization and momentum in deep learning*, ICML 2013; Bengio et al., *Advances in
    optimizing recurrent networks*, 2013 (the reparametrised form).
    """

    name = "nag"
    params = NAG_PARAMS
    kernels = {"init": no_init, "step": nag_step, "eff_lr": nag_eff_lr, "lookahead": nag_lookahead}
    slots = 1
    elementwise = True
    slot_names = NAG_SLOTS
    scalars = 1
    scalar_names = NAG_SCALARS
    momentum_param = "momentum"
