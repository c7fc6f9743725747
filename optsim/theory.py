r"""Closed forms of optimizer theory: bias factors, EMA memory, RAdam's rectification, the
inverse-chi-square variance model, warm-up factors and the noisy quadratic model's moments.

Every formula that a study, a figure or a test compares optsim against is written here once.
The functions take NumPy arrays (or scalars, or xarray objects where only arithmetic is used)
and broadcast like ufuncs; ``radam_rho`` and ``radam_rect`` are also compiled with numba for
the RAdam kernel, from the same source as their NumPy forms, so the engine and the studies
compute the same expressions in the same order.

Importing this module compiles nothing: the jitted functions compile on their first call.

>>> from optsim import theory
>>> round(theory.radam_rho_inf(0.999), 9)
1999.0
>>> round(float(theory.ema_half_life(0.999)), 2)
692.8

References used throughout:

- Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015 (arXiv:1412.6980).
- Liu, Jiang, He, Chen, Liu, Gao & Han, *On the Variance of the Adaptive Learning Rate and
  Beyond*, ICLR 2020 (arXiv:1908.03265).
- Ma & Yarats, *On the Adequacy of Untuned Warmup for Adaptive Optimization*, AAAI 2021
  (arXiv:1910.04209).
- Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue & Grosse, *Which Algorithmic Choices
  Matter at Which Batch Sizes? Insights From a Noisy Quadratic Model*, NeurIPS 2019
  (arXiv:1907.04164).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "bias_correction",
    "adam_step_factor",
    "adam_step_size",
    "uncorrected_step_ratio",
    "adam_momentum_bound",
    "ema_memory",
    "ema_half_life",
    "ema_half_life_approx",
    "ema_weights",
    "ema_spike_excess",
    "momentum_effective_lr",
    "momentum_coast",
    "radam_rho_inf",
    "radam_rho_t",
    "radam_r_t",
    "radam_rho",
    "radam_rect",
    "inv_chi2_psi_var",
    "untuned_linear_warmup",
    "untuned_exponential_warmup",
    "nqm_sgd_second_moment",
    "nqm_momentum_second_moments",
]


# -- bias correction and Adam's step size ------------------------------------------------------


def bias_correction(beta, t):
    r"""The bias factor :math:`1 - \beta^t` of an exponential moving average started at 0.

    An EMA :math:`m_t = \beta m_{t-1} + (1-\beta) g_t`, :math:`m_0 = 0`, of a stationary
    signal has :math:`E[m_t] = (1 - \beta^t) E[g]`; Adam divides :math:`m_t` by
    :math:`1-\beta_1^t` and :math:`v_t` by :math:`1-\beta_2^t` to remove the bias.

    Reference: Kingma & Ba 2015, §3.
    """
    return 1.0 - beta ** t


def adam_step_factor(beta1, beta2, t):
    r"""Adam's step-size factor :math:`\sqrt{1-\beta_2^t}\,/\,(1-\beta_1^t)`.

    Both bias corrections folded into the learning rate (Kingma & Ba 2015, Algorithm 1's
    "efficient form" :math:`\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`); lecture 000
    calls it the "adaptive LR" factor.  It tends to 1 as :math:`t \to \infty`.
    """
    return np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)


def adam_step_size(lr, beta1, beta2, t):
    r"""Kingma & Ba's step size :math:`\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`.

    With :math:`\epsilon = 0` Adam's update is :math:`\alpha_t m_t/\sqrt{v_t}`; at :math:`t = 1`
    :math:`\alpha_1 = \alpha\sqrt{1-\beta_2}/(1-\beta_1)` (:math:`0.316\,\alpha` for the default
    betas).  Reference: Kingma & Ba 2015, Algorithm 1 (the last lines of §2).
    """
    return lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)


def uncorrected_step_ratio(beta1, beta2, t=1):
    r""":math:`|\Delta_t| / \alpha` of Adam *without* bias correction under a constant gradient:
    :math:`(1-\beta_1^t)/\sqrt{1-\beta_2^t}` (with it the ratio is exactly 1; :math:`\epsilon = 0`).

    At :math:`t = 1` it is :math:`(1-\beta_1)/\sqrt{1-\beta_2}`, the first step of any gradient
    sequence: 10 for :math:`\beta_1 = 0, \beta_2 = 0.99`, 100 for :math:`\beta_2 = 0.9999`.  It
    is also the constant of lecture 000's split of Adam's step.  Reference: Kingma & Ba 2015,
    §2.1 (the step bound :math:`\alpha(1-\beta_1)/\sqrt{1-\beta_2}`) and §3.
    """
    return (1 - beta1 ** t) / np.sqrt(1 - beta2 ** t)


def adam_momentum_bound(beta1, beta2):
    r"""The bound :math:`1/\sqrt{1-\beta_1^2/\beta_2}` on Adam's normalised momentum
    :math:`|m_t/(1-\beta_1)| \,/\, \sqrt{v_t/(1-\beta_2)}` for any gradients (:math:`\beta_1^2 < \beta_2`).

    By Cauchy-Schwarz, :math:`|\sum_i \beta_1^{t-i} g_i| \le (\sum_i (\beta_1^2/\beta_2)^{t-i})^{1/2}
    (\sum_i \beta_2^{t-i} g_i^2)^{1/2}`; the bound is reached by gradients growing as
    :math:`g_i \propto (\beta_1/\beta_2)^{-i}`.  So :math:`|\Delta_t| \le \alpha_t`
    :func:`uncorrected_step_ratio`:math:`(\beta_1, \beta_2)` times it (Kingma & Ba 2015, §2.1 and
    the condition :math:`\beta_1^2/\sqrt{\beta_2} < 1` of §4).
    """
    return 1 / np.sqrt(1 - beta1 ** 2 / beta2)


# -- EMA memory --------------------------------------------------------------------------------


def ema_memory(beta):
    r"""The memory :math:`1/(1-\beta)` of an EMA with decay :math:`\beta` (the sum of its
    weights' lags plus one, and the time constant of :math:`\beta^t \approx e^{-t(1-\beta)}`);
    also momentum's amplification of a constant gradient.  1000 steps for :math:`\beta = 0.999`.
    """
    return 1.0 / (1.0 - beta)


def ema_half_life(beta):
    r"""The half-life :math:`\ln 2 / (-\ln\beta)` in steps of an EMA's memory of one input.

    The weight of :math:`g_{t_0}` in :math:`v_t` is :math:`(1-\beta)\beta^{t-t_0}`, which halves
    every :math:`\ln 2/(-\ln\beta)` steps: 692.8 for :math:`\beta_2 = 0.999`, 6.58 for a momentum
    of 0.9.  Reference: Kingma & Ba 2015, §3 (the EMA of :math:`g^2`); Reddi, Kale & Kumar,
    *On the Convergence of Adam and Beyond*, ICLR 2018, §3.
    """
    return np.log(2) / -np.log(beta)


def ema_half_life_approx(beta):
    r"""The first-order half-life :math:`\ln 2/(1-\beta)`, since :math:`-\ln\beta \approx 1-\beta`
    (693.1 for :math:`\beta = 0.999`); see :func:`ema_half_life`."""
    return np.log(2) / (1 - beta)


def ema_weights(beta, t):
    r"""The weights :math:`(1-\beta)\beta^{t-i}` of :math:`g_1, \dots, g_t` in the EMA
    :math:`m_t = \beta m_{t-1} + (1-\beta) g_t`, :math:`m_0 = 0` (an array of length ``t``).

    They sum to :func:`bias_correction` :math:`1-\beta^t`.  Reference: Kingma & Ba 2015, §3,
    :math:`v_t = (1-\beta_2)\sum_{i=1}^t \beta_2^{t-i} g_i^2`.
    """
    i = np.arange(1, int(t) + 1)
    return (1 - beta) * beta ** (t - i)


def ema_spike_excess(beta2, steps, t0, spike):
    r"""How much one gradient spike raises Adam's :math:`v_t` above its spike-free value.

    Gradients of 1 except :math:`g_{t_0} = G` (``spike``) give, for :math:`t \ge t_0`,
    :math:`v_t - (1-\beta_2^t) = (1-\beta_2)(G^2-1)\beta_2^{t-t_0}` and 0 before :math:`t_0`
    (``steps`` an array of step numbers).  Reference: Kingma & Ba 2015, §3 (closed form of
    :math:`v_t`); Reddi, Kale & Kumar 2018, §3 (the rare large gradient forgotten by Adam).
    """
    s = np.asarray(steps, float) - t0
    return np.where(s >= 0, (1 - beta2) * (spike ** 2 - 1) * beta2 ** np.maximum(s, 0), 0.0)


# -- momentum ----------------------------------------------------------------------------------


def momentum_effective_lr(lr, momentum):
    r"""Heavy-ball momentum's effective learning rate :math:`\alpha/(1-\mu)`: the step it takes
    in the steady state of a constant gradient.  Zhang et al. 2019 (NQM) find the optimal
    :math:`\alpha/(1-\mu)` equal to plain SGD's optimal :math:`\alpha` at small batch sizes.
    """
    return lr / (1.0 - momentum)


def momentum_coast(speed, momentum, k):
    r"""How far momentum carries the parameters in ``k`` steps after the gradients stop:
    :math:`|V|\,\gamma(1-\gamma^k)/(1-\gamma)` for a velocity of size :math:`|V|` = ``speed``
    and :math:`\gamma` = ``momentum`` (the geometric sum :math:`\sum_{j=1}^k \gamma^j |V|`).
    Reference: lecture 001 (Momentum: "where the gradient is 0 momentum still moves").
    """
    return speed * momentum * (1 - momentum ** k) / (1 - momentum)


# -- RAdam -------------------------------------------------------------------------------------
#
# The kernel and the NumPy forms share one source: the NumPy forms call the compiled functions'
# ``py_func``.  ``t * 1.0`` is ``float(t)`` for the kernel's integer step and leaves a float array
# as it is, and ``np.sqrt`` is the correctly rounded square root in both.


@njit(cache=True, inline="always")
def radam_rho(t, beta2):
    r"""``(rho_inf, rho_t)`` for one step ``t``: the maximum and the current length of the SMA
    approximating the EMA of :math:`g^2` (compiled, inlined into the RAdam kernel; pure
    arithmetic, no checks).  The formula and the NumPy form are :func:`radam_rho_t`."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    b2t = beta2 ** (t * 1.0)
    return rho_inf, rho_inf - 2.0 * t * b2t / (1.0 - b2t)


@njit(cache=True, inline="always")
def radam_rect(rho_t, rho_inf):
    r"""The rectification :math:`r_t` for one step (compiled, inlined into the RAdam kernel; no
    threshold, no checks).  The formula and the NumPy form are :func:`radam_r_t`."""
    return np.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))


