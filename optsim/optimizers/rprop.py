"""Rprop (Riedmiller & Braun 1993): a per-coordinate step size that grows while the gradient
keeps its sign and shrinks when it flips; the step is the step size times the gradient's sign."""

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["Rprop", "RPROP_FORMS"]

RPROP_FORMS = ("torch", "optax", "backtracking")

RPROP_PARAMS = (
    Param("lr", 1e-2, "initial step size of every coordinate (a schedule does not change it)", low=0.0,
          low_open=True),
    Param("eta_minus", 0.5, "factor of the step size when the gradient changes sign", low=0.0, high=1.0,
          low_open=True, high_open=True),
    Param("eta_plus", 1.2, "factor of the step size while the gradient keeps its sign", low=1.0, low_open=True),
    Param("step_size_min", 1e-6, "smallest step size", low=0.0),
    Param("step_size_max", 50.0, "largest step size", low=0.0, low_open=True),
    Param("form", "torch", "torch.optim.Rprop's or optax.rprop's bookkeeping, or the original rule with weight "
          "backtracking (see the docstring)",
          kind="choice", choices=RPROP_FORMS),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
RPROP_SLOTS = ("step_size", "prev", "last_step")
H = param_layout(RPROP_PARAMS, "RpropParams")
M = layout(RPROP_SLOTS, "RpropSlots")


@njit(cache=True)
def rprop_init(x, S, sc, hp):
    for i in range(x.shape[0]):
        S[M.step_size, i] = hp[H.lr]


@njit(cache=True, inline="always")
def _sign(a):
    return 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)


@njit(cache=True)
def rprop_step(x, g, S, sc, t, lr, hp):
    up = hp[H.eta_plus]
    down = hp[H.eta_minus]
    lo = hp[H.step_size_min]
    hi = hp[H.step_size_max]
    optax_form = hp[H.form] == 1.0
    backtrack = hp[H.form] == 2.0
    maximize = hp[H.maximize] != 0.0
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        prev = S[M.prev, i]
        s = _sign(gi * prev)
        size = S[M.step_size, i]
        if optax_form:
            if s != 0.0:
                size = min(max(size * (up if s > 0.0 else down), lo), hi)
            S[M.step_size, i] = size
            if s < 0.0:
                S[M.prev, i] = 0.0
            else:
                S[M.prev, i] = size * _sign(gi)
                x[i] = x[i] - prev
        elif backtrack:
            if s < 0.0:
                S[M.step_size, i] = max(size * down, lo)
                S[M.prev, i] = 0.0
                x[i] = x[i] - S[M.last_step, i]
                S[M.last_step, i] = 0.0
            else:
                if s > 0.0:
                    size = min(size * up, hi)
                S[M.step_size, i] = size
                S[M.prev, i] = gi
                d = -_sign(gi) * size
                S[M.last_step, i] = d
                x[i] = x[i] + d
        else:
            size = min(max(size * (up if s > 0.0 else (down if s < 0.0 else 1.0)), lo), hi)
            S[M.step_size, i] = size
            if s < 0.0:
                gi = 0.0
            S[M.prev, i] = gi
            x[i] = x[i] - _sign(gi) * size


@njit(cache=True)
def rprop_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = S[M.step_size, i]


class Rprop(Optimizer):
    r"""Rprop, as ``torch.optim.Rprop`` by default (the variant without weight backtracking).

    With :math:`\eta^-, \eta^+` = ``eta_minus``, ``eta_plus`` (or ``etas``),
    :math:`[\Delta_{\min}, \Delta_{\max}]` = ``step_size_min``, ``step_size_max`` (or
    ``step_sizes``), :math:`\Delta_0 = \eta_0` = ``lr`` and :math:`p_0 = 0`, per coordinate:

    .. math::

        s_t &= \operatorname{sign}(g_t\, p_{t-1}), \qquad
        \Delta_t = \operatorname{clip}\big(\Delta_{t-1} \cdot
          \{\eta^+ \text{ if } s_t > 0;\ \eta^- \text{ if } s_t < 0;\ 1 \text{ if } s_t = 0\},
          \ \Delta_{\min}, \Delta_{\max}\big) \\
        p_t &= 0 \text{ if } s_t < 0 \text{ else } g_t, \qquad
        x_t = x_{t-1} - \Delta_t \operatorname{sign}(p_t)

    so a coordinate whose gradient flips sign does not move on that step, and its next step
    starts afresh (:math:`s = 0`).  The learning rate is only the initial step size: as in
    torch, a learning-rate schedule does not change the steps.

    ``form='optax'`` is ``optax.rprop``'s bookkeeping: it keeps :math:`p_t = \Delta_t
    \operatorname{sign}(g_t)` (0 where :math:`s_t < 0`), leaves :math:`\Delta` unchanged and
    unclipped where :math:`s_t = 0`, and returns :math:`p_{t-1}` as the step of update
    :math:`t` (0 where :math:`s_t < 0`): each step is applied one update late, the first
    update does not move, and the step pending at a sign change is dropped.  With a constant
    gradient sign its trajectory is torch's delayed by one update.

    ``form='backtracking'`` is Riedmiller & Braun's original rule (Rprop+, in no library):
    where :math:`s_t < 0` the step size shrinks (:math:`\max(\eta^-\Delta, \Delta_{\min})`),
    the previous step :math:`\delta_{t-1}` is taken back (:math:`x_t = x_{t-1} - \delta_{t-1}`)
    and :math:`p_t = 0`; elsewhere :math:`\Delta` grows where :math:`s_t > 0`
    (:math:`\min(\eta^+\Delta, \Delta_{\max})`), :math:`\delta_t = -\Delta_t
    \operatorname{sign}(g_t)`, :math:`x_t = x_{t-1} + \delta_t`, :math:`p_t = g_t`.

    ``maximize`` negates the gradient first.  State (``slot_names``): ``step_size``
    (:math:`\Delta`), ``prev`` (:math:`p`), ``last_step`` (:math:`\delta`, for the
    backtracking form).  ``eff_lr`` is :math:`\Delta_t`.

    References: M. Riedmiller, H. Braun, *A Direct Adaptive Method for Faster Backpropagation
    Learning: The RPROP Algorithm*, IEEE ICNN 1993; C. Igel, M. Hüsken, *Improving the Rprop
    Learning Algorithm*, NC 2000 (the variant without backtracking, iRprop-).
    """

    name = "rprop"
    params = RPROP_PARAMS
    aliases = {"etas": ("eta_minus", "eta_plus"), "step_sizes": ("step_size_min", "step_size_max")}
    kernels = {"init": rprop_init, "step": rprop_step, "eff_lr": rprop_eff_lr}
    slots = len(RPROP_SLOTS)
    slot_names = RPROP_SLOTS
    schedulable = ("eta_minus", "eta_plus", "step_size_min", "step_size_max")
    elementwise = True
