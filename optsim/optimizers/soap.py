"""SOAP (Vyas et al. 2024): Adam in the eigenbasis of Shampoo's preconditioner, per matrix.

SOAP acts on each of the problem's matrices as a matrix (``matrix = True``).  Its state
holds, for every preconditioned side of every block, an n x n statistic and its eigenbasis;
they live in the rows ``precond0`` ... of ``S`` read as one flat buffer, and
:meth:`SOAP.check_problem` refuses, before any work, a problem whose blocks need more
numbers than those rows hold.  The linear algebra is float64 throughout and allocation
free: a cyclic Jacobi iteration for the eigenbases, modified Gram-Schmidt with
re-orthogonalization for the QR step.
"""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["SOAP", "SOAP_EIGENBASES", "SOAP_EPS_MODES", "SOAP_DECAY_ORDERS", "soap_step", "soap_storage",
           "jacobi_eigh", "mgs_qr"]

SOAP_EIGENBASES = ("qr", "eigh")
SOAP_EPS_MODES = ("sqrt_v", "max_vhat")
SOAP_DECAY_ORDERS = ("after", "before")
HEAP_ROWS = 16
"""State rows that hold the preconditioners (``HEAP_ROWS * d`` numbers)."""

SOAP_PARAMS = (
    Param("lr", 3e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.95, "decay of the first moment (kept in the original basis)", low=0.0, high=1.0,
          high_open=True),
    Param("beta2", 0.95, "decay of the second moment (kept in the eigenbasis)", low=0.0, high=1.0, high_open=True),
    Param("shampoo_beta", None, "decay of the preconditioner statistics L, R (None: beta2)", low=0.0, high=1.0,
          high_open=True, none_ok=True),
    Param("eps", 1e-8, "added to (sqrt_v) or floor of (max_vhat) the denominator", low=0.0),
    Param("weight_decay", 0.01, "decoupled decay x <- x (1 - lr wd)", low=0.0),
    Param("precondition_frequency", 10, "updates between refreshes of the eigenbases", kind="int", low=1),
    Param("max_precond_dim", 10000, "a side longer than this is not preconditioned (identity)", kind="int",
          low=1),
    Param("precondition_1d", False, "precondition vector blocks too (one n x n statistic); else Adam",
          kind="bool"),
    Param("eigenbasis", "qr", "refresh by one power iteration and a QR step (the authors' code) or by a full "
          "eigendecomposition ('eigh')", kind="choice", choices=SOAP_EIGENBASES),
    Param("eps_mode", "sqrt_v", "denominator sqrt(v) + eps with the step lr sqrt(1-beta2^s)/(1-beta1^s) (the "
          "authors' first code, pytorch-optimizer) or max(sqrt(v_hat), eps) (their later code)", kind="choice",
          choices=SOAP_EPS_MODES),
    Param("bias_correction", True, "Adam's bias corrections (the code's correct_bias)", kind="bool"),
    Param("normalize_grads", False, "divide the update by its RMS + eps", kind="bool"),
    Param("decay_order", "after", "decay after the update (the authors' first code, pytorch-optimizer) or "
          "before it", kind="choice", choices=SOAP_DECAY_ORDERS),
)
SOAP_SLOTS = ("exp_avg", "exp_avg_sq", "projected", "scratch") + tuple(f"precond{i}" for i in range(HEAP_ROWS))

H = param_layout(SOAP_PARAMS, "SOAPParams")
M = layout(SOAP_SLOTS, "SOAPSlots")
BL = layout(("offset", "rows", "cols"), "ParamBlock")
JACOBI_SWEEPS = 60


@njit(cache=True, inline="always")
def _sides(r, c, hp):
    """``(rows, cols, left, right)`` of a block as SOAP sees it: a vector of n is n x 1."""
    maxdim = hp[H.max_precond_dim]
    if c == 0:
        return r, 1, hp[H.precondition_1d] != 0.0 and r <= maxdim, False
    return r, c, r <= maxdim, c <= maxdim


@njit(cache=True)
def soap_storage(blocks, hp):
    """``(numbers, largest side)``: the preconditioner storage of ``blocks`` (two n x n per
    preconditioned side) and the scratch it needs (two nmax x nmax and two nmax)."""
    need = 0
    nmax = 0
    for b in range(blocks.shape[0]):
        r, c, left, right = _sides(blocks[b, BL.rows], blocks[b, BL.cols], hp)
        if left:
            need += 2 * r * r
            nmax = max(nmax, r)
        if right:
            need += 2 * c * c
            nmax = max(nmax, c)
    return need + 2 * nmax * nmax + 2 * nmax, nmax


