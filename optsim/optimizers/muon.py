"""Muon (Jordan et al. 2024): momentum orthogonalized by a Newton-Schulz iteration, per matrix.

Muon acts on each of the problem's matrices as a matrix (``matrix = True``): its ``step``
gets the problem's parameter blocks (``Problem.param_blocks``), orthogonalizes the momentum
of each matrix block and takes the conventional AdamW fallback on every vector block.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import MOMENTS, no_init
from .adam import adam_update

__all__ = ["Muon", "ADJUST_LR", "newton_schulz", "muon_step"]

ADJUST_LR = ("original", "match_rms_adamw")

MUON_PARAMS = (
    Param("lr", 0.02, "learning rate (of the matrices; of the vectors too unless adamw_lr)", low=0.0,
          low_open=True),
    Param("momentum", 0.95, "momentum mu of the buffer B = mu B + g", low=0.0, high=1.0, high_open=True),
    Param("nesterov", True, "orthogonalize g + mu B (Nesterov) instead of B", kind="bool"),
    Param("ns_steps", 5, "Newton-Schulz iterations (at most 1000; it converges in about 5)", kind="int", low=0,
          high=1000),
    Param("eps", 1e-7, "added to the Frobenius norm before the iteration", low=0.0),
    Param("weight_decay", 0.0, "decoupled decay of the matrices: x <- x (1 - lr wd)", low=0.0),
    Param("adjust_lr", "original", "update scale: max(1, rows/cols)^0.5 ('original') or "
          "0.2 max(rows, cols)^0.5 ('match_rms_adamw')", kind="choice", choices=ADJUST_LR),
    Param("ns_a", 3.4445, "Newton-Schulz coefficient a"),
    Param("ns_b", -4.7750, "Newton-Schulz coefficient b"),
    Param("ns_c", 2.0315, "Newton-Schulz coefficient c"),
    Param("adamw_lr", None, "AdamW learning rate of the vectors at the base rate (None: lr)", low=0.0,
          low_open=True, none_ok=True),
    Param("adamw_beta1", 0.9, "AdamW first-moment decay of the vectors", low=0.0, high=1.0, high_open=True),
    Param("adamw_beta2", 0.95, "AdamW second-moment decay of the vectors", low=0.0, high=1.0, high_open=True),
    Param("adamw_eps", 1e-10, "AdamW epsilon of the vectors", low=0.0),
    Param("adamw_weight_decay", 0.0, "AdamW decoupled decay of the vectors", low=0.0),
)
MUON_SLOTS = ("momentum_buffer", "exp_avg", "exp_avg_sq", "ns_x", "ns_y", "ns_a", "ns_b")

H = param_layout(MUON_PARAMS, "MuonParams")
M = layout(MUON_SLOTS, "MuonSlots")
BL = layout(("offset", "rows", "cols"), "ParamBlock")
assert (M.exp_avg_sq - M.exp_avg, MOMENTS.m, MOMENTS.v) == (1, 0, 1)  # the rows adam_update takes as m, v


@njit(cache=True)
def newton_schulz(S, r, c, steps, a, b, cc, eps):
    """Orthogonalize the r x c matrix in ``S[M.ns_x, :r*c]`` (row-major) by the quintic
    Newton-Schulz iteration; return the row holding the result, as its p x q transpose-or-not
    (q = max(r, c): the result's (i, j) entry is ``out[j*r + i]`` when r > c, else
    ``out[i*c + j]``).  Scratch: the rows ns_x, ns_y, ns_a, ns_b (p*p <= r*c numbers of A)."""
    size = r * c
    tr = r > c
    p = c if tr else r
    q = r if tr else c
    G = S[M.ns_x]
    cur = S[M.ns_y]
    nxt = S[M.ns_x]
    A = S[M.ns_a]
    Bm = S[M.ns_b]
    nrm = 0.0
    for i in range(size):
        nrm += G[i] * G[i]
    den = math.sqrt(nrm) + eps
    if tr:
        for i in range(r):
            for j in range(c):
                cur[j * r + i] = G[i * c + j] / den
    else:
        for i in range(size):
            cur[i] = G[i] / den
    for _ in range(steps):
        for i in range(p):  # A = X X^T
            for j in range(p):
                s = 0.0
                for k in range(q):
                    s += cur[i * q + k] * cur[j * q + k]
                A[i * p + j] = s
        for i in range(p):  # B = b A + c A A
            for j in range(p):
                s = 0.0
                for k in range(p):
                    s += A[i * p + k] * A[k * p + j]
                Bm[i * p + j] = b * A[i * p + j] + cc * s
        for i in range(p):  # X <- a X + B X
            for j in range(q):
                s = 0.0
                for k in range(p):
                    s += Bm[i * p + k] * cur[k * q + j]
                nxt[i * q + j] = a * cur[i * q + j] + s
        cur, nxt = nxt, cur
    return cur


@njit(cache=True, inline="always")
def _muon_block(x, g, S, off, r, c, lr, hp):
    mu = hp[H.momentum]
    nesterov = hp[H.nesterov] != 0.0
    U = S[M.ns_x]
    for i in range(r * c):
        buf = mu * S[M.momentum_buffer, off + i] + g[off + i]
        S[M.momentum_buffer, off + i] = buf
        U[i] = g[off + i] + mu * buf if nesterov else buf
    O = newton_schulz(S, r, c, int(hp[H.ns_steps]), hp[H.ns_a], hp[H.ns_b], hp[H.ns_c], hp[H.eps])
    if hp[H.adjust_lr] == 0.0:
        scale = math.sqrt(max(1.0, r / c))
    else:
        scale = 0.2 * math.sqrt(float(max(r, c)))
    step = lr * scale
    shrink = 1.0 - lr * hp[H.weight_decay]
    for i in range(r):
        for j in range(c):
            o = O[j * r + i] if r > c else O[i * c + j]
            k = off + i * c + j
            x[k] = x[k] * shrink - step * o


@njit(cache=True, inline="always")
def _adamw_block(x, g, S, off, n, t, lr, hp):
    """AdamW on coordinates ``off:off+n``: :func:`optsim.optimizers.adam.adam_update` (torch's
    ``AdamW``) on the block, with the rows ``exp_avg``, ``exp_avg_sq`` as its m and v."""
    alr = lr if hp[H.adamw_lr] != hp[H.adamw_lr] else hp[H.adamw_lr] * (lr / hp[H.lr])
    adam_update(x[off:off + n], g[off:off + n], S[M.exp_avg:M.exp_avg_sq + 1, off:off + n], t, alr, alr,
                hp[H.adamw_beta1], hp[H.adamw_beta2], hp[H.adamw_eps], hp[H.adamw_weight_decay],
                False, True, True, 0, 0, True, 0)


@njit(cache=True)
def muon_step(x, g, S, sc, t, lr, hp, blocks):
    for k in range(blocks.shape[0]):
        off = blocks[k, BL.offset]
        r = blocks[k, BL.rows]
        c = blocks[k, BL.cols]
        if c == 0:
            _adamw_block(x, g, S, off, r, t, lr, hp)
        else:
            _muon_block(x, g, S, off, r, c, lr, hp)


@njit(cache=True)
def muon_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class Muon(Optimizer):
    r"""Muon: momentum orthogonalized per matrix (Jordan et al. 2024), with AdamW on vectors.

    For every matrix block :math:`X` (r x c) of the problem's parameter
    (``Problem.param_shapes``), with :math:`\eta_t` the scheduled ``lr``, :math:`\mu` =
    ``momentum``, :math:`\lambda` = ``weight_decay``, :math:`\epsilon` = ``eps``:

    .. math::

        B_t &= \mu B_{t-1} + G_t, \qquad
        U_t = G_t + \mu B_t \ (\text{nesterov, the default}) \quad\text{or}\quad U_t = B_t \\
        O_t &= \mathrm{NS}_5(U_t), \qquad
        X_t = X_{t-1}(1 - \eta_t\lambda) - \eta_t\, s\, O_t

    where :math:`\mathrm{NS}_k` starts from :math:`Y = U/(\|U\|_F + \epsilon)` (transposed
    when r > c, so that :math:`A = YY^\top` is the smaller Gram matrix) and repeats
    :math:`k` = ``ns_steps`` times :math:`A = YY^\top,\ B = bA + cA^2,\ Y \leftarrow aY + BY`
    with :math:`(a, b, c)` = ``ns_a, ns_b, ns_c`` = (3.4445, -4.7750, 2.0315) (or
    ``ns_coefficients``); and :math:`s = \sqrt{\max(1, r/c)}` (``adjust_lr='original'``, the
    reference's) or :math:`s = 0.2\sqrt{\max(r, c)}` (``'match_rms_adamw'``, Moonshot's, as
    ``torch.optim.Muon``).  A block of more than two dimensions is its rows' matrix.

    Every vector block (biases, and the whole parameter of a problem that declares no
    matrices) takes AdamW, as the reference's auxiliary Adam: with
    :math:`\alpha_t` = ``adamw_lr`` :math:`\cdot\ \eta_t/\eta_0` (the schedule's multiplier;
    ``adamw_lr=None``: :math:`\alpha_t = \eta_t`), :math:`\beta_1, \beta_2` =
    ``adamw_beta1``, ``adamw_beta2`` (or ``adamw_betas``; default 0.9, 0.95),
    :math:`\epsilon'` = ``adamw_eps`` (1e-10) and :math:`\lambda'` = ``adamw_weight_decay``
    (0): :math:`x \leftarrow x(1-\alpha_t\lambda')`, then
    :math:`x \leftarrow x - \alpha_t \hat m_t / (\sqrt{\hat v_t} + \epsilon')`, the numbers of
    :class:`~optsim.optimizers.AdamW` with those settings.

    Conventions: the buffer is the sum form of the blog post and of ``torch.optim.Muon``'s
    documented algorithm (:math:`B = \mu B + G`); the reference's current code keeps the
    average form :math:`B' = \mu B' + (1-\mu)G` (``lerp``), which is :math:`(1-\mu)` times
    it (and its Nesterov update likewise), so the two differ only through :math:`\epsilon`
    after the normalization.  The reference iterates in bfloat16; this is float64 throughout.
    Defaults are the reference's (lr 0.02, weight decay 0); ``torch.optim.Muon``'s are lr
    1e-3 and weight decay 0.1, with the same momentum, coefficients, eps and steps.

    State (``slot_names``): ``momentum_buffer`` (B), ``exp_avg`` and ``exp_avg_sq`` (the
    vectors' AdamW moments), then four rows of scratch for the iteration (``ns_x``,
    ``ns_y``, ``ns_a``, ``ns_b``: no allocation per step).  ``eff_lr`` is the scheduled
    ``lr`` (the update is not a per-coordinate rescaling of the gradient).  The rule sums
    over each matrix, so replicates advance one at a time.

    References: K. Jordan, Y. Jin, V. Boza, J. You, F. Cesista, L. Newhouse, J. Bernstein,
    *Muon: An optimizer for hidden layers in neural networks*, blog post, 2024; J. Liu et
    al., *Muon is Scalable for LLM Training* (Moonshot AI), 2025 (``match_rms_adamw``).
    """

    name = "muon"
    params = MUON_PARAMS
    aliases = {"adamw_betas": ("adamw_beta1", "adamw_beta2"), "ns_coefficients": ("ns_a", "ns_b", "ns_c")}
    kernels = {"init": no_init, "step": muon_step, "eff_lr": muon_eff_lr}
    slots = len(MUON_SLOTS)
    slot_names = MUON_SLOTS
    matrix = True
    momentum_param = "momentum"
    schedulable = ("momentum", "weight_decay", "adamw_beta1", "adamw_beta2", "adamw_weight_decay")
