r"""Stochastic differential equations of SGD, RMSprop and Adam, coupled to the discrete steps.

:func:`coupled_paths` runs, for each replicate, the discrete optimizer (the registered
kernels, on the random streams the engine keys for the same seed and replicate, so the
path is :func:`optsim.sweep`'s to the bit) and a numerical solution of its SDE driven by
**the same Gaussian increments**: over the SDE-time interval :math:`[k h, (k+1) h]` of step
:math:`k` the Brownian increment is :math:`\Delta W_k = \sqrt h\, z_k`, where :math:`z_k` are
the :math:`d` normals the noise model draws at step :math:`k`.  With :math:`m` substeps the
increment is split by a Brownian bridge: :math:`\Delta W_{k,j} = w_j - \bar w + \Delta W_k/m`,
:math:`w_j \sim N(0, h/m)` i.i.d. from a separate stream (the exact law of the substep
increments given their sum), so the two paths can be compared trajectory by trajectory.

The SDEs (:math:`\Sigma = C C^\top` the covariance of one noise draw :math:`\xi = C z`,
:math:`\eta` the learning rate, time :math:`t = k h`):

SGD (Li, Tai & E 2017, 2019), :math:`h = \eta`; first order (``order=1``) and the
second-order weak approximation (``order=2``):

.. math::

    dX = -\nabla f(X)\, dt - \sqrt{\eta}\, \Sigma^{1/2} dW, \qquad
    dX = -\nabla\big(f + \tfrac{\eta}{4} |\nabla f|^2\big)(X)\, dt - \sqrt{\eta}\, \Sigma^{1/2} dW.

(written with the sign the noise has in the update :math:`x - \eta(\nabla f + \xi)`, so that
:math:`W` is the sum of the noise's own normals; :math:`-W` is a Brownian motion too, and the
law is Li, Tai & E's.)

RMSprop (Malladi et al. 2022, Definition 4.1 with :math:`\sigma = 1`), :math:`h = \eta^2`,
:math:`\sigma_0 = \eta`, :math:`\epsilon_0 = \epsilon \eta`, :math:`c_2 = (1-\alpha)/\eta^2`:

.. math::

    dX = -P^{-1}\big(\nabla f\, dt + \sigma_0 \Sigma^{1/2} dW\big), \quad
    du = c_2 (\operatorname{diag}\Sigma - u)\, dt, \quad P = \sigma_0 \operatorname{diag}(\sqrt u) + \epsilon_0 I.

Adam (Malladi et al. 2022, Definition 4.4), :math:`h = \eta^2`, :math:`c_i = (1-\beta_i)/\eta^2`,
:math:`\gamma_i(t) = 1 - e^{-c_i t}`:

.. math::

    dX = -\frac{\sqrt{\gamma_2}}{\gamma_1} P^{-1} m\, dt, \quad
    dm = c_1 (\nabla f - m)\, dt + \sigma_0 c_1 \Sigma^{1/2} dW, \quad
    du = c_2 (\operatorname{diag}\Sigma - u)\, dt, \quad
    P = \sigma_0 \operatorname{diag}(\sqrt u) + \epsilon_0 \sqrt{\gamma_2} I.

Symbols: :math:`\eta` = the optimizer's ``lr``, :math:`\alpha` = RMSprop's ``alpha``,
:math:`\beta_1, \beta_2, \epsilon` = Adam's ``beta1``, ``beta2``, ``eps``; :math:`u(0)` is
RMSprop's ``initial_scale`` (Adam: 0), :math:`m(0) = 0`.  The adaptive SDEs drop
:math:`(\nabla f)^2` next to :math:`\operatorname{diag}\Sigma` in the second moment: they
describe the regime where the noise dominates the gradient.  State rows of the solution:
``x``, ``m``, ``u`` (:data:`optsim._sde_kernels.Y`).

Schemes: ``"euler"`` (Euler-Maruyama, weak order 1) and ``"heun"`` (stochastic Heun,
weak order 2 for these SDEs, whose noise is additive or, for RMSprop, depends only on the
noiseless :math:`u`, where Itô and Stratonovich agree).  The second-order SME needs the
second: its own error is :math:`O(\eta^2)`, below Euler's :math:`O(\eta/m)`.  For SGD with
``order=1``, ``scheme="euler"`` and one substep the SDE path *is* the discrete one (up to
rounding: the drift is computed as :math:`A x - b`).

The gradient must be affine, :math:`\nabla f(x) = A x - b` (:class:`~optsim.problems.Quadratic`,
diagonal or rotated; full-batch :class:`~optsim.problems.LinearRegression`), and the noise
one of :class:`~optsim.noise.Gaussian`, :class:`~optsim.noise.CurvatureScaled` (coupled:
they draw :math:`d` normals per step, in order), :class:`~optsim.noise.StudentT` or
:class:`~optsim.noise.AlphaStable` (not coupled: there are no Gaussian increments to
share; the SDE gets independent normals and the Gaussian ``match`` of the noise, see
:func:`linear_model`).  :func:`svag_paths` runs SVAG on the same problems and noise models.

References: Q. Li, C. Tai & W. E, "Stochastic modified equations and adaptive stochastic
gradient algorithms", ICML 2017, and "Stochastic modified equations and dynamics of
stochastic gradient algorithms I: mathematical foundations", JMLR 20 (2019); S. Malladi,
K. Lyu, A. Panigrahi & S. Arora, "On the SDEs and scaling rules for adaptive gradient
algorithms", NeurIPS 2022; Z. Li, S. Malladi & S. Arora, "On the validity of modeling SGD
with stochastic differential equations (SDEs)", NeurIPS 2021; P. E. Kloeden & E. Platen,
"Numerical solution of stochastic differential equations", Springer 1992.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import xarray as xr

from . import _sde_kernels as K
from ._components import ParameterError
from .engine.codegen import STREAMS
from .noise import AlphaStable, CurvatureScaled, Gaussian, StudentT
from .optimizers import SGD, Adam, RMSprop
from .problems import LinearRegression, Quadratic

__all__ = ["LinearModel", "linear_model", "coupled_paths", "svag_paths", "svag_weights",
           "sme_quadratic_moments", "sgd_quadratic_moments", "scale_rule", "RULES", "SCHEMES", "MATCHES"]

RULES = {"sgd": K.RULE_SGD, "rmsprop": K.RULE_RMSPROP, "adam": K.RULE_ADAM}
SCHEMES = {"euler": K.SCHEME_EULER, "heun": K.SCHEME_HEUN}
MATCHES = ("variance", "scale")
"""How a heavy-tailed noise gets its Gaussian stand-in: the same covariance (Student-t with
nu > 2: s^2 nu/(nu-2)), or the same scale (Student-t: s; alpha-stable: the alpha = 2 member
of its family, variance 2 s^2).  Where the variance is infinite ``variance`` falls back to
``scale``."""


class LinearModel(NamedTuple):
    """An affine gradient and a linear noise: :math:`\\nabla f(x) = A x - b`, one draw
    :math:`\\xi = C z`, :math:`z \\sim N(0, I)` (or its Gaussian stand-in, ``coupled`` False)."""

    A: np.ndarray
    b: np.ndarray
    C: np.ndarray
    coupled: bool

    @property
    def noise_cov(self) -> np.ndarray:
        """:math:`\\Sigma = C C^\\top`."""
        return self.C @ self.C.T


def linear_model(problem, noise, match="variance") -> LinearModel:
    """The :class:`LinearModel` of ``problem`` and ``noise`` (see the module docstring)."""
    if match not in MATCHES:
        raise ParameterError(f"match must be one of {MATCHES}, got {match!r}")
    d = problem.dimension()
    if isinstance(problem, Quadratic):
        A = np.asarray(problem.hessian(), dtype=float)
        b = A @ problem.center_()
    elif isinstance(problem, LinearRegression):
        X, y = problem.data()[:2]
        n = X.shape[0]
        A = X.T @ X / n + problem.l2 * np.eye(d)
        b = X.T @ y / n
    else:
        raise ParameterError(f"problem: the SDEs need an affine gradient (Quadratic, LinearRegression), "
                             f"got {type(problem).__name__}")
    eye = np.eye(d)
    if isinstance(noise, Gaussian):
        s = np.ones(d) if noise.scale is None else np.broadcast_to(np.asarray(noise.prepare(problem)[0]), (d,))
        C, coupled = noise.sigma * np.diag(s), True
    elif isinstance(noise, CurvatureScaled):
        root_h, L = noise.prepare(problem)
        c = 1.0 / math.sqrt(noise.batch_size)
        C, coupled = (c * L if L.shape[0] else c * np.diag(root_h)), True
    elif isinstance(noise, StudentT):
        finite = match == "variance" and noise.nu > 2.0
        C, coupled = noise.scale * (math.sqrt(noise.nu / (noise.nu - 2.0)) if finite else 1.0) * eye, False
    elif isinstance(noise, AlphaStable):
        C, coupled = noise.scale * math.sqrt(2.0) * eye, False
    else:
        raise ParameterError(f"noise: the SDEs take Gaussian, CurvatureScaled, StudentT or AlphaStable noise, "
                             f"got {type(noise).__name__}")
    return LinearModel(A, np.asarray(b, dtype=float), np.ascontiguousarray(C, dtype=float), coupled)


def _rule_of(opt):
    """The rule code of ``opt``, or a one-line error naming the setting its SDE does not cover."""
    v = opt.values

    def need(name, want):
        if v[name] != want:
            raise ParameterError(f"{type(opt).__name__}.{name} = {v[name]!r}: the SDE covers {name} = {want!r} only")

    if isinstance(opt, SGD):
        for name, want in (("momentum", 0.0), ("weight_decay", 0.0), ("maximize", False)):
            need(name, want)
        return "sgd"
    if isinstance(opt, RMSprop):
        for name, want in (("momentum", 0.0), ("weight_decay", 0.0), ("maximize", False), ("centered", False),
                           ("eps_inside", False), ("bias_correction", False)):
            need(name, want)
        return "rmsprop"
    if isinstance(opt, Adam):
        for name, want in (("weight_decay", 0.0), ("maximize", False), ("amsgrad", False),
                           ("bias_correction_m", True), ("bias_correction_v", True), ("eps_mode", "sqrt_vhat")):
            need(name, want)
        return "adam"
    raise ParameterError(f"optimizer: the SDEs cover SGD, RMSprop and Adam, got {type(opt).__name__}")


def _record_steps(steps, record_every):
    every = steps if record_every is None else int(record_every)
    if every < 1:
        raise ParameterError(f"record_every must be >= 1, got {record_every!r}")
    rec = np.arange(0, steps + 1, every, dtype=np.int64)
    return rec if rec[-1] == steps else np.append(rec, np.int64(steps))


def _check_counts(steps, replicates, seed):
    for name, value, low in (("steps", steps, 1), ("replicates", replicates, 1), ("seed", seed, 0)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ParameterError(f"{name} must be an integer >= {low}, got {value!r}")


_EMPTY1, _EMPTY2 = np.zeros(0), np.zeros((0, 0))
_NOISE_CODES = ((Gaussian, K.NOISE_GAUSSIAN), (CurvatureScaled, K.NOISE_CURVATURE), (StudentT, K.NOISE_STUDENT_T),
                (AlphaStable, K.NOISE_ALPHA_STABLE))


def _kernel_args(problem, noise):
    """The codes and data arrays of the compiled loops (problem and noise checked by :func:`linear_model`)."""
    x0 = np.ascontiguousarray(problem.start_point(), dtype=float)
    data = tuple(np.ascontiguousarray(a, dtype=float) for a in problem.data())
    if isinstance(problem, Quadratic):
        pk, qdata, ldata = K.PROBLEM_QUADRATIC, data, (_EMPTY2, _EMPTY1, _EMPTY2, _EMPTY1)
    else:
        pk, qdata, ldata = K.PROBLEM_LINREG, (_EMPTY1, _EMPTY2, _EMPTY1), data
    nk = next(code for cls, code in _NOISE_CODES if isinstance(noise, cls))
    prepared = tuple(noise.prepare(problem))
    ndata = (np.ascontiguousarray(prepared[0], dtype=float),
             np.ascontiguousarray(prepared[1], dtype=float) if len(prepared) > 1 else _EMPTY2)
    return pk, nk, x0, problem.row(), qdata, ldata, noise.row(), ndata


def coupled_paths(problem, optimizer, noise, *, steps, replicates=64, seed=0, substeps=1, scheme="euler",
                  order=1, record_every=None, match="variance") -> xr.Dataset:
    """The discrete path of ``optimizer`` and the path of its SDE, per replicate, on shared increments.

    ``steps`` discrete updates at the optimizer's constant ``lr``; the SDE over the time
    ``steps * h`` (``h`` = lr for SGD, lr^2 for RMSprop and Adam) with ``substeps`` steps of
    ``scheme`` per update; ``order`` (1 or 2) chooses the SME of SGD.  Records every
    ``record_every`` steps (default: the start and the end).  Returns a Dataset with
    ``loss_discrete``, ``loss_sde`` (replicate, step) and ``x_discrete``, ``x_sde``
    (replicate, step, coord); the coordinate ``time`` is ``step * h``.  The discrete path
    equals :func:`optsim.sweep`'s for the same ``seed`` and replicate, to the bit.
    """
    _check_counts(steps, replicates, seed)
    if not isinstance(substeps, (int, np.integer)) or isinstance(substeps, bool) or substeps < 1:
        raise ParameterError(f"substeps must be an integer >= 1, got {substeps!r}")
    if scheme not in SCHEMES:
        raise ParameterError(f"scheme must be one of {tuple(SCHEMES)}, got {scheme!r}")
    if order not in (1, 2):
        raise ParameterError(f"order must be 1 or 2, got {order!r}")
    rule = _rule_of(optimizer)
    if order == 2 and rule != "sgd":
        raise ParameterError(f"order = 2: the second-order SME is SGD's; {rule} has order 1 only")
    model = linear_model(problem, noise, match)
    pk, nk, x0, pp, qdata, ldata, npar, ndata = _kernel_args(problem, noise)
    v = optimizer.values
    eta = float(v["lr"])
    d = x0.shape[0]
    par = np.zeros(len(K.SP._fields))
    par[K.SP.eta] = eta
    par[K.SP.order] = order
    par[K.SP.sigma0] = eta
    u0 = np.zeros(d)
    if rule == "sgd":
        par[K.SP.h] = eta
    else:
        par[K.SP.h] = eta * eta
        par[K.SP.eps0] = float(v["eps"]) * eta
        if rule == "rmsprop":
            par[K.SP.c2] = (1.0 - float(v["alpha"])) / eta ** 2
            u0[:] = float(v["initial_scale"])
        else:
            par[K.SP.c1] = (1.0 - float(v["beta1"])) / eta ** 2
            par[K.SP.c2] = (1.0 - float(v["beta2"])) / eta ** 2
    rec = _record_steps(int(steps), record_every)
    R, Q = int(replicates), rec.shape[0]
    fd, fs = np.empty((R, Q)), np.empty((R, Q))
    xd, xs = np.empty((R, Q, d)), np.empty((R, Q, d))
    cls = type(optimizer)
    K.coupled_loop(pk, nk, x0, pp, qdata, ldata, npar, ndata, optimizer.row(), int(cls.slots),
                   len(cls.scalar_names), eta, int(steps), rec, int(seed), R, int(STREAMS["noise0"]),
                   bool(model.coupled), RULES[rule], SCHEMES[scheme], int(substeps),
                   model.A, model.b, model.C, np.ascontiguousarray(np.diag(model.noise_cov)), par, u0,
                   fd, fs, xd, xs)
    coords = {"replicate": np.arange(R), "step": rec, "coord": problem.coord_names()}
    ds = xr.Dataset({"loss_discrete": (("replicate", "step"), fd), "loss_sde": (("replicate", "step"), fs),
                     "x_discrete": (("replicate", "step", "coord"), xd), "x_sde": (("replicate", "step", "coord"), xs)},
                    coords=coords)
    ds = ds.assign_coords(time=("step", rec * par[K.SP.h]))
    ds.attrs.update(rule=rule, scheme=scheme, order=order, substeps=int(substeps), lr=eta, h=float(par[K.SP.h]),
                    coupled=int(model.coupled), seed=int(seed), noise=type(noise).name, match=match)
    return ds


def svag_weights(ell):
    """SVAG's weights :math:`((1 + \\sqrt{2\\ell - 1})/2, (1 - \\sqrt{2\\ell - 1})/2)`: their sum is 1
    and the sum of their squares :math:`\\ell`, so :math:`\\ell` steps of lr :math:`\\eta/\\ell` have
    the mean and covariance of one SGD step of lr :math:`\\eta`."""
    if not isinstance(ell, (int, np.integer)) or isinstance(ell, bool) or ell < 1:
        raise ParameterError(f"ell must be an integer >= 1, got {ell!r}")
    root = math.sqrt(2.0 * ell - 1.0)
    return 0.5 * (1.0 + root), 0.5 * (1.0 - root)


def svag_paths(problem, noise, *, lr, ell, steps, replicates=64, seed=0, record_every=None) -> xr.Dataset:
    r"""SGD with the Stochastic Variance Amplified Gradient of Li, Malladi & Arora (2021).

    :math:`\ell` = ``ell`` updates per original step, each
    :math:`x \leftarrow x - \frac{\eta}{\ell}\big(\nabla f(x) + w_1 \xi_1 + w_2 \xi_2\big)` with
    :math:`(w_1, w_2)` = :func:`svag_weights` and :math:`\xi_1, \xi_2` two independent draws of
    ``noise`` (applied to a zero gradient, one after the other on its stream).  As
    :math:`\ell \to \infty` the path converges weakly to the SME of SGD with lr :math:`\eta`
    (their Theorem 4.3); ``ell = 1`` is plain SGD, the sweep's path to the bit.  Records the
    loss and x at every ``record_every`` original steps: ``loss``, ``x`` (replicate, step[, coord]).
    """
    _check_counts(steps, replicates, seed)
    svag_weights(ell)
    if not (isinstance(lr, (int, float, np.floating)) and math.isfinite(lr) and lr > 0):
        raise ParameterError(f"lr must be a finite number > 0, got {lr!r}")
    linear_model(problem, noise)  # the problems and noise models the loop knows
    pk, nk, x0, pp, qdata, ldata, npar, ndata = _kernel_args(problem, noise)
    rec = _record_steps(int(steps), record_every)
    R, Q, d = int(replicates), rec.shape[0], x0.shape[0]
    f, x = np.empty((R, Q)), np.empty((R, Q, d))
    K.svag_loop(pk, nk, x0, pp, qdata, ldata, npar, ndata, float(lr), int(ell), int(steps), rec, int(seed), R,
                int(STREAMS["noise0"]), f, x)
    ds = xr.Dataset({"loss": (("replicate", "step"), f), "x": (("replicate", "step", "coord"), x)},
                    coords={"replicate": np.arange(R), "step": rec, "coord": problem.coord_names()})
    ds = ds.assign_coords(time=("step", rec * float(lr)))
    ds.attrs.update(ell=int(ell), lr=float(lr), seed=int(seed), noise=type(noise).name)
    return ds


def sme_quadratic_moments(curvatures, x0, center, noise_var, lr, time, order=1):
    r"""Mean and variance of the SME of SGD on :math:`f = \sum_i \tfrac{h_i}{2}(x_i - c_i)^2` with
    independent noise of variance :math:`s_i^2` per coordinate (an Ornstein-Uhlenbeck process):
    with :math:`a_i = h_i` (``order=1``) or :math:`h_i (1 + \eta h_i/2)` (``order=2``),

    .. math::

        E X_i(t) = c_i + e^{-a_i t}(x_{0,i} - c_i), \qquad
        \operatorname{Var} X_i(t) = \eta s_i^2 \frac{1 - e^{-2 a_i t}}{2 a_i}
        \quad (\eta s_i^2 t \text{ where } a_i = 0).

    Returns ``(mean, var)`` arrays; :math:`E f(X_t) = \sum_i \tfrac{h_i}{2}((E X_i - c_i)^2 + \operatorname{Var} X_i)`.
    """
    h, x0, c, s2 = (np.asarray(a, dtype=float) for a in (curvatures, x0, center, noise_var))
    a = h * (1.0 + 0.5 * lr * h) if order == 2 else h
    mean = c + np.exp(-a * time) * (x0 - c)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(a > 0, lr * s2 * -np.expm1(-2.0 * a * time) / (2.0 * np.where(a > 0, a, 1.0)), lr * s2 * time)
    return mean, var


def sgd_quadratic_moments(curvatures, x0, center, noise_var, lr, steps):
    r"""Mean and variance of SGD's iterate after ``steps`` updates on the same quadratic:
    :math:`x_{k+1} - c = (1 - \eta h)(x_k - c) - \eta \xi_k`, so with :math:`q = 1 - \eta h`,
    :math:`E x_K - c = q^K (x_0 - c)` and :math:`\operatorname{Var} x_K = \eta^2 s^2 \sum_{j<K} q^{2j}`."""
    h, x0, c, s2 = (np.asarray(a, dtype=float) for a in (curvatures, x0, center, noise_var))
    q = 1.0 - lr * h
    mean = c + q ** steps * (x0 - c)
    q2 = q * q
    with np.errstate(divide="ignore", invalid="ignore"):
        geo = np.where(np.abs(1.0 - q2) > 1e-15, (1.0 - q2 ** steps) / np.where(q2 != 1.0, 1.0 - q2, 1.0), steps)
    return mean, lr * lr * s2 * geo


def scale_rule(optimizer, kappa, rule="sqrt"):
    r"""The optimizer for a batch :math:`\kappa` times larger.

    ``"sqrt"`` (Malladi et al. 2022, Definition 4.3, for RMSprop and Adam): lr
    :math:`\sqrt\kappa\,\eta`, :math:`1 - \beta_i \to \kappa (1 - \beta_i)` (RMSprop's
    :math:`1 - \alpha` likewise), :math:`\epsilon \to \epsilon/\sqrt\kappa`; it keeps
    :math:`\sigma_0 = \sigma\eta`, :math:`\epsilon_0`, :math:`c_1`, :math:`c_2` of the SDE fixed
    while the time per step grows by :math:`\kappa`.  ``"linear"`` (the SGD rule of Goyal et
    al. 2017): lr :math:`\kappa\eta`, every other setting unchanged.  Run :math:`1/\kappa` as many steps.
    """
    if not (isinstance(kappa, (int, float, np.floating)) and math.isfinite(kappa) and kappa > 0):
        raise ParameterError(f"kappa must be a finite number > 0, got {kappa!r}")
    v = optimizer.values
    if rule == "linear":
        return optimizer.replace(lr=v["lr"] * kappa)
    if rule != "sqrt":
        raise ParameterError(f"rule must be 'sqrt' or 'linear', got {rule!r}")
    names = {Adam: ("beta1", "beta2"), RMSprop: ("alpha",)}.get(type(optimizer))
    if names is None:
        raise ParameterError(f"optimizer: the square-root rule is for Adam and RMSprop, got {type(optimizer).__name__}")
    new = {"lr": v["lr"] * math.sqrt(kappa), "eps": v["eps"] / math.sqrt(kappa)}
    for n in names:
        one_minus = kappa * (1.0 - v[n])
        if not one_minus < 1.0:
            raise ParameterError(f"kappa = {kappa!r}: {n} = {v[n]!r} would become {1.0 - one_minus:.4g}; "
                                 f"the square-root rule needs kappa (1 - {n}) < 1")
        new[n] = 1.0 - one_minus
    return optimizer.replace(**new)