@njit(cache=True)
def jacobi_eigh(A, V, n, w):
    """Eigenvectors of the symmetric n x n ``A`` (row-major; destroyed) into the columns of
    ``V``, ordered by decreasing eigenvalue (written into ``w``): the cyclic Jacobi method."""
    for i in range(n):
        for j in range(n):
            V[i * n + j] = 1.0 if i == j else 0.0
    for _ in range(JACOBI_SWEEPS):
        off = 0.0
        tot = 0.0
        for i in range(n):
            for j in range(n):
                a2 = A[i * n + j] * A[i * n + j]
                tot += a2
                if i != j:
                    off += a2
        if off <= 1e-36 * tot or off == 0.0:
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                apq = A[p * n + q]
                if apq == 0.0:
                    continue
                tau = (A[q * n + q] - A[p * n + p]) / (2.0 * apq)
                t = (1.0 if tau >= 0.0 else -1.0) / (abs(tau) + math.sqrt(1.0 + tau * tau))
                cs = 1.0 / math.sqrt(1.0 + t * t)
                sn = t * cs
                for k in range(n):  # A <- A J
                    akp = A[k * n + p]
                    akq = A[k * n + q]
                    A[k * n + p] = cs * akp - sn * akq
                    A[k * n + q] = sn * akp + cs * akq
                for k in range(n):  # A <- J^T A
                    apk = A[p * n + k]
                    aqk = A[q * n + k]
                    A[p * n + k] = cs * apk - sn * aqk
                    A[q * n + k] = sn * apk + cs * aqk
                for k in range(n):  # V <- V J
                    vkp = V[k * n + p]
                    vkq = V[k * n + q]
                    V[k * n + p] = cs * vkp - sn * vkq
                    V[k * n + q] = sn * vkp + cs * vkq
    for i in range(n):
        w[i] = A[i * n + i]
    for i in range(n):  # selection sort, decreasing, moving V's columns along
        best = i
        for j in range(i + 1, n):
            if w[j] > w[best]:
                best = j
        if best != i:
            w[i], w[best] = w[best], w[i]
            for k in range(n):
                V[k * n + i], V[k * n + best] = V[k * n + best], V[k * n + i]


@njit(cache=True)
def mgs_qr(P, Q, n):
    """The orthonormal factor of the n x n ``P`` (row-major) into ``Q``: modified Gram-Schmidt,
    each column orthogonalized twice (its signs are the positive-diagonal R's; SOAP's update
    does not depend on them)."""
    for j in range(n):
        for k in range(n):
            Q[k * n + j] = P[k * n + j]
        for _ in range(2):
            for i in range(j):
                s = 0.0
                for k in range(n):
                    s += Q[k * n + i] * Q[k * n + j]
                for k in range(n):
                    Q[k * n + j] -= s * Q[k * n + i]
        nrm = 0.0
        for k in range(n):
            nrm += Q[k * n + j] * Q[k * n + j]
        nrm = math.sqrt(nrm)
        if nrm > 0.0:
            for k in range(n):
                Q[k * n + j] /= nrm


@njit(cache=True, inline="always")
def _accumulate(hv, gg, g, off, r, c, side, beta):
    """``GG <- beta GG + (1 - beta) G G^T`` (side 0, r x r) or ``G^T G`` (side 1, c x c)."""
    n = r if side == 0 else c
    m = c if side == 0 else r
    for a in range(n):
        for b in range(n):
            s = 0.0
            for k in range(m):
                if side == 0:
                    s += g[off + a * c + k] * g[off + b * c + k]
                else:
                    s += g[off + k * c + a] * g[off + k * c + b]
            hv[gg + a * n + b] = beta * hv[gg + a * n + b] + (1.0 - beta) * s


@njit(cache=True, inline="always")
def _eigenbasis(hv, gg, q, n, w1, w2, we):
    """``Q`` = the eigenvectors of ``GG`` (+ 1e-30 I, as the code), by decreasing eigenvalue."""
    for i in range(n * n):
        hv[w1 + i] = hv[gg + i]
    for i in range(n):
        hv[w1 + i * n + i] += 1e-30
    jacobi_eigh(hv[w1:w1 + n * n], hv[q:q + n * n], n, hv[we:we + n])


