"""MARS (Yuan et al. 2024): a variance-reduced (STORM) gradient estimate, clipped to unit norm
per parameter array, in an AdamW or a Lion step.

``MARS`` is the authors' practical form (``is_approx=True``): the correction uses the last
step's gradient.  ``MARSExact`` is the paper's Algorithm 1: two gradients per step on ONE
noise sample, at :math:`x_t` and at :math:`x_{t-1}` (``evaluations = 2``, ``same_noise``).
Both clip by the norm of each of the problem's parameter arrays (``matrix = True``).
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["MARS", "MARSExact"]

MARS_TYPES = ("adamw", "lion")
EPS_MODES = ("authors", "pytorch_optimizer")

MARS_PARAMS = (
    Param("lr", 3e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.95, "decay beta1 of the momentum of the corrected gradient", low=0.0, high=1.0,
          high_open=True),
    Param("beta2", 0.99, "decay of the second moment (AdamW form)", low=0.0, high=1.0, high_open=True),
    Param("gamma", 0.025, "strength gamma of the gradient correction", low=0.0),
    Param("eps", 1e-8, "added to the bias-corrected root of the second moment", low=0.0),
    Param("weight_decay", 0.0, "decoupled weight decay, times lr", low=0.0),
    Param("mars_type", "adamw", "the step on the momentum: 'adamw' (m / denominator) or 'lion' (sign of m)",
          kind="choice", choices=MARS_TYPES),
    Param("eps_mode", "authors", "'authors': sqrt(v / bc2) + eps (github:AGI-Arena/MARS); "
          "'pytorch_optimizer': (sqrt(v) + eps) / sqrt(bc2)", kind="choice", choices=EPS_MODES),
    Param("eps_root", 0.0, "added to v inside the root (pytorch-optimizer: 1e-15)", low=0.0),
    Param("max_norm", 1.0, "the corrected gradient of an array is scaled to this norm when longer", low=0.0,
          low_open=True),
)
H = param_layout(MARS_PARAMS, "MARSParams")
SLOTS = ("exp_avg", "exp_avg_sq", "last_grad")
EXACT_SLOTS = SLOTS + ("x_prev",)
S_ = layout(EXACT_SLOTS, "MARSSlots")
BL = layout(("offset", "rows", "cols"), "MARSBlock")
POINT = layout(("previous", "current"), "MARSPoints")  # the two evaluation points of an exact step



@njit(cache=True)
def mars_update(x, g, S, t, lr, hp, blocks):
    """One MARS step of x with the gradient g against S[last_grad], which then holds g (the
    last gradient of the practical form); g is overwritten."""
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    eps_root = hp[H.eps_root]
    lion = hp[H.mars_type] != 0.0
    lib_eps = hp[H.eps_mode] != 0.0
    scale = hp[H.gamma] * (beta1 / (1.0 - beta1))
    max_norm = hp[H.max_norm]
    shrink = 1.0 - lr * hp[H.weight_decay]
    tf = float(t)
    bc1 = 1.0 - beta1 ** tf
    root_bc2 = math.sqrt(1.0 - beta2 ** tf)
    for k in range(blocks.shape[0]):
        off = blocks[k, BL.offset]
        size = blocks[k, BL.rows] * max(blocks[k, BL.cols], 1)
        ss = 0.0
        for i in range(off, off + size):
            gi = g[i]
            c = (gi - S[S_.last_grad, i]) * scale + gi
            S[S_.last_grad, i] = gi
            g[i] = c
            ss += c * c
        norm = math.sqrt(ss)
        for i in range(off, off + size):
            c = g[i] / norm * max_norm if norm > max_norm else g[i]
            m = beta1 * S[S_.exp_avg, i] + (1.0 - beta1) * c
            S[S_.exp_avg, i] = m
            if lion:
                u = 1.0 if m > 0.0 else (-1.0 if m < 0.0 else 0.0)
            else:
                v = beta2 * S[S_.exp_avg_sq, i] + (1.0 - beta2) * c * c
                S[S_.exp_avg_sq, i] = v
                if lib_eps:
                    den = (math.sqrt(v + eps_root) + eps) / root_bc2 * bc1
                else:
                    den = (math.sqrt(v + eps_root) / root_bc2 + eps) * bc1
                u = m / den
            x[i] = x[i] * shrink - lr * u


@njit(cache=True)
def mars_init(x, S, sc, hp):
    pass  # the moments and the last gradient start at zero


@njit(cache=True)
def mars_step(x, g, S, sc, t, lr, hp, blocks):
    mars_update(x, g, S, t, lr, hp, blocks)


@njit(cache=True)
def mars_exact_init(x, S, sc, hp):
    for i in range(x.shape[0]):
        S[S_.x_prev, i] = x[i]  # x_{-1} = x_0: the first correction is zero


@njit(cache=True)
def mars_exact_point(x, g_prev, S, sc, t, k, hp, y):
    n = x.shape[0]
    if k == POINT.previous:
        for i in range(n):
            y[i] = S[S_.x_prev, i]
        return
    for i in range(n):  # the gradient at the previous point on this step's sample
        S[S_.last_grad, i] = g_prev[i]
        y[i] = x[i]


@njit(cache=True)
def mars_exact_step(x, g, S, sc, t, lr, hp, blocks):
    for i in range(x.shape[0]):
        S[S_.x_prev, i] = x[i]
    mars_update(x, g, S, t, lr, hp, blocks)


@njit(cache=True)
def mars_eff_lr(S, sc, t, lr, hp, out):
    tf = float(max(t, 1))
    bc1 = 1.0 - hp[H.beta1] ** tf
    root_bc2 = math.sqrt(1.0 - hp[H.beta2] ** tf)
    for i in range(out.shape[0]):
        r = math.sqrt(S[S_.exp_avg_sq, i] + hp[H.eps_root])
        if hp[H.mars_type] != 0.0:
            out[i] = lr
        elif hp[H.eps_mode] != 0.0:
            out[i] = lr / ((r + hp[H.eps]) / root_bc2 * bc1)
        else:
            out[i] = lr / ((r / root_bc2 + hp[H.eps]) * bc1)


_DOC = r"""
    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``, ``beta2``
    (or ``betas``), :math:`\gamma` = ``gamma``, :math:`\epsilon` = ``eps``, :math:`\lambda` =
    ``weight_decay``, :math:`\kappa` = ``max_norm``, :math:`b_i = 1 - \beta_i^t`, for each of
    the problem's parameter arrays (``Problem.param_shapes``):

    .. math::

        c_t &= g_t + \gamma \frac{\beta_1}{1-\beta_1} (g_t - g'_t), \qquad
        \tilde c_t = c_t \min(1, \kappa/\lVert c_t \rVert_2) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, \tilde c_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, \tilde c_t^2 \\
        x_t &= x_{t-1}(1 - \eta_t\lambda) - \eta_t\, \frac{m_t}{(\sqrt{v_t / b_2} + \epsilon)\, b_1}
        \quad\text{or}\quad
        x_t = x_{t-1}(1 - \eta_t\lambda) - \eta_t \operatorname{sign}(m_t)

    (the second with ``mars_type='lion'``).  ``eps_mode='pytorch_optimizer'`` uses the
    denominator :math:`(\sqrt{v_t + \epsilon_r} + \epsilon)\, b_1 / \sqrt{b_2}` of
    ``pytorch_optimizer.MARS``, whose :math:`\epsilon_r` (``eps_root``) is 1e-15; the
    authors' code has :math:`\epsilon_r = 0`.  Both libraries treat 1-D arrays by plain
    AdamW (``betas_1d``, ``lr_1d``, ``weight_decay_1d``) unless ``optimize_1d=True``; optsim
    applies MARS to every array, as ``optimize_1d=True``.  The Shampoo form is not included.

    State: {state}.  ``eff_lr`` is :math:`\eta_t` over the denominator (AdamW form) or
    :math:`\eta_t` (Lion form).

    References: Yuan, Liu, Wu, Zhou & Gu, *MARS: Unleashing the Power of Variance Reduction
    for Training Large Models*, ICML 2025 (arXiv:2411.10438); the authors' code,
    github.com/AGI-Arena/MARS (``MARS/optimizers/mars.py``); ``pytorch_optimizer.MARS``.
"""


class MARS(Optimizer):
    __doc__ = r"""MARS in the authors' practical form (``is_approx=True``), as
    ``github:AGI-Arena/MARS`` and ``pytorch_optimizer.MARS`` (with ``optimize_1d=True``).

    The correction uses the previous step's observed gradient, :math:`g'_t = g_{t-1}`, with
    :math:`g_0 = 0` (so :math:`c_1 = (1 + \gamma\beta_1/(1-\beta_1))\, g_1`, as in both
    libraries).  One gradient per step; :class:`MARSExact` takes the paper's two.
""" + _DOC.replace("{state}", "``exp_avg`` (m), ``exp_avg_sq`` (v), ``last_grad`` (the last observed gradient)")

    name = "mars"
    params = MARS_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    slots = len(SLOTS)
    slot_names = SLOTS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "gamma", "eps", "weight_decay")
    matrix = True
    kernels = {"init": mars_init, "step": mars_step, "eff_lr": mars_eff_lr}


class MARSExact(Optimizer):
    __doc__ = r"""MARS as the paper's Algorithm 1: two gradients per step on one sample.

    The correction is taken on the current sample at the previous point:
    :math:`g_t = \nabla f(x_{t-1}, \xi_t)` and :math:`g'_t = \nabla f(x_{t-2}, \xi_t)` (the
    engine evaluates both on the same noise draw and minibatch: ``evaluations = 2``,
    ``same_noise``), from :math:`x_{-1} = x_0`, so the first correction is zero.  The
    authors' code runs this form with ``is_approx=False`` inside a training loop that calls
    ``update_previous_grad`` and ``update_last_grad``; no library runs it on its own, so the
    NumPy oracle is its only reference.  Without noise it differs from :class:`MARS` only by
    that first correction (a deterministic gradient at :math:`x_{t-2}` is the last one).
""" + _DOC.replace("{state}", "``exp_avg``, ``exp_avg_sq``, ``last_grad`` (the gradient at the previous "
                   "point on the current sample), ``x_prev``")

    name = "mars_exact"
    params = MARS_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    slots = len(EXACT_SLOTS)
    slot_names = EXACT_SLOTS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "gamma", "eps", "weight_decay")
    matrix = True
    evaluations = len(POINT)
    same_noise = True
    kernels = {"init": mars_exact_init, "step": mars_exact_step, "eff_lr": mars_eff_lr,
               "point": mars_exact_point}