def radam_rho_inf(beta2):
    r""":math:`\rho_\infty = 2/(1-\beta_2) - 1`, the length of the simple moving average that
    approximates an infinitely long EMA with decay :math:`\beta_2` (1999 for 0.999).
    Reference: Liu et al. 2020, §4.1 (eq. 6)."""
    return 2.0 / (1.0 - beta2) - 1.0


def radam_rho_t(t, beta2=0.999):
    r"""``(rho_inf, rho_t)``: RAdam's maximum and current length of the approximating SMA.

    .. math::

        \rho_\infty = \frac{2}{1-\beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}

    :math:`\rho_1 = 1` for any :math:`\beta_2`, and :math:`\rho_t \to \rho_\infty`.  For
    :math:`\beta_2 = 0.999`, :math:`\rho_t` first exceeds 4 at t = 5 and 5 at t = 6.  ``t`` is
    converted to a float array; the kernels' scalar form is :func:`radam_rho` (the same
    expression; NumPy's vectorised power and the kernel's scalar ``pow`` may differ in the last
    bits of :math:`\beta_2^t`).  Reference: Liu et al. 2020, §4.1 and Algorithm 2; ``torch.optim.RAdam``.
    """
    return radam_rho.py_func(np.asarray(t, dtype=float), beta2)


