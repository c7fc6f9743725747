"""Adafactor (Shazeer & Stern 2018): a factored second moment on every matrix, relative step
sizes and update clipping, with the conventions of torch.optim, optax and HF transformers.

Adafactor acts on each of the problem's matrices as a matrix (``matrix = True``): a matrix
block keeps one second-moment number per row and one per column, a vector block one per
coordinate, and the parameter scale and the update clipping are RMS norms over each block.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["Adafactor", "ADAFACTOR_EPS_MODES", "ADAFACTOR_DECAY_SCALINGS", "adafactor_step"]

ADAFACTOR_EPS_MODES = ("clamp", "add")
ADAFACTOR_DECAY_SCALINGS = ("lr", "alpha", "none")
WARMUP_INIT_RATE = 1e-6
"""The slope of HF transformers' ``warmup_init``: :math:`\\rho_t = \\min(10^{-6} t, 1/\\sqrt t)`."""

ADAFACTOR_PARAMS = (
    Param("lr", 1e-2, "cap of the relative step size rho_t = min(lr, 1/sqrt(t)) (relative_step), else the "
          "step size; times weight_decay in the decay (decay_scaling='lr')", low=0.0, low_open=True),
    Param("beta2_decay", -0.8, "exponent of the second-moment decay: beta2_t = 1 - t^beta2_decay", high=0.0,
          high_open=True),
    Param("eps1", 2.220446049250313e-16, "regularizer of the second moment (float64's machine epsilon, "
          "torch's default; the paper, optax and HF: 1e-30 with eps_mode='add')", low=0.0),
    Param("eps2", 1e-3, "floor of the parameter RMS in the relative step size", low=0.0),
    Param("d", 1.0, "update clipping threshold: U / max(1, RMS(U)/d) (None: no clipping, optax's "
          "clipping_threshold=None)", low=1.0, none_ok=True),
    Param("weight_decay", 0.0, "decoupled weight decay coefficient", low=0.0),
    Param("beta1", None, "momentum of the scaled update, m = beta1 m + (1 - beta1) u (None: no momentum, "
          "torch's and the paper's)", low=0.0, high=1.0, high_open=True, none_ok=True),
    Param("relative_step", True, "rho_t = min(lr, 1/sqrt(t)) (torch, the paper, HF) instead of lr (optax, "
          "HF with relative_step=False)", kind="bool"),
    Param("warmup_init", False, "HF's warm-up of the relative step: rho_t = min(1e-6 t, 1/sqrt(t))",
          kind="bool"),
    Param("scale_parameter", True, "multiply the step by max(eps2, RMS(x)) of the block", kind="bool"),
    Param("eps_mode", "clamp", "where eps1 goes: 'clamp' (torch: V clamped at eps1^2 and the row-factor mean "
          "at eps1) or 'add' (the paper, optax, HF: G^2 + eps1 before the averages)", kind="choice",
          choices=ADAFACTOR_EPS_MODES),
    Param("decay_scaling", "lr", "the decay: x (1 - lr wd) (torch), x (1 - alpha_t wd) (HF) or x (1 - wd) "
          "(optax's add_decayed_weights)", kind="choice", choices=ADAFACTOR_DECAY_SCALINGS),
    Param("factored", True, "factor the second moment of matrix blocks (optax's factored)", kind="bool"),
    Param("min_dim_size_to_factor", 1, "factor a matrix only when both its dimensions are at least this "
          "(optax's default 128; torch, HF and the paper: every matrix)", kind="int", low=1),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
ADAFACTOR_SLOTS = ("exp_avg", "exp_avg_sq", "exp_avg_sq_col", "update")

H = param_layout(ADAFACTOR_PARAMS, "AdafactorParams")
M = layout(ADAFACTOR_SLOTS, "AdafactorSlots")
BL = layout(("offset", "rows", "cols"), "ParamBlock")


@njit(cache=True, inline="always")
def _second_moment(g, S, off, r, c, factor, w, eps1, add):
    """Update the block's second moment with weight ``w = 1 - beta2_t``; write
    ``U = G / sqrt(V)`` into the ``update`` row and return :math:`\\sum U^2`."""
    b2 = 1.0 - w
    e = eps1 if add else 0.0
    U = S[M.update]
    ss = 0.0
    if factor:
        for i in range(r):  # row factor: the mean of G^2 over the columns
            s = 0.0
            for j in range(c):
                gi = g[off + i * c + j]
                s += gi * gi + e
            S[M.exp_avg_sq, off + i] = b2 * S[M.exp_avg_sq, off + i] + w * (s / c)
        for j in range(c):  # column factor: the mean over the rows
            s = 0.0
            for i in range(r):
                gi = g[off + i * c + j]
                s += gi * gi + e
            S[M.exp_avg_sq_col, off + j] = b2 * S[M.exp_avg_sq_col, off + j] + w * (s / r)
        mr = 0.0
        for i in range(r):
            mr += S[M.exp_avg_sq, off + i]
        mr /= r
        if not add:
            mr = max(mr, eps1)
        for i in range(r):
            ri = S[M.exp_avg_sq, off + i] / mr
            for j in range(c):
                k = off + i * c + j
                v = ri * S[M.exp_avg_sq_col, off + j]
                if not add:
                    v = max(v, eps1 * eps1)
                u = g[k] / math.sqrt(v)
                U[k] = u
                ss += u * u
    else:
        n = r if c == 0 else r * c
        for k in range(off, off + n):
            v = b2 * S[M.exp_avg_sq, k] + w * (g[k] * g[k] + e)
            S[M.exp_avg_sq, k] = v
            if not add:
                v = max(v, eps1 * eps1)
            u = g[k] / math.sqrt(v)
            U[k] = u
            ss += u * u
    return ss


@njit(cache=True)
def adafactor_step(x, g, S, sc, t, lr, hp, blocks):
    tf = float(t)
    w = tf ** hp[H.beta2_decay]  # 1 - beta2_t
    if hp[H.relative_step] != 0.0:
        cap = WARMUP_INIT_RATE * tf if hp[H.warmup_init] != 0.0 else lr
        rho = min(cap, 1.0 / math.sqrt(tf))
    else:
        rho = lr
    add = hp[H.eps_mode] == 1.0
    eps1 = hp[H.eps1]
    d = hp[H.d]
    beta1 = hp[H.beta1]
    wd = hp[H.weight_decay]
    maximize = hp[H.maximize] != 0.0
    min_dim = hp[H.min_dim_size_to_factor]
    for b in range(blocks.shape[0]):
        off = blocks[b, BL.offset]
        r = blocks[b, BL.rows]
        c = blocks[b, BL.cols]
        n = r if c == 0 else r * c
        if maximize:
            for k in range(off, off + n):
                g[k] = -g[k]
        alpha = rho
        if hp[H.scale_parameter] != 0.0:
            s = 0.0
            for k in range(off, off + n):
                s += x[k] * x[k]
            alpha = max(hp[H.eps2], math.sqrt(s / n)) * rho
        factor = c > 0 and hp[H.factored] != 0.0 and min(r, c) >= min_dim
        ss = _second_moment(g, S, off, r, c, factor, w, eps1, add)
        scale = alpha
        if d == d:  # clipping unless d is None (NaN)
            scale = alpha / max(1.0, math.sqrt(ss / n) / d)
        if hp[H.decay_scaling] == 0.0:
            shrink = 1.0 - lr * wd
        elif hp[H.decay_scaling] == 1.0:
            shrink = 1.0 - alpha * wd
        else:
            shrink = 1.0 - wd
        for k in range(off, off + n):
            u = scale * S[M.update, k]
            if beta1 == beta1:
                u = beta1 * S[M.exp_avg, k] + (1.0 - beta1) * u
                S[M.exp_avg, k] = u
            x[k] = x[k] * shrink - u


@njit(cache=True)
def adafactor_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class Adafactor(Optimizer):
    r"""Adafactor: a factored second moment per matrix, relative step sizes and update
    clipping (Shazeer & Stern 2018), in ``torch.optim.Adafactor``'s form by default.

    For every block :math:`X` of the problem's parameter (``Problem.param_shapes``; the
    whole parameter is one vector block unless the problem declares matrices), with
    :math:`G_t` its gradient, :math:`\eta_t` the scheduled ``lr``, :math:`\tau` =
    ``beta2_decay``, :math:`\epsilon_1, \epsilon_2` = ``eps1``, ``eps2``, :math:`d` = ``d``,
    :math:`\lambda` = ``weight_decay``:

    .. math::

        \hat\beta_{2,t} &= 1 - t^{\tau}, \qquad
        \rho_t = \min(\eta_t, 1/\sqrt t), \qquad
        \alpha_t = \max(\epsilon_2, \mathrm{RMS}(X_{t-1}))\, \rho_t \\
        R_t &= \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\, \mathrm{mean}_j (G_t^2)_{ij}, \qquad
        C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\, \mathrm{mean}_i (G_t^2)_{ij} \\
        \hat V_t &= R_t C_t^\top / \max(\mathrm{mean}_i R_{t,i}, \epsilon_1)
        \quad(\text{matrix blocks}), \qquad
        \hat V_t = \hat\beta_{2,t} \hat V_{t-1} + (1-\hat\beta_{2,t}) G_t^2 \quad(\text{vectors}) \\
        U_t &= G_t / \sqrt{\max(\hat V_t, \epsilon_1^2)}, \qquad
        \hat U_t = U_t / \max(1, \mathrm{RMS}(U_t)/d) \\
        X_t &= X_{t-1}(1 - \eta_t\lambda) - \alpha_t \hat U_t

    (means instead of the paper's sums give the same :math:`\hat V`).  Options, each the
    form of a reference:

    - ``eps_mode``: ``'clamp'`` (torch: the clamps above, ``eps1`` = machine epsilon,
      torch's ``eps=(None, 1e-3)``) or ``'add'`` (the paper, ``optax.adafactor``, HF
      ``transformers.Adafactor``: :math:`G_t^2 + \epsilon_1` inside both averages and no
      clamps, with ``eps1=1e-30``).
    - ``relative_step``: :math:`\rho_t = \min(\eta_t, 1/\sqrt t)` (torch; the paper and HF
      with the cap 0.01 = ``lr``) or :math:`\rho_t = \eta_t` (optax, HF
      ``relative_step=False``); ``warmup_init``: :math:`\rho_t = \min(10^{-6}t, 1/\sqrt t)`
      (HF).  ``scale_parameter`` False: :math:`\alpha_t = \rho_t` (optax's
      ``multiply_by_parameter_scale``, HF's ``scale_parameter``).
    - ``d`` None: no update clipping (optax ``clipping_threshold=None``).
    - ``beta1``: momentum of the scaled update :math:`u = \alpha_t \hat U_t`,
      :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) u`, applied instead of :math:`u` (HF's
      ``beta1``, optax's ``momentum``, both without debiasing; torch has none).
    - ``decay_scaling``: the decay factor :math:`1-\eta_t\lambda` (torch, with the user's
      lr, not :math:`\rho_t`), :math:`1-\alpha_t\lambda` (``'alpha'``, HF, whose "lr" is
      :math:`\alpha_t`) or :math:`1-\lambda` (``'none'``, optax's ``weight_decay_rate``,
      added to the update after the learning rate).  In all three the decay acts on
      :math:`X_{t-1}` and :math:`\alpha_t` reads the RMS before it.
    - ``factored`` and ``min_dim_size_to_factor``: a matrix block keeps the full
      :math:`\hat V` (as a vector) unless it is factored and both its dimensions are at
      least ``min_dim_size_to_factor`` (optax's default 128 and its ``factored``; torch, HF
      and the paper factor every matrix).
    - ``beta2_decay``: :math:`\tau` (torch's ``beta2_decay``, HF's ``decay_rate``; optax's
      ``decay_rate`` is :math:`-\tau`).

    Where the references agree: the update clipping acts on :math:`U_t` before the step
    size and the momentum in all of them; the decay rate :math:`1 - t^{\tau}` is the same
    formula, but optax evaluates it in float32 even for float64 parameters (a relative
    difference of about 1e-7 in :math:`\hat\beta_{2,t}`); this is float64 throughout.
    A block of more than two dimensions is the matrix of its rows here; torch, HF and
    optax factor its last two (optax: its two largest) dimensions.

    State (``slot_names``): ``exp_avg`` (the momentum), ``exp_avg_sq`` (:math:`\hat V` of a
    vector or unfactored block; :math:`R`, the first ``rows`` entries of a factored one's
    span), ``exp_avg_sq_col`` (:math:`C`, the first ``cols`` entries of a factored block's
    span) and ``update`` (scratch: :math:`U_t`).  ``eff_lr`` is the scheduled ``lr``.  The
    rule sums over each block, so replicates advance one at a time.

    References: N. Shazeer, M. Stern, *Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost*, ICML 2018.
    """

    name = "adafactor"
    params = ADAFACTOR_PARAMS
    kernels = {"init": no_init, "step": adafactor_step, "eff_lr": adafactor_eff_lr}
    slots = len(ADAFACTOR_SLOTS)
    slot_names = ADAFACTOR_SLOTS
    matrix = True
    momentum_param = None