@njit(cache=True, inline="always")
def _refresh_qr(hv, S, gg, q, n, off, r, c, side, w1, we, wo):
    """One power iteration ``P = GG Q``, columns sorted by decreasing ``diag(Q^T GG Q)`` (the
    second moment's rows or columns permuted with them), then ``Q = qr(P)``."""
    for i in range(n):
        for j in range(n):
            s = 0.0
            for k in range(n):
                s += hv[gg + i * n + k] * hv[q + k * n + j]
            hv[w1 + i * n + j] = s
    for j in range(n):
        s = 0.0
        for i in range(n):
            s += hv[q + i * n + j] * hv[w1 + i * n + j]
        hv[we + j] = s
        hv[wo + j] = j
    for i in range(n):  # order = argsort(est, descending)
        best = i
        for j in range(i + 1, n):
            if hv[we + j] > hv[we + best]:
                best = j
        if best != i:
            hv[we + i], hv[we + best] = hv[we + best], hv[we + i]
            hv[wo + i], hv[wo + best] = hv[wo + best], hv[wo + i]
    # Q <- P[:, order] (Q is free: P holds GG Q); then the second moment, permuted the same way
    for i in range(n):
        for j in range(n):
            hv[q + i * n + j] = hv[w1 + i * n + int(hv[wo + j])]
    V = S[M.exp_avg_sq]
    T = S[M.scratch]
    for a in range(r):
        for b in range(c):
            src = (int(hv[wo + a]) * c + b) if side == 0 else (a * c + int(hv[wo + b]))
            T[off + a * c + b] = V[off + src]
    for k in range(off, off + r * c):
        V[k] = T[k]
    for i in range(n * n):
        hv[w1 + i] = hv[q + i]
    mgs_qr(hv[w1:w1 + n * n], hv[q:q + n * n], n)


@njit(cache=True, inline="always")
def _project(hv, src, dst, tmp, off, r, c, ql, qr_, back):
    """``dst = Q_L^T src Q_R`` (``back``: ``Q_L src Q_R^T``) on the block; ``ql``/``qr_`` -1:
    that side is the identity.  ``tmp`` is scratch."""
    for a in range(r):
        for j in range(c):
            if ql < 0:
                s = src[off + a * c + j]
            else:
                s = 0.0
                for i in range(r):
                    qv = hv[ql + a * r + i] if back else hv[ql + i * r + a]
                    s += qv * src[off + i * c + j]
            tmp[off + a * c + j] = s
    for a in range(r):
        for b in range(c):
            if qr_ < 0:
                s = tmp[off + a * c + b]
            else:
                s = 0.0
                for j in range(c):
                    qv = hv[qr_ + b * c + j] if back else hv[qr_ + j * c + b]
                    s += tmp[off + a * c + j] * qv
            dst[off + a * c + b] = s


