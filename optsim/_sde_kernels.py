"""The compiled loops of :mod:`optsim.sde`: a discrete optimizer and its SDE, one trajectory at
a time on the same Gaussian increments, and SVAG.

The discrete path calls the registered kernels themselves (the problem's ``value_and_grad``,
the noise model's ``apply``, the optimizer's ``init`` and ``step``), chosen by integer codes
so that one cached compilation serves every combination, on the streams the engine keys for
the same trajectory: it is the sweep's path to the bit.  The SDE's drift and diffusion are
those of an affine gradient ``A x - b`` with the noise factor ``C`` (see
:func:`optsim.sde.linear_model`).  Every noise model gets the data ``(a 1-D array, a 2-D
array)`` (what :class:`~optsim.noise.CurvatureScaled` prepares; the others read the first or
nothing), and the problem both a quadratic's data and a regression's, of which it reads its own.
"""

import math

import numpy as np
from numba import njit

from ._components import layout
from ._rng import normal, seed_stream
from .noise.curvature import curvature_scaled_apply
from .noise.gaussian import gaussian_apply
from .noise.heavy_tailed import alpha_stable_apply, student_t_apply
from .optimizers.adam import adam_step
from .optimizers.rmsprop import rmsprop_init, rmsprop_step
from .optimizers.sgd import no_init, sgd_step
from .problems.quadratic import quadratic_objective, quadratic_value_and_grad
from .problems.regression import linreg_objective, linreg_value_and_grad

#: Problem codes.
PROBLEM_QUADRATIC, PROBLEM_LINREG = 0, 1
#: Noise codes.
NOISE_GAUSSIAN, NOISE_CURVATURE, NOISE_STUDENT_T, NOISE_ALPHA_STABLE = 0, 1, 2, 3

#: Rows of the SDE state ``y``: the position, the first moment and the second moment.
Y = layout(("x", "m", "u"), "SdeState")
#: The SDE's constants, in the row ``par``.
SP = layout(("eta", "h", "sigma0", "eps0", "c1", "c2", "order"), "SdeParams")
#: Rule codes.
RULE_SGD, RULE_RMSPROP, RULE_ADAM = 0, 1, 2
#: Scheme codes.
SCHEME_EULER, SCHEME_HEUN = 0, 1
#: The stream of the extra normals of the Brownian-bridge split (and of uncoupled increments);
#: the engine's own streams are numbered from 0 up to a few.
BRIDGE_STREAM = 1001


@njit(cache=True)
def _grad(pk, x, g, t, pp, qdata, ldata, rng):
    if pk == PROBLEM_QUADRATIC:
        return quadratic_value_and_grad(x, g, t, pp, qdata, rng)
    return linreg_value_and_grad(x, g, t, pp, ldata, rng)


@njit(cache=True)
def _objective(pk, x, pp, qdata, ldata):
    if pk == PROBLEM_QUADRATIC:
        return quadratic_objective(x, pp, qdata)
    return linreg_objective(x, pp, ldata)


@njit(cache=True)
def _apply(nk, g, x, t, npar, ndata, rng):
    if nk == NOISE_GAUSSIAN:
        gaussian_apply(g, x, t, npar, ndata, rng)
    elif nk == NOISE_CURVATURE:
        curvature_scaled_apply(g, x, t, npar, ndata, rng)
    elif nk == NOISE_STUDENT_T:
        student_t_apply(g, x, t, npar, ndata, rng)
    else:
        alpha_stable_apply(g, x, t, npar, ndata, rng)


@njit(cache=True)
def _init(rule, x, S, sc, hp):
    if rule == RULE_RMSPROP:
        rmsprop_init(x, S, sc, hp)
    else:
        no_init(x, S, sc, hp)


@njit(cache=True)
def _step(rule, x, g, S, sc, t, lr, hp):
    if rule == RULE_SGD:
        sgd_step(x, g, S, sc, t, lr, hp)
    elif rule == RULE_RMSPROP:
        rmsprop_step(x, g, S, sc, t, lr, hp)
    else:
        adam_step(x, g, S, sc, t, lr, hp)


@njit(cache=True)
def _affine(A, bv, x, out):
    """out = A x - b."""
    d = x.shape[0]
    for i in range(d):
        s = 0.0
        for j in range(d):
            s += A[i, j] * x[j]
        out[i] = s - bv[i]


@njit(cache=True)
def _rows(rule):
    """The state rows the rule's SDE moves: x alone for SGD, x, m and u for the adaptive rules."""
    return 1 if rule == RULE_SGD else 3


