r"""Exact expected dynamics of linear update rules on quadratics: the mean and covariance of
the state propagated step by step, with no sampling.

On a quadratic :math:`f(x) = \tfrac12 (x-c)^\top Q\,\mathrm{diag}(h)\,Q^\top (x-c)` the
coordinates :math:`u = Q^\top (x - c)` decouple, and SGD (every momentum form), NAG,
Schedule-Free SGD and EMA / Polyak averaging of the iterates move the state :math:`s` of
each coordinate (the parameter and the rule's buffers, see :mod:`optsim._linear_rules`) by
an affine map with additive noise,

.. math::

    s_t = A_t s_{t-1} + k_t + n_t \xi_t, \qquad
    \mu_t = A_t \mu_{t-1} + k_t, \qquad
    P_t = A_t P_{t-1} A_t^\top + \Sigma\, n_t n_t^\top

with :math:`A_t` the rule's step matrix including the gradient :math:`h u`, :math:`k_t` the
pull of a coupled L2 term towards 0, and :math:`\Sigma` the gradient-noise covariance in the
eigenbasis (:math:`Q^\top \Sigma_x Q`; for a covariance that is not diagonal there, the
cross-coordinate blocks :math:`P_{ij,t} = A_t P_{ij} A_t^\top + \Sigma_{ij} n n^\top` are
propagated too).  The learning rate :math:`\eta_t` of every update comes from optsim's own
schedule kernels (``Schedule.learning_rates``), so any schedule without loss feedback works.

With Gaussian noise and a Gaussian (or fixed) start the state is exactly Gaussian, so the
loss :math:`L = \tfrac12 \sum_i h_i u_i^2` has

.. math::

    E[L_t] = \tfrac12 \sum_i h_i (\mu_i^2 + C_{ii}), \qquad
    \mathrm{Var}[L_t] = \sum_{i,j} h_i h_j \left(\tfrac12 C_{ij}^2 + \mu_i \mu_j C_{ij}\right)

(:math:`C` the covariance of the parameter rows), the Gaussian fourth moments
:math:`\mathrm{Cov}(u_i^2, u_j^2) = 2C_{ij}^2 + 4\mu_i\mu_j C_{ij}`.

References: Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue & Grosse, *Which Algorithmic
Choices Matter at Which Batch Sizes? Insights From a Noisy Quadratic Model*, NeurIPS 2019
(the NQM and its second-moment recursions); Polyak & Juditsky, *Acceleration of Stochastic
Approximation by Averaging*, SIAM J. Control Optim. 1992 (uniform averaging); Defazio,
Yang, Mehta, Mishchenko, Khaled & Cutkosky, *The Road Less Scheduled*, NeurIPS 2024
(Schedule-Free SGD); Kingma & Ba, *Adam*, ICLR 2015 (the linearized Adam).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._components import ParameterError
from ._linear_kernel import propagate_diagonal
from ._linear_rules import NoRecursion, limit_t, rule_for

__all__ = [
    "ExpectedDynamics",
    "NoRecursion",
    "AVERAGING",
    "EMA_STARTS",
    "expected_dynamics",
    "expected_loss",
    "stationary_risk",
    "steps_to_target",
    "frozen_preconditioner",
    "has_exact_recursion",
]

AVERAGING = (None, "polyak", "ema")
EMA_STARTS = ("x1", "x0")


@dataclass
class ExpectedDynamics:
    r"""The exact moments at the steps ``steps`` (rows of every array).

    ``loss_mean``, ``loss_var``: :math:`E[L_t]`, :math:`\mathrm{Var}[L_t]` (exact for Gaussian
    noise, NaN otherwise); ``mean``, ``var``: per parameter coordinate (the problem's own
    coordinates, ``(len(steps), d)``); ``exact``: False for a linearized
    (frozen-preconditioner) rule; ``of``: ``"x"`` or the averaged iterate the readouts refer
    to; ``gaussian``: whether the state is Gaussian (every noise model Gaussian).
    """

    steps: np.ndarray
    loss_mean: np.ndarray
    loss_var: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    exact: bool
    of: str
    gaussian: bool = True


# -- the problem and the noise in the eigenbasis -----------------------------------------------


def _problem_parts(problem):
    """(h, Q or None, c, mean of u_0, variance of u_0, extra diagonal noise variance in u)."""
    name = type(problem).name
    if name == "nqm":
        h = problem.curvatures()
        d = h.shape[0]
        extra = np.zeros(d) if problem.batch_size is None else h / float(problem.batch_size)
        if problem.random_start:
            return h, None, np.zeros(d), np.zeros(d), 1.0, extra
        return h, None, np.zeros(d), problem.start_point(), 0.0, extra
    if name == "quadratic":
        h = problem.curvature_vector()
        q = problem.rotation_()
        c = problem.center_()
        z0 = problem.start_point() - c
        u0 = z0 if q is None else q.T @ z0
        return h, q, c, u0, 0.0, np.zeros(h.shape[0])
    if name == "linear_regression":
        X, y = problem.data()[:2]
        H = X.T @ X / X.shape[0] + float(problem.l2) * np.eye(X.shape[1])
        lam, q = np.linalg.eigh(0.5 * (H + H.T))
        c = problem.optimum()
        u0 = q.T @ (problem.start_point() - c)
        return np.clip(lam, 0.0, None), q, c, u0, 0.0, np.zeros(lam.shape[0])
    raise NoRecursion(f"problem {name!r} is not a quadratic (quadratic, nqm, linear_regression)")


def _loss_floor(problem):
    """The loss at the minimiser, added to the quadratic form (0 but for a regression)."""
    if type(problem).name != "linear_regression":
        return 0.0
    X, y = problem.data()[:2]
    c = problem.optimum()
    r = X @ c - y
    return float(0.5 * np.mean(r * r) + 0.5 * float(problem.l2) * (c @ c))


def _as_list(noise):
    if noise is None:
        return []
    if isinstance(noise, (list, tuple)):
        return list(noise)
    return [noise]


def _is_gaussian(noise):
    return all(type(nz).name in ("gaussian", "curvature_scaled") for nz in _as_list(noise))


def noise_covariance(problem, noise, h, q, extra):
    """The gradient-noise covariance in the eigenbasis: a vector (diagonal) or a matrix.

    ``StudentT`` (:math:`\nu > 2`) adds :math:`s^2\nu/(\nu-2)` per coordinate: the means and
    covariances stay exact for any zero-mean additive noise, only the loss variance (fourth
    moments) needs Gaussian noise."""
    diag = np.array(extra, dtype=float)
    full = None
    for nz in _as_list(noise):
        name = type(nz).name
        if name == "gaussian":
            s = nz.prepare(problem)[0]
            vx = float(nz.sigma) ** 2 * (np.ones(h.shape[0]) if s.shape[0] == 0 else s ** 2)
            if q is None or np.all(vx == vx[0]):
                diag = diag + vx
            else:
                full = (q.T * vx) @ q if full is None else full + (q.T * vx) @ q
        elif name == "curvature_scaled":
            b = float(nz.batch_size)
            if not np.isfinite(b):
                continue
            if q is None or hasattr(problem, "hessian"):
                diag = diag + h / b  # H / B, diagonal in the eigenbasis
            else:  # the model's covariance diag(hessian_diag()) / B, rotated into the eigenbasis
                vx = np.asarray(problem.hessian_diag(), dtype=float) / b
                full = (q.T * vx) @ q if full is None else full + (q.T * vx) @ q
        elif name == "student_t":
            nu = float(nz.nu)
            if not nu > 2.0:
                raise NoRecursion(f"student_t noise with nu={nu:g} <= 2 has no finite variance")
            diag = diag + float(nz.scale) ** 2 * nu / (nu - 2.0)  # i.i.d. coordinates: isotropic
        else:
            raise NoRecursion(f"noise {name!r} has no exact recursion here (gaussian, curvature_scaled, student_t)")
    if full is None:
        return diag
    return full + np.diag(diag)


def _rates(schedule, steps, lr):
    if schedule is None:
        return np.full(steps, float(lr))
    if getattr(type(schedule), "watches_loss", False):
        raise NoRecursion(f"schedule {type(schedule).name!r} watches the loss: its rates are random")
    return np.asarray(schedule.learning_rates(steps, lr), dtype=float)


def frozen_preconditioner(problem, optimizer, noise=None):
    r"""The frozen denominators :math:`D_i` of the linearized Adam / RMSprop recursion.

    The second-moment estimate is replaced by its value at the optimum,
    :math:`v_i^* = E[g_i^2]\,|_{x = x^*} = \Sigma_{ii} + (\lambda c_i)^2` (the noise variance,
    plus the coupled L2 term's pull at the minimiser :math:`c`), and

    .. math::

        D_i = \sqrt{v_i^*} + \epsilon \quad (\text{``eps_mode'' sqrt\_vhat, sqrt\_v}), \qquad
        D_i = \sqrt{v_i^* + \epsilon} \quad (\text{``inside''}, RMSprop's ``eps_inside``)

    On the NQM with curvature noise :math:`v^* = h/B`, so the preconditioner
    :math:`1/D \propto h^{-1/2}`: Zhang et al.'s (2019) model of Adam as SGD preconditioned by
    :math:`H^{-p}`, :math:`p = 1/2`.  Only problems with a diagonal Hessian qualify.
    """
    h, q, c, _, _, extra = _problem_parts(problem)
    if q is not None:
        raise NoRecursion("a frozen diagonal preconditioner needs a diagonal Hessian (no rotation)")
    sig = noise_covariance(problem, noise, h, q, extra)
    v = sig + (float(optimizer.weight_decay) * c) ** 2
    eps = float(optimizer.eps)
    inside = (optimizer.eps_mode == "inside") if type(optimizer).name != "rmsprop" else bool(optimizer.eps_inside)
    return np.sqrt(v + eps) if inside else np.sqrt(v) + eps


def _rule(problem, optimizer, noise, linearize):
    name = type(optimizer).name
    if name in ("adam", "adamw", "rmsprop"):
        if not linearize:
            raise NoRecursion(f"{name} has no exact recursion; linearize=True gives the frozen-preconditioner one")
        return rule_for(optimizer, frozen_preconditioner(problem, optimizer, noise))
    return rule_for(optimizer)


def _check(steps, averaging, ema_decay, ema_start="x1"):
    steps = int(steps)
    if steps < 0:
        raise ParameterError(f"expected_dynamics: steps={steps} must be >= 0")
    if averaging not in AVERAGING:
        raise ParameterError(f"expected_dynamics: averaging={averaging!r} must be one of None, 'polyak', 'ema'")
    if not (0.0 <= float(ema_decay) < 1.0):
        raise ParameterError(f"expected_dynamics: ema_decay={ema_decay!r} must be in [0, 1)")
    if ema_start not in EMA_STARTS:
        raise ParameterError(f"expected_dynamics: ema_start={ema_start!r} must be one of 'x1', 'x0'")
    return steps


def _step_matrices(rule, t, lr, h, lam, w, sgn):
    """(A (d,k,k), n (d,k), const (d,k)) of update t at rate lr."""
    M, n, e, f = rule.step(t, lr)
    d = h.shape[0]
    k = len(rule.names)
    M = np.broadcast_to(M, (d, k, k))
    n = np.broadcast_to(n, (d, k))
    q = sgn * h[:, None] * e[None, :] + lam * f[None, :]
    A = M + n[:, :, None] * q[:, None, :]
    const = n * (lam * w)[:, None]
    return A, n, const


def _averaged(A, n, const, omega):
    """The step with one more row, a' = (1 - omega) a + omega x' (x the first row)."""
    d, k, _ = A.shape
    A2 = np.zeros((d, k + 1, k + 1))
    A2[:, :k, :k] = A
    A2[:, k, :k] = omega * A[:, 0, :]
    A2[:, k, k] = 1.0 - omega
    n2 = np.concatenate([n, omega * n[:, :1]], axis=1)
    c2 = np.concatenate([const, omega * const[:, :1]], axis=1)
    return A2, n2, c2


def _parts_averaged(parts, omega):
    """``step_parts`` with the averaged row a' = (1 - omega) a + omega x' appended (omega None: as is)."""
    if omega is None:
        return parts
    M0, M1, n0, n1, e, f = parts
    k = M0.shape[0]
    out = []
    for M, keep in ((M0, 1.0 - omega), (M1, 0.0)):
        M2 = np.zeros((k + 1, k + 1))
        M2[:k, :k] = M
        M2[k, :k] = omega * M[0]
        M2[k, k] = keep
        out.append(M2)
    return (out[0], out[1], np.append(n0, omega * n0[0]), np.append(n1, omega * n1[0]), np.append(e, 0.0),
            np.append(f, 0.0))


def _readout(h, q, c, mu, C, full):
    """(E L, Var L, mean x, var x) from the parameter row's mean and covariance."""
    if full:
        dC = np.diag(C)
        loss_mean = 0.5 * float(h @ (mu * mu + dC))
        hh = np.outer(h, h)
        loss_var = float(np.sum(hh * (0.5 * C * C + np.outer(mu, mu) * C)))
        xvar = np.einsum("ji,ik,jk->j", q, C, q) if q is not None else dC.copy()
    else:
        loss_mean = 0.5 * float(h @ (mu * mu + C))
        loss_var = float(np.sum(h * h * (0.5 * C * C + mu * mu * C)))
        xvar = C.copy() if q is None else (q * q) @ C
    xmean = (mu if q is None else q @ mu) + c
    return loss_mean, loss_var, xmean, xvar


def expected_dynamics(problem, optimizer, noise=None, schedule=None, steps=100, *, record_steps=None,
                      averaging=None, ema_decay=0.999, ema_start="x1", linearize=False) -> ExpectedDynamics:
    r"""The exact mean and variance of the loss and of every coordinate, steps 0..``steps``.

    ``problem``: a :class:`~optsim.problems.Quadratic` (diagonal or rotated), the
    :class:`~optsim.problems.NoisyQuadraticModel` (its own ``batch_size`` noise
    :math:`h/B` included) or a :class:`~optsim.problems.LinearRegression` with full-batch
    gradients (:math:`H = X^\top X/n + \lambda I` rotated by its eigendecomposition, the
    minimiser ``optimum()`` and the loss there added to the quadratic form); ``noise``: None, a :class:`~optsim.noise.Gaussian`
    (:math:`\sigma^2 \mathrm{diag}(s^2)`), a :class:`~optsim.noise.CurvatureScaled`
    (:math:`H/B`), a :class:`~optsim.noise.StudentT` with :math:`\nu > 2` (means and
    variances exact, ``loss_var`` NaN) or a list of them (covariances add); ``optimizer``: ``SGD`` (every
    ``momentum_form``, dampening, Nesterov, coupled L2, maximize), ``NAG``,
    ``ScheduleFreeSGD`` (every option: the readouts are of its average :math:`x`, the point
    the sweep records), or with ``linearize=True`` ``Adam`` / ``RMSprop`` with a frozen
    preconditioner (:func:`frozen_preconditioner`; ``exact`` is then False);
    ``schedule``: any schedule without loss feedback, evaluated by its own kernels
    (:math:`\eta_t` = ``schedule.learning_rates(steps, optimizer.lr)[t-1]``).

    ``averaging`` reads out an average of the iterates instead of :math:`x_t`:

    .. math::

        \text{'polyak'}:\ \bar x_t = \frac1t \sum_{i=1}^t x_i \ (\bar x_0 = x_0), \qquad
        \text{'ema'}:\ \bar x_t = \beta \bar x_{t-1} + (1-\beta) x_t \ (t \ge 2),\ \bar x_1 = x_1

    with :math:`\beta` = ``ema_decay``.  Both are ``torch.optim.swa_utils.AveragedModel``
    updated after every step (its first update copies :math:`x_1`; ``'ema'`` with
    ``get_ema_multi_avg_fn``); ``'polyak'`` is the uniform average of Polyak & Juditsky
    (1992) over the iterates after the updates.  ``ema_start='x0'`` starts the EMA from the
    starting point instead, :math:`\bar x_0 = x_0` and the recursion from :math:`t = 1`
    (timm's ``ModelEmaV2``, which copies the model when it is made).

    ``record_steps`` (default every step) picks the rows.  Raises :class:`NoRecursion` for a
    combination without a recursion.
    """
    steps = _check(steps, averaging, ema_decay, ema_start)
    h, q, c, u0, cov0, extra = _problem_parts(problem)
    sigma = noise_covariance(problem, noise, h, q, extra)
    rule = _rule(problem, optimizer, noise, linearize)
    rates = _rates(schedule, steps, optimizer.lr)
    rec = np.arange(steps + 1) if record_steps is None else np.unique(np.asarray(record_steps, dtype=int))
    if rec.size and (rec[0] < 0 or rec[-1] > steps):
        raise ParameterError(f"expected_dynamics: record_steps must lie in [0, {steps}], got {rec[0]}..{rec[-1]}")
    full = sigma.ndim == 2
    d = h.shape[0]
    start = rule.start
    if averaging is not None:
        start = np.append(start, 1.0)
    k = start.shape[0]
    r = k - 1 if averaging is not None else 0
    w = c if q is None else q.T @ c
    mean = u0[:, None] * start[None, :]
    gaussian = _is_gaussian(noise)

    def omega_of(t):
        if averaging == "polyak" or (t == 1 and ema_start == "x1"):
            return 1.0 / t
        return 1.0 - float(ema_decay)

    if not full:
        P = cov0 * np.broadcast_to(np.outer(start, start), (d, k, k)).copy()
        last = int(rec[-1]) if rec.size else 0
        parts = [_parts_averaged(rule.step_parts(t, rates[t - 1]), None if averaging is None else omega_of(t))
                 for t in range(1, last + 1)]
        M0, M1, n0, n1, E, F = (np.array([pt[i] for pt in parts]).reshape((last,) + shape) for i, shape in
                                enumerate([(k, k), (k, k), (k,), (k,), (k,), (k,)]))
        scale = np.zeros(d) if rule.coord_scale is None else rule.coord_scale
        mu, C = propagate_diagonal(M0, M1, n0, n1, E, F, scale, h, rule.sign, rule.weight_decay, w, sigma, mean, P,
                                   rec, r)
        with np.errstate(over="ignore", invalid="ignore"):
            loss_mean = 0.5 * (mu * mu + C) @ h + _loss_floor(problem)
            loss_var = (0.5 * C * C + mu * mu * C) @ (h * h) if gaussian else np.full(rec.size, np.nan)
            xmean = (mu if q is None else mu @ q.T) + c
            xvar = C if q is None else C @ (q * q).T
        return ExpectedDynamics(rec, loss_mean, loss_var, xmean, xvar, rule.exact,
                                "x" if averaging is None else averaging, gaussian)
    if full:
        P = cov0 * np.einsum("ij,k,l->ijkl", np.eye(d), start, start)
    else:
        P = cov0 * np.broadcast_to(np.outer(start, start), (d, k, k)).copy()
    out = {key: [] for key in ("lm", "lv", "xm", "xv")}

    def record():
        C = P[:, :, r, r] if full else P[:, r, r]
        lm, lv, xm, xv = _readout(h, q, c, mean[:, r], C, full)
        for key, v in zip(("lm", "lv", "xm", "xv"), (lm, lv, xm, xv)):
            out[key].append(v)

    j = 0
    if rec.size and rec[0] == 0:
        record()
        j = 1
    lam, sgn = rule.weight_decay, rule.sign
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            if j >= rec.size:
                break
            A, n, const = _step_matrices(rule, t, rates[t - 1], h, lam, w, sgn)
            if averaging is not None:
                A, n, const = _averaged(A, n, const, omega_of(t))
            mean = np.einsum("ikl,il->ik", A, mean) + const
            if full:
                P = np.einsum("ikl,ijlm,jnm->ijkn", A, P, A) + sigma[:, :, None, None] * np.einsum(
                    "ik,jl->ijkl", n, n)
            else:
                P = np.einsum("ikl,ilm,inm->ikn", A, P, A) + sigma[:, None, None] * n[:, :, None] * n[:, None, :]
            if rec[j] == t:
                record()
                j += 1
    loss_var = np.array(out["lv"]) if gaussian else np.full(len(out["lv"]), np.nan)
    return ExpectedDynamics(rec, np.array(out["lm"]) + _loss_floor(problem), loss_var, np.array(out["xm"]).reshape(-1, d),
                            np.array(out["xv"]).reshape(-1, d), rule.exact, "x" if averaging is None else averaging,
                            gaussian)


def expected_loss(problem, optimizer, noise=None, schedule=None, steps=100, **kwargs):
    r""":math:`E[L(x_t)]`, :math:`t = 0..` ``steps``: ``expected_dynamics(...).loss_mean``."""
    return expected_dynamics(problem, optimizer, noise, schedule, steps, **kwargs).loss_mean


def stationary_risk(problem, optimizer, noise=None, *, averaging=None, ema_decay=0.999, linearize=False):
    r"""The stationary expected loss :math:`\lim_t E[L_t]` at the constant rate ``optimizer.lr``.

    Per coordinate the stationary covariance solves the discrete Lyapunov equation
    :math:`P = A P A^\top + \Sigma_{ii} n n^\top` (as :math:`\mathrm{vec} P = (I - A\otimes
    A)^{-1} \mathrm{vec}(\Sigma_{ii} n n^\top)`) and the mean :math:`\mu = (I - A)^{-1} k`, with
    :math:`A` the step matrix once the first-step and bias-correction transients are gone;
    the risk is :math:`\tfrac12 \sum_i h_i (\mu_i^2 + P_{ii})`, ``inf`` when a coordinate with
    :math:`h_i > 0` has a step matrix of spectral radius :math:`\ge 1`.  For SGD it is
    :math:`\tfrac12 \sum_i h_i\, \eta\Sigma_{ii}/(h_i(2 - \eta h_i))`.  Schedule-Free SGD and
    Polyak averaging have no stationary step matrix (their weights change every step): use
    :func:`expected_dynamics` for them.
    """
    _check(0, averaging, ema_decay)
    if averaging == "polyak":
        raise NoRecursion("Polyak averaging has no stationary step matrix (weight 1/t)")
    h, q, c, _, _, extra = _problem_parts(problem)
    sigma = noise_covariance(problem, noise, h, q, extra)
    sig = np.diag(sigma) if sigma.ndim == 2 else sigma
    rule = _rule(problem, optimizer, noise, linearize)
    if not rule.stationary:
        raise NoRecursion(f"{type(optimizer).name} has no stationary step matrix (its averaging weight changes)")
    w = c if q is None else q.T @ c
    A, n, const = _step_matrices(rule, limit_t(), float(optimizer.lr), h, rule.weight_decay, w, rule.sign)
    if averaging == "ema":
        A, n, const = _averaged(A, n, const, 1.0 - float(ema_decay))
    d, k, _ = A.shape
    r = k - 1 if averaging is not None else 0
    keep = h > 0
    rho = np.max(np.abs(np.linalg.eigvals(A[keep])), axis=-1) if keep.any() else np.zeros(0)
    if np.any(rho >= 1.0):
        return float("inf")
    A, n, const, hk, sk = A[keep], n[keep], const[keep], h[keep], sig[keep]
    kron = np.einsum("iab,icd->iacbd", A, A).reshape(-1, k * k, k * k)
    rhs = (sk[:, None, None] * n[:, :, None] * n[:, None, :]).reshape(-1, k * k)
    P = np.linalg.solve(np.eye(k * k)[None] - kron, rhs[..., None])[..., 0].reshape(-1, k, k)
    mu = np.linalg.solve(np.eye(k)[None] - A, const[..., None])[..., 0]
    return float(0.5 * hk @ (mu[:, r] ** 2 + P[:, r, r])) + _loss_floor(problem)


def steps_to_target(problem, optimizer, target, noise=None, schedule=None, max_steps=10_000, **kwargs):
    r"""The first step :math:`t \le` ``max_steps`` with :math:`E[L_t] \le` ``target``, -1 if none.

    The expectation is exact (:func:`expected_dynamics`); ``kwargs`` go to it."""
    target = float(target)
    if not np.isfinite(target):
        raise ParameterError(f"steps_to_target: target={target!r} must be finite")
    loss = expected_loss(problem, optimizer, noise, schedule, int(max_steps), **kwargs)
    hit = np.flatnonzero(loss <= target)
    return int(hit[0]) if hit.size else -1


def has_exact_recursion(problem, optimizer, noise=None, schedule=None) -> bool:
    """Whether :func:`expected_dynamics` has an exact recursion for this combination."""
    try:
        h, q, c, _, _, extra = _problem_parts(problem)
        noise_covariance(problem, noise, h, q, extra)
        _rule(problem, optimizer, noise, False)
        _rates(schedule, 1, optimizer.lr)
    except NoRecursion:
        return False
    return True
