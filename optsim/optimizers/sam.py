"""Sharpness-aware minimization over SGD with momentum: two gradients per step."""

import math

from numba import njit

from .._components import Param, ParameterError, layout, param_layout
from .._roles import Optimizer
from ._common import heavy_ball, l2_gradient, no_init

__all__ = ["SAM"]

SAM_PARAMS = (
    Param("lr", 1e-3, "learning rate of the base SGD step", low=0.0, low_open=True),
    Param("rho", 0.05, "radius rho of the ascent step", low=0.0),
    Param("momentum", 0.0, "momentum factor mu of the base SGD", low=0.0, high=1.0, high_open=True),
    Param("dampening", 0.0, "dampening tau of the gradient in the buffer", low=0.0, high=1.0),
    Param("weight_decay", 0.0, "coupled L2 coefficient of the base SGD, at x", low=0.0),
    Param("nesterov", False, "Nesterov momentum in the base SGD (needs momentum > 0, dampening 0)",
          kind="bool"),
    Param("adaptive", False, "ASAM: scale the ascent step by |x| coordinatewise", kind="bool"),
    Param("eps", 1e-12, "added to the gradient norm in the ascent step", low=0.0),
    Param("same_noise", True, "take the gradient at the ascent point on the same noise sample "
          "(False: an independent draw)", kind="bool"),
    Param("maximize", False, "ascend f: SAM on -f (the perturbation descends, the step ascends)", kind="bool"),
)
SAM_SLOTS = ("momentum_buffer",)

H = param_layout(SAM_PARAMS, "SAMParams")
M = layout(SAM_SLOTS, "SAMSlots")
POINT = layout(("x", "ascent"), "SAMPoints")  # the two evaluation points of a step


@njit(cache=True)
def sam_point(x, g_prev, S, sc, t, k, hp, y):
    n = x.shape[0]
    if k == POINT.x:
        for i in range(n):
            y[i] = x[i]
        return
    adaptive = hp[H.adaptive] != 0.0
    ss = 0.0
    for i in range(n):
        v = abs(x[i]) * g_prev[i] if adaptive else g_prev[i]
        ss += v * v
    scale = hp[H.rho] / (math.sqrt(ss) + hp[H.eps])
    if hp[H.maximize] != 0.0:  # the gradient of -f
        scale = -scale
    for i in range(n):
        e = x[i] * x[i] * g_prev[i] * scale if adaptive else g_prev[i] * scale
        y[i] = x[i] + e


@njit(cache=True)
def sam_step(x, g, S, sc, t, lr, hp):
    momentum = hp[H.momentum]
    dampening = hp[H.dampening]
    wd = hp[H.weight_decay]
    nesterov = hp[H.nesterov] != 0.0
    maximize = hp[H.maximize] != 0.0
    for i in range(x.shape[0]):
        gi = l2_gradient(g[i], x[i], wd, maximize)
        if momentum == 0.0:
            x[i] = x[i] - lr * gi
        else:  # torch.optim.SGD's momentum, as SGD's default form
            x[i], S[M.momentum_buffer, i] = heavy_ball(x[i], gi, S[M.momentum_buffer, i], t, lr, momentum,
                                                       dampening, nesterov)


@njit(cache=True)
def sam_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class SAM(Optimizer):
    r"""Sharpness-aware minimization (SAM, and ASAM with ``adaptive``) over SGD with momentum.

    Each step takes two observed gradients: at :math:`x_{t-1}`, then at the ascent point
    :math:`x_{t-1} + \epsilon_t`, and updates :math:`x` by SGD (``torch.optim.SGD``) with the
    second.  With :math:`\rho` = ``rho``, :math:`\varepsilon` = ``eps``, :math:`\eta_t` = the
    scheduled ``lr``, :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``,
    :math:`\lambda` = ``weight_decay``, :math:`T = \operatorname{diag}(|x_{t-1}|)` with
    ``adaptive`` (else :math:`T = I`):

    .. math::

        g_t &= \nabla f(x_{t-1}) \\
        \epsilon_t &= \frac{\rho}{\lVert T g_t \rVert_2 + \varepsilon}\, T^2 g_t \\
        \tilde g_t &= \nabla f(x_{t-1} + \epsilon_t) + \lambda x_{t-1} \\
        b_1 &= \tilde g_1, \qquad b_t = \mu b_{t-1} + (1 - \tau)\, \tilde g_t \quad (t > 1) \\
        d_t &= \tilde g_t + \mu b_t \ \text{(nesterov)} \quad\text{or}\quad d_t = b_t \\
        x_t &= x_{t-1} - \eta_t\, d_t

    The norm is over all coordinates (the rule is not elementwise).  With ``same_noise``
    (default) the second gradient is taken on the same noise sample as the first (the
    same minibatch, the same gradient-noise draw), as SAM's two backward passes on one
    batch; ``same_noise=False`` draws it independently.  ``maximize`` ascends :math:`f` as
    SAM on :math:`-f`: :math:`g_t` and :math:`\tilde g_t` above are the gradients of
    :math:`-f` (the perturbation moves down, the step up), as ``torch.optim.SGD(maximize=True)``
    negates the gradient before adding the weight decay.  The loss a schedule watches is the
    one observed at the ascent point.  ``momentum=0`` is plain SGD on the SAM gradient.

    This follows the reference implementation (github:davda54/sam, ``SAM.first_step``:
    ``scale = rho / (grad_norm + 1e-12)``, ``e_w = (p**2 if adaptive else 1) * p.grad *
    scale``, the norm of ``(|p| if adaptive else 1) * p.grad``; ``second_step``: back to
    :math:`x_{t-1}`, then the base optimizer's step).

    State: ``momentum_buffer``, the buffer :math:`b`.  ``eff_lr`` is the scheduled lr.
    ``momentum`` is the parameter a momentum-cycling schedule overrides.

    References: Foret, Kleiner, Mobahi & Neyshabur, *Sharpness-Aware Minimization for
    Efficiently Improving Generalization*, ICLR 2021; Kwon, Kim, Park & Choi, *ASAM:
    Adaptive Sharpness-Aware Minimization for Scale-Invariant Learning of Deep Neural
    Networks*, ICML 2021.
    """

    name = "sam"
    params = SAM_PARAMS
    kernels = {"init": no_init, "step": sam_step, "eff_lr": sam_eff_lr, "point": sam_point}
    slots = 1
    slot_names = SAM_SLOTS
    momentum_param = "momentum"
    evaluations = len(POINT)
    same_noise = True
    same_noise_param = "same_noise"

    def _validate(self):
        if self.nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ParameterError(
                "SAM: nesterov=True requires momentum > 0 and dampening = 0 "
                f"(got momentum={self.momentum}, dampening={self.dampening})"
            )
