"""The compiled forward and backward passes of :class:`optsim.problems.MLP`.

Every kernel reads the network's shape from the int64 array ``cfg`` (layout :data:`CFG`):
the number of weight layers ``L`` (hidden layers + 1), the activation, the loss, whether
there are biases, the initialization rule, and the widths ``w_0 = n_in, w_1, ..., w_L =
n_classes`` from ``CFG.widths`` on.  The parameter vector holds, layer after layer, the
weight matrix :math:`W_l` (``w_l x w_{l-1}``, row-major) and then the bias :math:`b_l`.

Activations are kept example-major (``[example, unit]``): the forward product runs over a
transposed copy of :math:`W_l`, so that every innermost loop (forward, the weight gradient,
the back-propagated error) runs over contiguous units without a reduction and the compiler
vectorizes it; every sum over examples or inputs is taken in index order, so the numbers do
not depend on the machine's vector width.  The three products share :func:`_accumulate`,
which adds four terms of each sum to every row before the next four: the same rounded
operations in the same order as a plain loop, 1.5 to 2 times as fast on one core.  A pass
over ``m`` examples works in one scratch array of :func:`scratch_size` numbers: O(m x width
+ parameters of one layer), allocated once per call (see the class docstring for its
measured cost).
"""

import math

import numpy as np
from numba import njit

from .. import _elementary
from .._components import layout
from .._rng import normal, uniform

__all__ = ["CFG", "ACT", "LOSS", "INIT", "MET", "MET_TEST", "CHUNK", "scratch_size", "mlp_batch", "mlp_full",
           "mlp_metrics_into", "mlp_init"]

CFG = layout(("layers", "activation", "loss", "bias", "init", "train_metrics", "widths"), "MLPConfig")
ACT = layout(("tanh", "relu", "gelu", "tanh_portable"), "Activations")
"""``tanh_portable``: ``activation="tanh", tanh="portable"`` (:func:`optsim._elementary.tanh`)."""
LOSS = layout(("cross_entropy", "squared"), "Losses")
INIT = layout(("glorot", "he", "lecun", "torch"), "Inits")
MET = layout(("train_accuracy", "test_accuracy", "val_loss", "val_accuracy", "grad_norms"), "Metrics")
"""The metrics row: the gradient norms per parameter array follow from ``MET.grad_norms`` on
(W1, b1, W2, b2, ...).  Without the training metrics (``cfg[CFG.train_metrics] == 0``) the
row is :data:`MET_TEST`."""
MET_TEST = layout(("test_accuracy", "val_loss", "val_accuracy"), "TestMetrics")
CHUNK = 64
"""Examples per pass of the full-batch evaluations (the numbers do not depend on it)."""

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(cache=True, inline="always")
def _width(cfg, l):
    return cfg[CFG.widths + l]


@njit(cache=True)
def param_offset(cfg, l):
    """The offset in ``x`` of :math:`W_l` (``l`` = 1 .. L; L + 1 gives the dimension)."""
    off = 0
    bias = cfg[CFG.bias]
    for k in range(1, l):
        off += _width(cfg, k) * _width(cfg, k - 1) + (_width(cfg, k) if bias else 0)
    return off


@njit(cache=True)
def _scratch_layout(cfg, m):
    """Offsets in the scratch of a pass over ``m`` examples, after the pre-activations and
    activations of every layer: the two error buffers, the transposed weights of a layer,
    the copy of the input rows; and the scratch's size."""
    L = cfg[CFG.layers]
    wmax = 0
    tmax = 0
    for l in range(1, L + 1):
        wmax = max(wmax, _width(cfg, l))
        tmax = max(tmax, _width(cfg, l) * _width(cfg, l - 1))
    d_a = _zoff(cfg, m, L + 1)
    d_b = d_a + m * wmax
    t_o = d_b + m * wmax
    a_o = t_o + tmax
    return d_a, d_b, t_o, a_o, a_o + m * _width(cfg, 0)