@njit(cache=True)
def sde_drift(rule, tt, y, A, bv, dS, par, grad, out):
    """The drift of the rule's SDE at time ``tt`` and state ``y`` into ``out`` (same shape)."""
    d = y.shape[1]
    _affine(A, bv, y[Y.x], grad)
    for r in range(_rows(rule)):
        for i in range(d):
            out[r, i] = 0.0
    if rule == RULE_SGD:
        if par[SP.order] >= 2.0:  # -grad(f + eta/4 |grad f|^2) = -(I + eta/2 A) grad f
            c = 0.5 * par[SP.eta]
            for i in range(d):
                s = 0.0
                for j in range(d):
                    s += A[i, j] * grad[j]
                out[Y.x, i] = -(grad[i] + c * s)
        else:
            for i in range(d):
                out[Y.x, i] = -grad[i]
    elif rule == RULE_RMSPROP:
        for i in range(d):
            p = par[SP.sigma0] * math.sqrt(max(y[Y.u, i], 0.0)) + par[SP.eps0]
            out[Y.x, i] = -grad[i] / p
            out[Y.u, i] = par[SP.c2] * (dS[i] - y[Y.u, i])
    else:
        g1 = 1.0 - math.exp(-par[SP.c1] * tt)
        g2 = 1.0 - math.exp(-par[SP.c2] * tt)
        for i in range(d):
            if g1 > 0.0:
                p = par[SP.sigma0] * math.sqrt(max(y[Y.u, i], 0.0)) + par[SP.eps0] * math.sqrt(g2)
                out[Y.x, i] = -(math.sqrt(g2) / g1) * y[Y.m, i] / p
            out[Y.m, i] = par[SP.c1] * (grad[i] - y[Y.m, i])
            out[Y.u, i] = par[SP.c2] * (dS[i] - y[Y.u, i])


@njit(cache=True)
def sde_diffusion(rule, y, C, par, dW, out):
    """The diffusion of the rule's SDE at ``y`` applied to the increment ``dW`` into ``out``."""
    d = y.shape[1]
    for r in range(_rows(rule)):
        for i in range(d):
            out[r, i] = 0.0
    for i in range(d):
        s = 0.0
        for j in range(d):
            s += C[i, j] * dW[j]
        if rule == RULE_SGD:
            out[Y.x, i] = -math.sqrt(par[SP.eta]) * s  # the noise's sign, as in the update
        elif rule == RULE_RMSPROP:
            p = par[SP.sigma0] * math.sqrt(max(y[Y.u, i], 0.0)) + par[SP.eps0]
            out[Y.x, i] = -par[SP.sigma0] * s / p
        else:
            out[Y.m, i] = par[SP.sigma0] * par[SP.c1] * s


@njit(cache=True)
def sde_substep(rule, scheme, tt, dt, y, dW, A, bv, C, dS, par, work):
    """One Euler-Maruyama or stochastic-Heun step of length ``dt`` with increment ``dW``."""
    a0, b0, yt, a1, b1, grad = work[0], work[1], work[2], work[3], work[4], work[5, 0]
    sde_drift(rule, tt, y, A, bv, dS, par, grad, a0)
    sde_diffusion(rule, y, C, par, dW, b0)
    nr, d = _rows(rule), y.shape[1]
    if scheme == SCHEME_EULER:
        for r in range(nr):
            for i in range(d):
                y[r, i] = y[r, i] + a0[r, i] * dt + b0[r, i]
        return
    for r in range(nr):
        for i in range(d):
            yt[r, i] = y[r, i] + a0[r, i] * dt + b0[r, i]
    sde_drift(rule, tt + dt, yt, A, bv, dS, par, grad, a1)
    sde_diffusion(rule, yt, C, par, dW, b1)
    for r in range(nr):
        for i in range(d):
            y[r, i] = y[r, i] + 0.5 * (a0[r, i] + a1[r, i]) * dt + 0.5 * (b0[r, i] + b1[r, i])


@njit(cache=True)
def bridge_split(total, sqrt_h, m, bridge, out):
    """Split the increments ``total`` (d,) of one step of length h into ``m`` Brownian
    increments ``out`` (m, d) that sum to it: ``w_j - mean(w) + total/m`` with ``w_j`` i.i.d.
    N(0, h/m) from ``bridge`` (the law of the increments given their sum)."""
    d = total.shape[0]
    s = sqrt_h / math.sqrt(m)
    for i in range(d):
        acc = 0.0
        for j in range(m):
            w = s * normal(bridge)
            out[j, i] = w
            acc += w
        mean = acc / m
        for j in range(m):
            out[j, i] = out[j, i] - mean + total[i] / m


