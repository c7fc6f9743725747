"""Exact first and second moments of a linear rule on a quadratic, by superposition.

A rule that is affine in the parameters and the gradients (SGD, NAG, Schedule-Free SGD) run
on :math:`\\nabla f(x) = H(x - c)` with additive noise maps the start and the noise draws
affinely to every later iterate.  So the mean is the noise-free run, and the covariance
is the sum over steps ``s`` and coordinates ``j`` of the outer products of the responses
to a unit noise impulse ``e_j`` at step ``s`` (each response = the run with the impulse
minus the noise-free run), weighted by the noise covariance, plus the response to the
start's spread.  Nothing here knows an eigenbasis, a step matrix or a Lyapunov equation:
only the plain-NumPy rule oracles of :mod:`reference.rules` and :mod:`reference.rules_adapt`.
"""

import copy

import numpy as np


def _run(rule, H, c, x0, steps, rate, kicks):
    """The iterates x_0..x_steps with ``kicks[s]`` added to the gradient of update s + 1."""
    rule = copy.deepcopy(rule)
    x = np.array(x0, dtype=float)
    xs = [x.copy()]
    for k in range(steps):
        y = rule.lookahead(x) if hasattr(rule, "lookahead") else x
        g = H @ (y - c) + kicks[k]
        x = rule.step(x, g, k + 1, rate(k))
        xs.append(np.array(x, dtype=float))
    return np.array(xs)


def average(xs, averaging=None, ema_decay=0.999, ema_start="x1"):
    """The averaged iterates: 'polyak' the mean of x_1..x_t; 'ema' started at x_1 (or at x_0)."""
    if averaging is None:
        return xs
    out = np.empty_like(xs)
    out[0] = xs[0]
    for t in range(1, xs.shape[0]):
        if averaging == "polyak":
            out[t] = xs[1:t + 1].mean(axis=0)
        elif t == 1 and ema_start == "x1":
            out[t] = xs[1]
        else:
            out[t] = ema_decay * out[t - 1] + (1.0 - ema_decay) * xs[t]
    return out


def moments(rule, H, c, x0, steps, rate, noise_cov, start_cov=None, averaging=None, ema_decay=0.999,
            ema_start="x1"):
    """(mean (T+1, d), covariance (T+1, d, d), E[loss] (T+1,), Var[loss] (T+1,)) exactly.

    ``noise_cov``: the gradient noise covariance (d, d); ``start_cov``: the start's (d, d) or
    None for a fixed start.  Var[loss] uses the Gaussian fourth moments.
    """
    H = np.asarray(H, dtype=float)
    d = H.shape[0]
    zero = np.zeros((steps, d))
    mean = average(_run(rule, H, c, x0, steps, rate, zero), averaging, ema_decay, ema_start)
    cov = np.zeros((steps + 1, d, d))
    root = np.linalg.cholesky(noise_cov + 1e-300 * np.eye(d)) if np.any(noise_cov) else None
    for s in range(steps):
        if root is None:
            break
        for j in range(d):
            kicks = zero.copy()
            kicks[s] = np.eye(d)[j]
            r = average(_run(rule, H, c, x0, steps, rate, kicks), averaging, ema_decay, ema_start) - mean
            responses = r[:, :, None] if j == 0 else np.concatenate([responses, r[:, :, None]], axis=2)
        cov += np.einsum("tij,jk,tlk->til", responses, noise_cov, responses)
    if start_cov is not None and np.any(start_cov):
        for j in range(d):
            r = average(_run(rule, H, c, np.asarray(x0, float) + np.eye(d)[j], steps, rate, zero), averaging,
                        ema_decay, ema_start) - mean
            responses = r[:, :, None] if j == 0 else np.concatenate([responses, r[:, :, None]], axis=2)
        cov += np.einsum("tij,jk,tlk->til", responses, start_cov, responses)
    z = mean - c
    loss_mean = 0.5 * np.einsum("ti,ij,tj->t", z, H, z) + 0.5 * np.einsum("ij,tji->t", H, cov)
    HC = np.einsum("ij,tjk->tik", H, cov)
    loss_var = 0.5 * np.einsum("tij,tji->t", HC, HC) + np.einsum("ti,tij,jk,tk->t", z, HC, H, z)
    return mean, cov, loss_mean, loss_var