@njit(cache=True)
def scratch_size(cfg, m):
    """Numbers of scratch a pass over ``m`` examples needs: the pre-activations and
    activations of every layer, two error buffers, the transposed weights of a layer and a
    copy of the input rows."""
    return _scratch_layout(cfg, m)[4]


@njit(cache=True, inline="always")
def _act(z, kind):
    if kind == ACT.tanh:
        return math.tanh(z)
    if kind == ACT.relu:
        return z if z > 0.0 else 0.0
    return 0.5 * z * (1.0 + math.erf(z * _INV_SQRT2))  # GELU, the exact erf form


@njit(cache=True, inline="always")
def _dact(z, h, kind):
    """The activation's derivative at ``z`` (``h`` its value); ReLU's is 0 at 0, as autodiff's."""
    if kind == ACT.tanh or kind == ACT.tanh_portable:
        return 1.0 - h * h
    if kind == ACT.relu:
        return 1.0 if z > 0.0 else 0.0
    return 0.5 * (1.0 + math.erf(z * _INV_SQRT2)) + z * _INV_SQRT2PI * math.exp(-0.5 * z * z)


@njit(cache=True, error_model="numpy")
def _activate(Z, H, kind):
    """``H = act(Z)`` elementwise.  The portable tanh's loop vectorizes: numba's default error
    model would check each of its divisions for a zero divisor and keep the loop scalar."""
    m, w = Z.shape
    if kind == ACT.tanh_portable:
        for s in range(m):
            for i in range(w):
                H[s, i] = _elementary.tanh(Z[s, i])
        return
    for s in range(m):
        for i in range(w):
            H[s, i] = _act(Z[s, i], kind)


@njit(cache=True, inline="always")
def _zoff(cfg, m, l):
    """Offset in the scratch of layer l's pre-activations (its activations follow)."""
    off = 0
    for k in range(1, l):
        off += 2 * m * _width(cfg, k)
    return off


@njit(cache=True, inline="always")
def _mat(a, off, rows, cols):
    """The ``rows x cols`` row-major view of ``a[off:]`` (indexing a view by loop counters
    lets the compiler drop the negative-index checks and vectorize)."""
    return a[off:off + rows * cols].reshape((rows, cols))


@njit(cache=True, inline="always")
def _accumulate(Z, A, M):
    """``Z[r, :] += sum_k A[r, k] * M[k, :]``, the sum over ``k`` taken in index order, one
    rounded multiply and add at a time, as the plain triple loop takes it.  Four ``k`` at a
    time pass over all rows before the next four, so that no row waits for its own last
    sum and the innermost loop runs over contiguous columns; each number is the same as
    the plain loop's."""
    R, n = Z.shape
    K = A.shape[1]
    k4 = K - K % 4
    for k in range(0, k4, 4):
        M0 = M[k]
        M1 = M[k + 1]
        M2 = M[k + 2]
        M3 = M[k + 3]
        for r in range(R):
            a0 = A[r, k]
            a1 = A[r, k + 1]
            a2 = A[r, k + 2]
            a3 = A[r, k + 3]
            Zr = Z[r]
            for c in range(n):
                Zr[c] = (((Zr[c] + a0 * M0[c]) + a1 * M1[c]) + a2 * M2[c]) + a3 * M3[c]
    for k in range(k4, K):
        Mk = M[k]
        for r in range(R):
            a0 = A[r, k]
            Zr = Z[r]
            for c in range(n):
                Zr[c] += a0 * Mk[c]


