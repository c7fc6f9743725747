"""DoG (Ivgi et al. 2023) and DoWG (Khaled et al. 2023): SGD whose step size is the largest
distance travelled from the start over the accumulated gradient norms.

Both sum over all coordinates: they keep named per-trajectory scalars and are not elementwise.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["DoG", "DoWG"]

INIT_STEP = ("heuristic", "distance")

DOG_PARAMS = (
    Param("lr", 1.0, "multiplier c of the step size (leave at 1)", low=0.0, low_open=True),
    Param("reps_rel", 1e-6, "initial movement r_eps: relative to 1 + |x_0| ('heuristic') or absolute "
          "('distance')", low=0.0, low_open=True),
    Param("init_step", "heuristic", "how reps_rel sets the initial distance: 'heuristic' r_eps (1 + |x_0|) "
          "(dog-optimizer, optax's default) or 'distance' r_eps (optax's init_step=('distance', r_eps))",
          kind="choice", choices=INIT_STEP),
    Param("init_eta", None, "the first step size, overriding reps_rel (None: from reps_rel)", low=0.0,
          low_open=True, none_ok=True),
    Param("eps", 1e-8, "added to the sum of squared gradient norms", low=0.0),
    Param("weight_decay", 0.0, "coupled L2 coefficient, added to the gradient", low=0.0),
)
DOWG_PARAMS = (
    Param("lr", 1.0, "multiplier of the step size (leave at 1)", low=0.0, low_open=True),
    Param("init_estim_sq_dist", None, "initial estimate of the squared distance (None: eps)", low=0.0,
          low_open=True, none_ok=True),
    Param("eps", 1e-4, "added to the root of the weighted sum, and the default initial estimate", low=0.0,
          low_open=True),
    Param("weight_decay", 0.0, "coupled L2 coefficient, added to the gradient", low=0.0),
)
HG = param_layout(DOG_PARAMS, "DoGParams")
HW = param_layout(DOWG_PARAMS, "DoWGParams")
SLOTS = ("x0",)
S_ = layout(SLOTS, "DoGSlots")
DOG_SCALARS = ("rbar", "G", "eta", "steps")
DOWG_SCALARS = ("sq_dist", "weighted_sq_norm_grads", "eta")
CG = layout(DOG_SCALARS, "DoGScalars")
CW = layout(DOWG_SCALARS, "DoWGScalars")


@njit(cache=True)
def dog_init(x, S, sc, hp):
    for i in range(x.shape[0]):
        S[S_.x0, i] = x[i]


@njit(cache=True, inline="always")
def _decayed_sq_dist(x, g, S, wd):
    """Add the L2 term to g in place; return (|g|^2, |x - x0|^2)."""
    gsq = 0.0
    dsq = 0.0
    for i in range(x.shape[0]):
        if wd != 0.0:
            g[i] = g[i] + wd * x[i]
        gsq += g[i] * g[i]
        e = x[i] - S[S_.x0, i]
        dsq += e * e
    return gsq, dsq


@njit(cache=True)
def dog_step(x, g, S, sc, t, lr, hp):
    n = x.shape[0]
    gsq, dsq = _decayed_sq_dist(x, g, S, hp[HG.weight_decay])
    init_eta = hp[HG.init_eta]
    given = init_eta == init_eta
    first = sc[CG.steps] == 0.0
    if first:
        if given:
            rbar = 0.0
        elif hp[HG.init_step] != 0.0:
            rbar = hp[HG.reps_rel]
        else:
            xsq = 0.0
            for i in range(n):
                xsq += x[i] * x[i]
            rbar = hp[HG.reps_rel] * (1.0 + math.sqrt(xsq))
        G = gsq + hp[HG.eps]
    else:
        rbar = max(sc[CG.rbar], math.sqrt(dsq))
        G = sc[CG.G] + gsq
    eta = lr * rbar / math.sqrt(G) if G > 0.0 else 0.0
    if first and given:
        eta = init_eta
    sc[CG.rbar] = rbar
    sc[CG.G] = G
    sc[CG.eta] = eta
    sc[CG.steps] += 1.0
    for i in range(n):
        x[i] = x[i] - eta * g[i]


@njit(cache=True)
def dog_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = sc[CG.eta]


@njit(cache=True)
def dowg_init(x, S, sc, hp):
    for i in range(x.shape[0]):
        S[S_.x0, i] = x[i]
    r0 = hp[HW.init_estim_sq_dist]
    sc[CW.sq_dist] = r0 if r0 == r0 else hp[HW.eps]


@njit(cache=True)
def dowg_step(x, g, S, sc, t, lr, hp):
    gsq, dsq = _decayed_sq_dist(x, g, S, hp[HW.weight_decay])
    r2 = max(sc[CW.sq_dist], dsq)
    v = r2 * gsq + sc[CW.weighted_sq_norm_grads]
    eta = lr * (r2 / (math.sqrt(v) + hp[HW.eps]))
    sc[CW.sq_dist] = r2
    sc[CW.weighted_sq_norm_grads] = v
    sc[CW.eta] = eta
    for i in range(x.shape[0]):
        x[i] = x[i] - eta * g[i]


@njit(cache=True)
def dowg_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = sc[CW.eta]


class DoG(Optimizer):
    r"""DoG, distance over gradients, as ``dog.DoG`` (dog-optimizer) and ``optax.contrib.dog``.

    With :math:`c` = the scheduled ``lr``, :math:`r_\epsilon` = ``reps_rel``, :math:`\epsilon`
    = ``eps``, :math:`\lambda` = ``weight_decay``, :math:`\tilde g_t = g_t + \lambda x_{t-1}`
    and :math:`x_0` the starting point:

    .. math::

        \bar r_1 &= r_\epsilon (1 + \lVert x_0 \rVert_2), \qquad
        \bar r_t = \max(\bar r_{t-1}, \lVert x_{t-1} - x_0 \rVert_2) \quad (t > 1) \\
        G_t &= \epsilon + \textstyle\sum_{i \le t} \lVert \tilde g_i \rVert_2^2, \qquad
        \eta_t = c\, \bar r_t / \sqrt{G_t} \\
        x_t &= x_{t-1} - \eta_t\, \tilde g_t

    ``init_step='distance'`` starts from :math:`\bar r_1 = r_\epsilon` (optax's
    ``init_step=("distance", r_eps)``); ``init_eta`` makes the first step size
    :math:`\eta_1` = ``init_eta`` and starts :math:`\bar r` from 0 (dog-optimizer's
    ``init_eta``; optax's ``("learning_rate", init_eta)`` multiplies it by ``lr`` as well,
    the same at the recommended ``lr=1``).  dog-optimizer adds :math:`\epsilon` to the first
    squared norm and optax to the sum: the same up to rounding.  A zero :math:`G_t` (a zero
    gradient with ``eps=0``, which dog-optimizer refuses) gives a zero step.  The
    layer-wise form (LDoG) and the iterate averaging the authors recommend are not included.

    State: ``x0``; scalars ``rbar`` (:math:`\bar r_t`), ``G``, ``eta`` (the last
    :math:`\eta_t`, which is ``eff_lr``) and ``steps``.

    References: Ivgi, Hinder & Carmon, *DoG is SGD's Best Friend: A Parameter-Free Dynamic
    Step Size Schedule*, ICML 2023 (arXiv:2302.12022); the authors' package ``dog-optimizer``
    (github.com/formll/dog, v1.0.3); ``optax.contrib.dog``.
    """

    name = "dog"
    params = DOG_PARAMS
    slots = 1
    slot_names = SLOTS
    scalar_names = DOG_SCALARS
    schedulable = ("eps", "weight_decay")
    elementwise = False
    kernels = {"init": dog_init, "step": dog_step, "eff_lr": dog_eff_lr}


class DoWG(Optimizer):
    r"""DoWG, distance over weighted gradients, as ``optax.contrib.dowg`` (the only library
    that has it).

    With :math:`c` = the scheduled ``lr``, :math:`\epsilon` = ``eps``, :math:`\lambda` =
    ``weight_decay``, :math:`\tilde g_t = g_t + \lambda x_{t-1}`, :math:`x_0` the starting
    point and :math:`\bar r_0^2` = ``init_estim_sq_dist`` (default :math:`\epsilon`):

    .. math::

        \bar r_t^2 &= \max(\bar r_{t-1}^2, \lVert x_{t-1} - x_0 \rVert_2^2), \qquad
        v_t = v_{t-1} + \bar r_t^2 \lVert \tilde g_t \rVert_2^2 \\
        \eta_t &= c\, \bar r_t^2 / (\sqrt{v_t} + \epsilon), \qquad
        x_t = x_{t-1} - \eta_t\, \tilde g_t

    The paper's Algorithm 1 has no :math:`\epsilon` in the denominator and starts from a
    given :math:`\bar r_0`; optax adds :math:`\epsilon` and reuses it as
    :math:`\bar r_0^2`.

    State: ``x0``; scalars ``sq_dist`` (:math:`\bar r_t^2`), ``weighted_sq_norm_grads``
    (:math:`v_t`) and ``eta`` (the last :math:`\eta_t`, which is ``eff_lr``).

    References: Khaled, Mishchenko & Jin, *DoWG Unleashed: An Efficient Universal
    Parameter-Free Gradient Descent Method*, NeurIPS 2023 (arXiv:2305.16284);
    ``optax.contrib.dowg``.
    """

    name = "dowg"
    params = DOWG_PARAMS
    slots = 1
    slot_names = SLOTS
    scalar_names = DOWG_SCALARS
    schedulable = ("eps", "weight_decay")
    elementwise = False
    kernels = {"init": dowg_init, "step": dowg_step, "eff_lr": dowg_eff_lr}