@njit(cache=True)
def soap_step(x, g, S, sc, t, lr, hp, blocks):
    m_len = S.shape[1]
    hv = S.reshape(S.shape[0] * m_len)
    base = M.precond0 * m_len
    need, nmax = soap_storage(blocks, hp)
    if need > HEAP_ROWS * m_len:  # refused before any work by check_problem; a gridded value lands here
        for i in range(x.shape[0]):
            x[i] = np.nan
        return
    w1 = base
    w2 = w1 + nmax * nmax
    we = w2 + nmax * nmax
    wo = we + nmax
    pos = wo + nmax
    s_upd = t - 1  # the first call only sets up the preconditioner (the authors' code skips it)
    b1 = hp[H.beta1]
    b2 = hp[H.beta2]
    sb = b2 if hp[H.shampoo_beta] != hp[H.shampoo_beta] else hp[H.shampoo_beta]
    eps = hp[H.eps]
    qr_mode = hp[H.eigenbasis] == 0.0
    refresh = s_upd > 0 and s_upd % int(hp[H.precondition_frequency]) == 0
    if hp[H.bias_correction] != 0.0 and s_upd > 0:
        bc1 = 1.0 - b1 ** float(s_upd)
        bc2 = 1.0 - b2 ** float(s_upd)
    else:
        bc1 = 1.0
        bc2 = 1.0
    sqrt_v = hp[H.eps_mode] == 0.0
    step_size = lr * math.sqrt(bc2) / bc1 if sqrt_v else lr / bc1
    shrink = 1.0 - lr * hp[H.weight_decay]
    P = S[M.projected]
    T = S[M.scratch]
    E = S[M.exp_avg]
    V = S[M.exp_avg_sq]
    for blk in range(blocks.shape[0]):
        off = blocks[blk, BL.offset]
        r, c, left, right = _sides(blocks[blk, BL.rows], blocks[blk, BL.cols], hp)
        n_el = r * c
        ggl = ql = ggr = qr_ = -1
        if left:
            ggl = pos
            ql = pos + r * r
            pos += 2 * r * r
        if right:
            ggr = pos
            qr_ = pos + c * c
            pos += 2 * c * c
        if s_upd == 0:
            if left:
                _accumulate(hv, ggl, g, off, r, c, 0, sb)
                _eigenbasis(hv, ggl, ql, r, w1, w2, we)
            if right:
                _accumulate(hv, ggr, g, off, r, c, 1, sb)
                _eigenbasis(hv, ggr, qr_, c, w1, w2, we)
            continue
        _project(hv, g, P, T, off, r, c, ql, qr_, False)
        for k in range(off, off + n_el):
            E[k] = b1 * E[k] + (1.0 - b1) * g[k]
            V[k] = b2 * V[k] + (1.0 - b2) * P[k] * P[k]
        _project(hv, E, P, T, off, r, c, ql, qr_, False)
        for k in range(off, off + n_el):
            den = math.sqrt(V[k]) + eps if sqrt_v else max(math.sqrt(V[k] / bc2), eps)
            P[k] = P[k] / den
        _project(hv, P, P, T, off, r, c, ql, qr_, True)
        scale = step_size
        if hp[H.normalize_grads] != 0.0:
            ss = 0.0
            for k in range(off, off + n_el):
                ss += P[k] * P[k]
            scale = step_size / (math.sqrt(ss / n_el) + eps)
        for k in range(off, off + n_el):
            if hp[H.decay_order] == 0.0:
                x[k] = x[k] - scale * P[k]
                x[k] = x[k] * shrink
            else:
                x[k] = x[k] * shrink - scale * P[k]
        if left:
            _accumulate(hv, ggl, g, off, r, c, 0, sb)
        if right:
            _accumulate(hv, ggr, g, off, r, c, 1, sb)
        if refresh:
            if left:
                if qr_mode:
                    _refresh_qr(hv, S, ggl, ql, r, off, r, c, 0, w1, we, wo)
                else:
                    _eigenbasis(hv, ggl, ql, r, w1, w2, we)
            if right:
                if qr_mode:
                    _refresh_qr(hv, S, ggr, qr_, c, off, r, c, 1, w1, we, wo)
                else:
                    _eigenbasis(hv, ggr, qr_, c, w1, w2, we)