@njit(cache=True)
def coupled_loop(pk, nk, x0, pp, qdata, ldata, npar, ndata, hp, nslots, nscal, lr,
                 steps, rec, seed, replicates, noise_stream, coupled, rule, scheme, substeps, A, bv, C, dS, par,
                 u0, out_fd, out_fs, out_xd, out_xs):
    """Both paths of every replicate: the discrete one with the registered kernels, the SDE
    over [k h, (k+1) h] on the normals z_k the noise model draws at step k (``coupled``) or
    on independent normals (else); records at the steps ``rec`` (sorted, from 0)."""
    d = x0.shape[0]
    x = np.empty(d)
    g = np.empty(d)
    z = np.empty(d)
    total = np.empty(d)
    S = np.zeros((nslots, d))
    sc = np.zeros(max(nscal, 1))
    y = np.zeros((3, d))
    work = np.zeros((6, 3, d))
    dWs = np.empty((substeps, d))
    rngs = np.empty((noise_stream + 1, 4), np.uint64)
    peek = np.empty(4, np.uint64)
    bridge = np.empty(4, np.uint64)
    h = par[SP.h]
    sqrt_h = math.sqrt(h)
    dt = h / substeps
    for r in range(replicates):
        for j in range(noise_stream + 1):
            seed_stream(rngs[j], seed, r, j, 0)
        seed_stream(bridge, seed, r, BRIDGE_STREAM, 0)
        for i in range(d):
            x[i] = x0[i]
            y[Y.x, i] = x0[i]
            y[Y.m, i] = 0.0
            y[Y.u, i] = u0[i]
        S[:, :] = 0.0
        sc[:] = 0.0
        _init(rule, x, S, sc[:nscal], hp)
        q = 0
        for k in range(steps + 1):
            if q < rec.shape[0] and rec[q] == k:
                out_fd[r, q] = _objective(pk, x, pp, qdata, ldata)
                out_fs[r, q] = _objective(pk, y[Y.x], pp, qdata, ldata)
                for i in range(d):
                    out_xd[r, q, i] = x[i]
                    out_xs[r, q, i] = y[Y.x, i]
                q += 1
            if k == steps:
                break
            if coupled:
                for w in range(4):
                    peek[w] = rngs[noise_stream, w]
                for i in range(d):
                    z[i] = normal(peek)
            else:
                for i in range(d):
                    z[i] = normal(bridge)
            _grad(pk, x, g, k, pp, qdata, ldata, rngs[0])
            _apply(nk, g, x, k, npar, ndata, rngs[noise_stream])
            _step(rule, x, g, S, sc[:nscal], k + 1, lr, hp)
            for i in range(d):
                total[i] = sqrt_h * z[i]
            if substeps == 1:
                for i in range(d):
                    dWs[0, i] = total[i]
            else:
                bridge_split(total, sqrt_h, substeps, bridge, dWs)
            for j in range(substeps):
                sde_substep(rule, scheme, k * h + j * dt, dt, y, dWs[j], A, bv, C, dS, par, work)


@njit(cache=True)
def svag_loop(pk, nk, x0, pp, qdata, ldata, npar, ndata, lr, ell, steps, rec, seed, replicates,
              noise_stream, out_f, out_x):
    """SGD with SVAG (Li, Malladi & Arora 2021): ``ell * steps`` updates of lr/ell with the
    gradient ``grad f + w1 xi1 + w2 xi2``, ``w = (1 +- sqrt(2 ell - 1))/2``, two independent
    draws of the noise model; records at the original steps ``rec`` (every ``ell`` updates)."""
    d = x0.shape[0]
    x = np.empty(d)
    g = np.empty(d)
    e1 = np.empty(d)
    e2 = np.empty(d)
    rngs = np.empty((noise_stream + 1, 4), np.uint64)
    root = math.sqrt(2.0 * ell - 1.0)
    w1 = 0.5 * (1.0 + root)
    w2 = 0.5 * (1.0 - root)
    eta = lr / ell
    for r in range(replicates):
        for j in range(noise_stream + 1):
            seed_stream(rngs[j], seed, r, j, 0)
        for i in range(d):
            x[i] = x0[i]
        q = 0
        for k in range(steps * ell + 1):
            if k % ell == 0 and q < rec.shape[0] and rec[q] == k // ell:
                out_f[r, q] = _objective(pk, x, pp, qdata, ldata)
                for i in range(d):
                    out_x[r, q, i] = x[i]
                q += 1
            if k == steps * ell:
                break
            _grad(pk, x, g, k, pp, qdata, ldata, rngs[0])
            if ell == 1:
                _apply(nk, g, x, k, npar, ndata, rngs[noise_stream])
                for i in range(d):
                    x[i] = x[i] - eta * g[i]
                continue
            for i in range(d):
                e1[i] = 0.0
                e2[i] = 0.0
            _apply(nk, e1, x, k, npar, ndata, rngs[noise_stream])
            _apply(nk, e2, x, k, npar, ndata, rngs[noise_stream])
            for i in range(d):
                x[i] = x[i] - eta * (g[i] + w1 * e1[i] + w2 * e2[i])