def radam_r_t(rho_t, rho_inf, threshold=4.0):
    r"""RAdam's rectification term, NaN where :math:`\rho_t \le` ``threshold``.

    .. math::

        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

    :math:`r_t = \sqrt{\mathrm{Var}[\psi]_\infty / \mathrm{Var}[\psi]_t}` to first order in the
    scaled-inverse-chi-square model (:func:`inv_chi2_psi_var`); it rises from 0 at
    :math:`\rho_t = 4` to 1 at :math:`\rho_t = \rho_\infty`.  Below the threshold (4 in the
    paper's Algorithm 2, 5 in torch and optax) RAdam takes a momentum-SGD step instead, where
    this function gives NaN.  The kernels' scalar form is :func:`radam_rect`.
    Reference: Liu et al. 2020, eq. (7) and Algorithm 2.
    """
    rho_t = np.asarray(rho_t, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = radam_rect.py_func(rho_t, rho_inf)
    return np.where(rho_t > threshold, r, np.nan)


def inv_chi2_psi_var(nu, sigma=1.0):
    r""":math:`\mathrm{Var}[\psi]` for :math:`\psi^2 \sim \text{Scaled-Inv-}\chi^2(\nu, 1/\sigma^2)`
    (NaN for :math:`\nu \le 2`, where it is infinite).

    With :math:`\tau^2 = 1/\sigma^2`, :math:`\psi = \sqrt{\nu\tau^2/X}`, :math:`X \sim \chi^2_\nu`:

    .. math::

        \mathrm{Var}[\psi] = \tau^2\left(\frac{\nu}{\nu-2}
            - \frac{\nu}{2}\left(\frac{\Gamma((\nu-1)/2)}{\Gamma(\nu/2)}\right)^2\right)
        \approx \frac{\tau^2}{2\nu} \quad (\nu \to \infty)

    Liu et al. model RAdam's adaptive learning rate
    :math:`\psi_t = \sqrt{(1-\beta_2^t)/((1-\beta_2)\sum_i\beta_2^{t-i}g_i^2)}` for
    :math:`g_i \sim N(0, \sigma^2)` this way with :math:`\nu = \rho_t` (:func:`radam_rho_t`).
    Reference: Liu et al. 2020, §3-4 (eqs. 3-5).
    """
    from scipy.special import gammaln

    nu = np.asarray(nu, dtype=float)
    tau2 = 1.0 / sigma ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.exp(gammaln((nu - 1) / 2) - gammaln(nu / 2))
        v = tau2 * (nu / (nu - 2) - nu / 2 * ratio ** 2)
    return np.where(nu > 2, v, np.nan)


# -- untuned warm-up ---------------------------------------------------------------------------


def untuned_linear_warmup(t, beta2):
    r"""Ma & Yarats' untuned linear warm-up factor :math:`\omega_t = \min(1, (1-\beta_2)t/2)`:
    a warm-up of :math:`2/(1-\beta_2)` steps (2000 for 0.999); ``UntunedLinearWarmup``'s
    multiplier at step :math:`t = k + 1`.  Reference: Ma & Yarats 2021, §4."""
    return np.minimum(1.0, (1 - beta2) * t / 2)


def untuned_exponential_warmup(t, beta2):
    r"""Ma & Yarats' untuned exponential warm-up factor :math:`\omega_t = 1 - e^{-(1-\beta_2)t}`
    (time constant :math:`1/(1-\beta_2)`); ``UntunedExponentialWarmup``'s multiplier at step
    :math:`t = k + 1`.  Reference: Ma & Yarats 2021, §4."""
    return 1 - np.exp(-(1 - beta2) * t)


# -- the noisy quadratic model -----------------------------------------------------------------


def nqm_sgd_second_moment(h, lr, steps, batch_size=None):
    r"""Yield :math:`s_t = E[x_{t,i}^2]` per coordinate, :math:`t = 0..` ``steps``, of SGD on the
    noisy quadratic model from :math:`s_0 = 1`.

    Per coordinate with :math:`a = \alpha h_i` and gradient noise of variance :math:`h_i/B`
    (:math:`c = \alpha^2 h_i/B`; :math:`c = 0` for ``batch_size`` None):

    .. math::

        s_{t+1} = (1-a)^2 s_t + c, \qquad
        s_t = s_* + \beta^t (s_0 - s_*), \quad \beta = (1-a)^2, \quad s_* = \frac{c}{1-\beta}

    (:math:`s_t = s_0 + tc` where :math:`\beta = 1`).  The expected loss is
    :math:`\tfrac12\sum_i h_i s_{t,i}` (``NoisyQuadraticModel.expected_loss``).  A generator,
    one array of ``len(h)`` per step, so long runs need no ``steps x dim`` array.
    Reference: Zhang et al. 2019, §3 and the authors' notebook ``gd-zhang/noisy-quadratic-model``.
    """
    h = np.asarray(h, dtype=float)
    lr = float(lr)
    c = np.zeros_like(h) if batch_size is None else lr * lr * h / float(batch_size)
    a = lr * h
    beta = (1.0 - a) ** 2
    lin = beta == 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        s_star = np.where(lin, 0.0, c / np.where(lin, 1.0, 1.0 - beta))
    for k in range(int(steps) + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            s = s_star + beta**k * (1.0 - s_star)
        yield np.where(lin, 1.0 + k * c, s)


def nqm_momentum_second_moments(h, lr, momentum, steps, batch_size=None):
    r"""Yield ``(E x^2, E v^2, E xv)`` per coordinate, :math:`t = 0..` ``steps``, of heavy-ball
    momentum on the noisy quadratic model, from :math:`E x_0^2 = 1` and zero velocity.

    :math:`v_{t+1} = m v_t - \alpha h x_t - \alpha\sigma\xi_t`, :math:`x_{t+1} = x_t + v_{t+1}`
    with :math:`a = \alpha h_i`, :math:`c = \alpha^2 h_i/B`:

    .. math::

        \begin{pmatrix} E x^2 \\ E v^2 \\ E xv \end{pmatrix}_{t+1} =
        \begin{pmatrix} (1-a)^2 & m^2 & 2(1-a)m \\ a^2 & m^2 & -2am \\
        -(1-a)a & m^2 & (1-2a)m \end{pmatrix}
        \begin{pmatrix} E x^2 \\ E v^2 \\ E xv \end{pmatrix}_t + c \begin{pmatrix} 1 \\ 1 \\ 1 \end{pmatrix}

    The same noise enters :math:`v_{t+1}` and :math:`x_{t+1}`, so :math:`c` is added to all three
    moments.  Iterated exactly (not diagonalised, so it stays exact at critical damping, where
    the eigenvector matrix is singular).  Reference: Zhang et al. 2019, eq. (21).
    """
    h = np.asarray(h, dtype=float)
    lr, m = float(lr), float(momentum)
    c = np.zeros_like(h) if batch_size is None else lr * lr * h / float(batch_size)
    a = lr * h
    x2 = np.ones_like(h)
    v2 = np.zeros_like(h)
    xv = np.zeros_like(h)
    yield x2, v2, xv
    b = 1.0 - a
    for _ in range(int(steps)):
        nx2 = b * b * x2 + m * m * v2 + 2.0 * b * m * xv + c
        nv2 = a * a * x2 + m * m * v2 - 2.0 * a * m * xv + c
        nxv = -b * a * x2 + m * m * v2 + (1.0 - 2.0 * a) * m * xv + c
        x2, v2, xv = nx2, nv2, nxv
        yield x2, v2, xv


# -- exact expected dynamics of linear rules on quadratics (defined in optsim._linear) ---------

from ._linear import (  # noqa: E402 - re-exported here, after the closed forms
    ExpectedDynamics,
    NoRecursion,
    expected_dynamics,
    expected_loss,
    frozen_preconditioner,
    has_exact_recursion,
    stationary_risk,
    steps_to_target,
)

__all__ += [
    "ExpectedDynamics",
    "NoRecursion",
    "expected_dynamics",
    "expected_loss",
    "stationary_risk",
    "steps_to_target",
    "frozen_preconditioner",
    "has_exact_recursion",
]