@njit(cache=True)
def _pass(x, g, X, y, idx, nb, r0, m, cfg, scr, grad):
    """Forward (and, with ``grad``, backward) pass over the examples ``r0 .. r0+m-1`` of a
    row loop: data row ``idx[r0 + s]`` for example s when ``nb >= 0``, else row ``r0 + s``.
    Returns the sum of the examples' losses and the number classified right (argmax, the
    first on ties); with ``grad`` the sums over these examples of the loss gradients are
    added to g."""
    L = cfg[CFG.layers]
    kind = cfg[CFG.activation]
    bias = cfg[CFG.bias] != 0
    d_a, d_b, t_o, a_o, _ = _scratch_layout(cfg, m)
    n_in = _width(cfg, 0)
    A0 = _mat(scr, a_o, m, n_in)
    rows = np.empty(0, dtype=np.int64) if nb < 0 else idx[r0:r0 + m]
    for s in range(m):
        row = r0 + s if nb < 0 else rows[s]
        for j in range(n_in):
            A0[s, j] = X[row, j]
    # -- forward -------------------------------------------------------------------------
    for l in range(1, L + 1):
        wi = _width(cfg, l - 1)
        wo = _width(cfg, l)
        pw = param_offset(cfg, l)
        W = _mat(x, pw, wo, wi)
        b = x[pw + wo * wi:pw + wo * wi + wo]
        zo = _zoff(cfg, m, l)
        Z = _mat(scr, zo, m, wo)
        H = _mat(scr, zo + m * wo, m, wo)
        Hp = _mat(scr, _zoff(cfg, m, l - 1) + m * wi, m, wi) if l > 1 else A0
        WT = _mat(scr, t_o, wi, wo)
        for i in range(wo):
            for j in range(wi):
                WT[j, i] = W[i, j]
        for s in range(m):
            for i in range(wo):
                Z[s, i] = b[i] if bias else 0.0
        _accumulate(Z, Hp, WT)
        if l < L:
            _activate(Z, H, kind)
    # -- the loss, its error at the output, the accuracy --------------------------------------
    C = _width(cfg, L)
    Z = _mat(scr, _zoff(cfg, m, L), m, C)
    E = _mat(scr, d_a, m, C)
    f = 0.0
    right = 0
    ce = cfg[CFG.loss] == LOSS.cross_entropy
    for s in range(m):
        row = r0 + s if nb < 0 else rows[s]
        c = y[row]
        best = 0
        zmax = Z[s, 0]
        for k in range(1, C):
            if Z[s, k] > zmax:
                zmax = Z[s, k]
                best = k
        right += 1 if best == c else 0
        if ce:
            tot = 0.0
            for k in range(C):
                p = math.exp(Z[s, k] - zmax)
                E[s, k] = p
                tot += p
            f += math.log(tot) + zmax - Z[s, c]
            inv = 1.0 / tot
            for k in range(C):
                E[s, k] = E[s, k] * inv
            E[s, c] -= 1.0
        else:
            for k in range(C):
                r = Z[s, k] - (1.0 if k == c else 0.0)
                f += 0.5 * r * r
                E[s, k] = r
    if not grad:
        return f, right
    # -- backward ------------------------------------------------------------------------
    cur = d_a
    nxt = d_b
    for l in range(L, 0, -1):
        wi = _width(cfg, l - 1)
        wo = _width(cfg, l)
        pw = param_offset(cfg, l)
        W = _mat(x, pw, wo, wi)
        gW = _mat(g, pw, wo, wi)
        gb = g[pw + wo * wi:pw + wo * wi + wo]
        E = _mat(scr, cur, m, wo)
        zp = _zoff(cfg, m, l - 1)
        Hp = _mat(scr, zp + m * wi, m, wi) if l > 1 else A0
        _accumulate(gW, E.T, Hp)
        if bias:
            for s in range(m):
                for i in range(wo):
                    gb[i] += E[s, i]
        if l > 1:
            Zp = _mat(scr, zp, m, wi)
            N = _mat(scr, nxt, m, wi)
            for s in range(m):
                for j in range(wi):
                    N[s, j] = 0.0
            _accumulate(N, E, W)
            for s in range(m):
                for j in range(wi):
                    N[s, j] *= _dact(Zp[s, j], Hp[s, j], kind)
            cur, nxt = nxt, cur
    return f, right


@njit(cache=True)
def mlp_batch(x, g, X, y, idx, nb, cfg):
    """The mean loss over rows ``idx[:nb]`` and its gradient into ``g`` (one pass, one
    scratch allocation)."""
    for k in range(g.shape[0]):
        g[k] = 0.0
    if nb < 1:
        return 0.0
    scr = np.empty(scratch_size(cfg, nb))
    f, _ = _pass(x, g, X, y, idx, nb, 0, nb, cfg, scr, True)
    inv = 1.0 / nb
    for k in range(g.shape[0]):
        g[k] *= inv
    return f * inv