@njit(cache=True)
def soap_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class SOAP(Optimizer):
    r"""SOAP: Adam in the eigenbasis of Shampoo's preconditioner (Vyas et al. 2024), in the
    form of the authors' first code (as ``pytorch_optimizer.SOAP``) by default.

    For every matrix block :math:`G_t` (r x c) of the gradient, with :math:`\eta_t` the
    scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``, ``beta2`` (or ``betas``),
    :math:`\beta_s` = ``shampoo_beta`` (None: :math:`\beta_2`), :math:`\epsilon` = ``eps``,
    :math:`\lambda` = ``weight_decay``, :math:`f` = ``precondition_frequency``:

    .. math::

        L_t &= \beta_s L_{t-1} + (1-\beta_s) G_t G_t^\top, \qquad
        R_t = \beta_s R_{t-1} + (1-\beta_s) G_t^\top G_t \\
        G'_t &= Q_L^\top G_t Q_R, \qquad
        M_t = \beta_1 M_{t-1} + (1-\beta_1) G_t, \qquad
        V_t = \beta_2 V_{t-1} + (1-\beta_2) G'^2_t \\
        N_t &= Q_L \frac{Q_L^\top M_t Q_R}{\sqrt{V_t} + \epsilon} Q_R^\top, \qquad
        X_t = \big(X_{t-1} - \eta_t \tfrac{\sqrt{1-\beta_2^s}}{1-\beta_1^s} N_t\big)(1 - \eta_t\lambda)

    The first call only sets up :math:`L_1, R_1` from :math:`G_1` and :math:`Q_L, Q_R` as
    their eigenvectors (by decreasing eigenvalue), and leaves :math:`X` unchanged (the
    authors' code: "we never use the current gradients in the projection"); :math:`s = t-1`
    counts the updates made.  After update :math:`s`, :math:`L` and :math:`R` take
    :math:`G_t`, and when :math:`s` is a multiple of :math:`f` the eigenbases are refreshed:
    ``eigenbasis='qr'`` (the code) takes one power iteration :math:`P = LQ_L`, sorts its
    columns by the estimated eigenvalues :math:`\mathrm{diag}(Q_L^\top L Q_L)` (decreasing;
    the rows of :math:`V` move with them) and sets :math:`Q_L` to the orthonormal factor of
    :math:`P` (likewise :math:`Q_R` and the columns of :math:`V`); ``'eigh'`` recomputes the
    eigenvectors (by decreasing eigenvalue) and leaves :math:`V` as it is.  :math:`M` stays
    in the original basis, :math:`V` in the rotated one (it is not rotated when the bases
    change, as in the paper and the code).

    Options (each a reference's form):

    - ``eps_mode``: ``'sqrt_v'`` (above; the authors' first code and pytorch-optimizer) or
      ``'max_vhat'``: :math:`N_t` from :math:`\hat M_t/\max(\sqrt{\hat V_t}, \epsilon)` with
      :math:`\hat M = M/(1-\beta_1^s)`, :math:`\hat V = V/(1-\beta_2^s)` (the authors' later
      code, which keeps the debiased averages directly and also accumulates :math:`L, R`
      with the debiased :math:`\beta_2`: the same eigenbases as ``shampoo_beta=beta2``, as
      :math:`L` and :math:`R` then differ only by a scale).  ``bias_correction`` False drops
      both corrections.
    - ``decay_order``: ``'after'`` the update (the first code, pytorch-optimizer) or
      ``'before'``, :math:`X_{t-1}(1-\eta_t\lambda) - \ldots`.  The authors' later code
      multiplies by :math:`1 - \lambda \cdot(\text{its negative step size})`, i.e. by
      :math:`1 + \eta_t\lambda`, before the update: a sign error that grows the weights
      (not reproduced here).
    - ``max_precond_dim``: a side longer than this keeps the identity (the code's).
      ``precondition_1d``: a vector block of n numbers is an n x 1 matrix with its left side
      preconditioned; otherwise (the default) it is Adam with the same first-step skip and
      step size.  A block of more than two dimensions is the matrix of its rows (the
      code's ``merge_dims`` merges trailing dimensions up to ``max_precond_dim``; not here).
    - ``normalize_grads``: divide :math:`N_t` by :math:`\mathrm{RMS}(N_t) + \epsilon`
      (pytorch-optimizer's ``normalize_gradient``; the later code adds 1e-30 instead).

    Precision: this is float64 throughout.  The authors' first code casts :math:`L, R, Q`
    to float32 for ``eigh`` and for the QR step (``.float()``), pytorch-optimizer only for
    the QR step, and the authors' later code keeps the gradient, both moments and the
    preconditioners in float32.  Where a statistic has a repeated eigenvalue (a
    rank-deficient first gradient: ``|rows - cols| >= 2``, or a vector block with
    ``precondition_1d``) its eigenbasis is not unique, and LAPACK (torch, NumPy) and the
    Jacobi iteration here pick different ones, so trajectories differ.

    State (``slot_names``): ``exp_avg`` (:math:`M`), ``exp_avg_sq`` (:math:`V`, in the
    eigenbasis), ``projected`` and ``scratch`` (work rows), then ``precond0`` ...
    ``precond15``, one flat buffer of the statistics :math:`L, Q_L, R, Q_R` of every block
    after two n x n work matrices.  ``eff_lr`` is the scheduled ``lr``.

    References: N. Vyas, D. Morwani, R. Zhao, M. Kwun, I. Shapira, D. Brandfonbrener,
    L. Janson, S. Kakade, *SOAP: Improving and Stabilizing Shampoo using Adam*, ICLR 2025
    (arXiv:2409.11321, 2024); V. Gupta, T. Koren, Y. Singer, *Shampoo: Preconditioned
    Stochastic Tensor Optimization*, ICML 2018.
    """

    name = "soap"
    params = SOAP_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": soap_step, "eff_lr": soap_eff_lr}
    slots = len(SOAP_SLOTS)
    slot_names = SOAP_SLOTS
    matrix = True
    momentum_param = "beta1"

    def check_problem(self, problem):
        blocks = problem.param_blocks()
        need, nmax = soap_storage(blocks, np.asarray(self.row(), dtype=np.float64))
        room = HEAP_ROWS * problem.dimension()
        if need > room:
            raise ParameterError(
                f"SOAP: the preconditioners of {type(problem).__name__}'s blocks {problem.param_shapes()} need "
                f"{need} numbers, more than the {room} its state holds; set max_precond_dim below {nmax} "
                f"(now {self.max_precond_dim})")