@njit(cache=True)
def mlp_full(x, g, X, y, cfg, grad):
    """The mean loss and accuracy over every row of ``X`` (NaN for no rows), in passes of
    :data:`CHUNK` examples; with ``grad`` the mean gradient into ``g``."""
    n = X.shape[0]
    if grad:
        for k in range(g.shape[0]):
            g[k] = 0.0
    if n == 0:
        return np.nan, np.nan
    scr = np.empty(scratch_size(cfg, min(CHUNK, n)))
    f = 0.0
    right = 0
    idx = np.empty(0, dtype=np.int64)
    for r0 in range(0, n, CHUNK):
        m = min(CHUNK, n - r0)
        fc, rc = _pass(x, g, X, y, idx, -1, r0, m, cfg, scr, grad)
        f += fc
        right += rc
    if grad:
        inv = 1.0 / n
        for k in range(g.shape[0]):
            g[k] *= inv
    return f / n, right / n


@njit(cache=True)
def mlp_metrics_into(x, out, Xtr, ytr, Xte, yte, Xva, yva, cfg):
    """The metrics row (layout :data:`MET`): accuracies, validation loss and accuracy, and
    the norms of the full-batch training gradient's parameter arrays (without the training
    metrics: the test accuracy, validation loss and accuracy only)."""
    if cfg[CFG.train_metrics] == 0:
        _, out[MET_TEST.test_accuracy] = mlp_full(x, x[:0], Xte, yte, cfg, False)
        out[MET_TEST.val_loss], out[MET_TEST.val_accuracy] = mlp_full(x, x[:0], Xva, yva, cfg, False)
        return
    g = np.empty(x.shape[0])
    _, out[MET.train_accuracy] = mlp_full(x, g, Xtr, ytr, cfg, True)
    _, out[MET.test_accuracy] = mlp_full(x, g[:0], Xte, yte, cfg, False)
    out[MET.val_loss], out[MET.val_accuracy] = mlp_full(x, g[:0], Xva, yva, cfg, False)
    L = cfg[CFG.layers]
    bias = cfg[CFG.bias] != 0
    j = MET.grad_norms
    for l in range(1, L + 1):
        pw = param_offset(cfg, l)
        nw = _width(cfg, l) * _width(cfg, l - 1)
        s = 0.0
        for k in range(pw, pw + nw):
            s += g[k] * g[k]
        out[j] = math.sqrt(s)
        j += 1
        if bias:
            s = 0.0
            for k in range(pw + nw, pw + nw + _width(cfg, l)):
                s += g[k] * g[k]
            out[j] = math.sqrt(s)
            j += 1


@njit(cache=True)
def mlp_init(x, cfg, rng):
    """Draw the initial network into ``x`` from the stream ``rng``: layer after layer, W
    row-major then b (see :class:`optsim.problems.MLP` for the rules)."""
    L = cfg[CFG.layers]
    rule = cfg[CFG.init]
    bias = cfg[CFG.bias] != 0
    for l in range(1, L + 1):
        fi = _width(cfg, l - 1)
        fo = _width(cfg, l)
        pw = param_offset(cfg, l)
        if rule == INIT.torch:
            a = 1.0 / math.sqrt(fi)
            for k in range(pw, pw + fo * fi):
                x[k] = a * (2.0 * uniform(rng) - 1.0)
            if bias:
                for k in range(pw + fo * fi, pw + fo * fi + fo):
                    x[k] = a * (2.0 * uniform(rng) - 1.0)
            continue
        if rule == INIT.glorot:
            sd = math.sqrt(2.0 / (fi + fo))
        elif rule == INIT.he:
            sd = math.sqrt(2.0 / fi)
        else:
            sd = math.sqrt(1.0 / fi)
        for k in range(pw, pw + fo * fi):
            x[k] = sd * normal(rng)
        if bias:
            for k in range(pw + fo * fi, pw + fo * fi + fo):
                x[k] = 0.0
