"""Sophia (Liu et al. 2023): a clipped step preconditioned by an EMA of a diagonal Hessian
estimate refreshed every k steps, from the problem's exact Hessian diagonal or Hutchinson's
estimator with a finite-difference Hessian-vector product."""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, layout, param_layout
from .._rng import _splitmix64
from .._roles import Optimizer
from ._common import no_init

__all__ = ["Sophia", "SOPHIA_HESSIANS", "SOPHIA_DENOMINATORS", "SOPHIA_ORDERS", "SOPHIA_PROBES", "sophia_probe",
           "sophia_step", "sophia_point"]

SOPHIA_HESSIANS = ("auto", "exact", "hutchinson")
SOPHIA_DENOMINATORS = ("add", "max")
SOPHIA_ORDERS = ("after_step", "before_step")
SOPHIA_PROBES = ("gaussian", "rademacher")

SOPHIA_PARAMS = (
    Param("lr", 1e-4, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.965, "decay of the gradient's EMA m", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.99, "decay of the Hessian estimate's EMA h (one decay per refresh)", low=0.0, high=1.0,
          high_open=True),
    Param("rho", 0.04, "gamma, the scale of h in the denominator (the official code's rho times its bs)",
          low=0.0, low_open=True),
    Param("weight_decay", 0.1, "decoupled decay x <- x (1 - lr wd), before the step", low=0.0),
    Param("eps", 1e-15, "added to (denominator='add') or floor of ('max') rho h", low=0.0),
    Param("clip", 1.0, "the bound of the clipped ratio (pytorch-optimizer's SophiaH: p)", low=0.0, low_open=True),
    Param("update_period", 10, "k: the Hessian estimate is refreshed every k steps", kind="int", low=1),
    Param("hessian", "auto", "the problem's exact Hessian diagonal ('exact'), Hutchinson's estimate u * (H u) "
          "('hutchinson'), or the first where the problem has it, else the second ('auto')", kind="choice",
          choices=SOPHIA_HESSIANS),
    Param("hessian_update", "after_step", "refresh h after steps k, 2k, ... (the official code: the first k "
          "steps see h = 0) or before steps 1, k+1, ... (the paper's pseudocode, pytorch-optimizer)",
          kind="choice", choices=SOPHIA_ORDERS),
    Param("denominator", "add", "sign(m) min(|m| / (rho h + eps), clip) (the official code) or "
          "clip(m / max(rho h, eps), clip) (the paper, pytorch-optimizer)", kind="choice",
          choices=SOPHIA_DENOMINATORS),
    Param("clamp_hessian", False, "max(h, 0) in the denominator (the official code's first SophiaH)",
          kind="bool"),
    Param("bias_correction", False, "step lr / (1 - beta1^t) (the official code's first SophiaH)", kind="bool"),
    Param("probe", "gaussian", "distribution of Hutchinson's probe u", kind="choice", choices=SOPHIA_PROBES),
    Param("hvp_delta", 1e-4, "finite-difference step: H u ~ (g(x + delta u) - g(x)) / delta", low=0.0,
          low_open=True),
    Param("probe_seed", 0, "seed of the probes (a function of the seed, the step and the coordinate)",
          kind="int", low=0),
)
SOPHIA_SLOTS = ("exp_avg", "hessian", "hessian_exact", "probe", "probe_grad")

H = param_layout(SOPHIA_PARAMS, "SophiaParams")
M = layout(SOPHIA_SLOTS, "SophiaSlots")
POINT = layout(("probe", "x"), "SophiaPoints")
_TWO_M53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _u01(seed, t, i, k):
    z = _splitmix64(np.uint64(seed))
    z = _splitmix64(z ^ np.uint64(t))
    z = _splitmix64(z ^ np.uint64(i))
    z = _splitmix64(z ^ np.uint64(k))
    return (float(z >> np.uint64(11)) + 0.5) * _TWO_M53


@njit(cache=True)
def sophia_probe(seed, t, i, gaussian):
    """Hutchinson's probe of coordinate ``i`` at step ``t``: a standard normal (Box-Muller
    from two uniforms) or a random sign, from the splitmix64 hash of (seed, t, i)."""
    if gaussian:
        return math.sqrt(-2.0 * math.log(_u01(seed, t, i, 0))) * math.cos(2.0 * math.pi * _u01(seed, t, i, 1))
    return 1.0 if _u01(seed, t, i, 0) < 0.5 else -1.0


@njit(cache=True, inline="always")
def _refresh(t, hp):
    """True when step ``t`` (1-based) takes a new Hessian estimate, at the point before it."""
    if (t - 1) % int(hp[H.update_period]) != 0:
        return False
    return t > 1 or hp[H.hessian_update] == 1.0


@njit(cache=True)
def sophia_point(x, g_prev, S, sc, t, k, hp, y):
    probing = hp[H.hessian] != 1.0 and _refresh(t, hp)
    if k == POINT.probe:
        # NaN until the engine writes the exact diagonal (problems with a hessian_diagonal kernel)
        S[M.hessian_exact, 0] = np.nan
    if k == POINT.probe and probing:
        delta = hp[H.hvp_delta]
        seed = int(hp[H.probe_seed])
        gaussian = hp[H.probe] == 0.0
        for i in range(x.shape[0]):
            u = sophia_probe(seed, t, i, gaussian)
            S[M.probe, i] = u
            y[i] = x[i] + delta * u
        return
    if k == POINT.x and probing:
        for i in range(x.shape[0]):
            S[M.probe_grad, i] = g_prev[i]
    for i in range(x.shape[0]):
        y[i] = x[i]


@njit(cache=True)
def sophia_step(x, g, S, sc, t, lr, hp):
    b1 = hp[H.beta1]
    b2 = hp[H.beta2]
    rho = hp[H.rho]
    eps = hp[H.eps]
    clip = hp[H.clip]
    add = hp[H.denominator] == 0.0
    shrink = 1.0 - lr * hp[H.weight_decay]
    step = lr / (1.0 - b1 ** float(t)) if hp[H.bias_correction] != 0.0 else lr
    clamp = hp[H.clamp_hessian] != 0.0
    refresh = _refresh(t, hp)
    mode = hp[H.hessian]
    exact = mode == 1.0 or (mode == 0.0 and S[M.hessian_exact, 0] == S[M.hessian_exact, 0])
    delta = hp[H.hvp_delta]
    for i in range(x.shape[0]):
        if refresh:
            if exact:
                hh = S[M.hessian_exact, i]
            else:
                hh = S[M.probe, i] * ((S[M.probe_grad, i] - g[i]) / delta)
            S[M.hessian, i] = b2 * S[M.hessian, i] + (1.0 - b2) * hh
        x[i] = x[i] * shrink
        m = b1 * S[M.exp_avg, i] + (1.0 - b1) * g[i]
        S[M.exp_avg, i] = m
        h = max(S[M.hessian, i], 0.0) if clamp else S[M.hessian, i]
        if add:
            ratio = min(abs(m) / (rho * h + eps), clip)
            u = ratio if m > 0.0 else (-ratio if m < 0.0 else 0.0)
        else:
            u = max(-clip, min(clip, m / max(rho * h, eps)))
        x[i] = x[i] - step * u


@njit(cache=True)
def sophia_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class Sophia(Optimizer):
    r"""Sophia: a clipped, diagonally preconditioned step with a Hessian estimate refreshed
    every k steps (Liu et al. 2023), in the official code's form by default.

    With :math:`\eta_t` the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``, ``beta2``
    (or ``betas``), :math:`\gamma` = ``rho``, :math:`\epsilon` = ``eps``, :math:`c` =
    ``clip``, :math:`\lambda` = ``weight_decay``, :math:`k` = ``update_period``:

    .. math::

        h_t &= \beta_2 h_{t-1} + (1-\beta_2)\, \hat h(x_{t-1}) \quad\text{at the refresh
        steps, else } h_t = h_{t-1}, \qquad h_0 = 0 \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        x_t &= x_{t-1}(1-\eta_t\lambda) - \eta_t\, \mathrm{sign}(m_t)
        \min\!\big(|m_t| / (\gamma h_t + \epsilon),\ c\big)

    Options (each a reference's form):

    - ``hessian_update``: ``'after_step'`` (the official code: the estimate is taken after
      steps :math:`k, 2k, \ldots`, at the point the next step starts from, so the refresh
      steps are :math:`t = k+1, 2k+1, \ldots` and the first :math:`k` steps see
      :math:`h = 0`, i.e. sign descent) or ``'before_step'`` (the paper's Algorithm 3, ``t
      mod k = 1``, and pytorch-optimizer's SophiaH: :math:`t = 1, k+1, \ldots`).  The two
      differ only in the estimate at the starting point.  (The loop in the official
      README counts the step before testing it and refreshes after steps :math:`k-1, 2k-1,
      \ldots`; its training script, followed here, after :math:`k, 2k, \ldots`.)
    - ``denominator``: ``'add'`` (above; the official code, where a negative :math:`h` makes
      the ratio negative and the step go uphill) or ``'max'``:
      :math:`\mathrm{clip}(m_t/\max(\gamma h_t, \epsilon), c)` with
      :math:`\mathrm{clip}(z, c) = \max(-c, \min(c, z))` (the paper's Algorithm 3 with
      :math:`c = 1`, :math:`\epsilon` = 1e-12; pytorch-optimizer's SophiaH with
      :math:`\gamma = 1` and :math:`c` = its ``p``).  The official code's ``rho`` and
      ``bs`` enter only as their product :math:`\gamma` = ``rho * bs`` (its training
      script calls ``step()`` with the default ``bs=5120``).  Its first release had
      :math:`\min(|m|/(h + \epsilon), \gamma)` for SophiaG (here ``rho=1``, ``clip`` =
      that :math:`\gamma`) and, for SophiaH, :math:`\gamma \max(h, 0) + 10^{-12}` in the
      denominator (``clamp_hessian``) and the step :math:`\eta_t/(1-\beta_1^t)`
      (``bias_correction``).
    - ``hessian``: ``'exact'``, the problem's exact Hessian diagonal (a problem with a
      ``hessian_diagonal`` kernel: Quadratic, Rosenbrock, MatrixRegression; the engine writes
      it into the row ``hessian_exact`` before every step; a problem without one is refused
      before any work), ``'auto'`` (the default: ``'exact'`` where the problem has the
      kernel, else ``'hutchinson'``), or ``'hutchinson'``:
      :math:`\hat h = u \odot (g(x + \delta u) - g(x))/\delta`, :math:`u` a standard normal
      (``probe='gaussian'``, the paper's and pytorch-optimizer's default) or Rademacher
      vector, :math:`\delta` = ``hvp_delta``.  The two observed gradients are taken on one
      noise sample, so additive gradient noise cancels and :math:`\hat h` is Hutchinson's
      estimate :math:`u \odot \nabla^2 f\, u` of the noiseless objective up to the
      finite-difference error :math:`O(\delta)` (none on a quadratic); its expectation over
      :math:`u` is the Hessian diagonal.  The probes are a fixed function of
      (``probe_seed``, step, coordinate), the same for every replicate.  The official code's
      Gauss-Newton-Bartlett estimator (SophiaG) needs sampled labels and is not here.

    Every step takes two gradient evaluations (``evaluations = 2``: the probe point, then
    :math:`x`); with ``'exact'``, and off the refresh steps, both are at :math:`x` on the
    same noise sample, so they agree and only the cost doubles.  (``'auto'`` probes on the
    refresh steps either way and uses the exact diagonal where the engine has written it.)

    State (``slot_names``): ``exp_avg`` (m), ``hessian`` (h), ``hessian_exact`` (the
    problem's diagonal at the current point), ``probe`` (u) and ``probe_grad``
    (:math:`g(x + \delta u)`).  ``eff_lr`` is the scheduled ``lr``.

    References: H. Liu, Z. Li, D. Hall, P. Liang, T. Ma, *Sophia: A Scalable Stochastic
    Second-order Optimizer for Language Model Pre-training*, ICLR 2024 (arXiv:2305.14342,
    2023); M. F. Hutchinson, *A stochastic estimator of the trace of the influence matrix
    for Laplacian smoothing splines*, Communications in Statistics 1990.
    """

    name = "sophia"
    params = SOPHIA_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": sophia_step, "eff_lr": sophia_eff_lr, "point": sophia_point}
    slots = len(SOPHIA_SLOTS)
    slot_names = SOPHIA_SLOTS
    hessian_slot = "hessian_exact"
    evaluations = len(POINT)
    same_noise = True
    momentum_param = "beta1"

    def check_problem(self, problem):
        if self.hessian == "exact" and "hessian_diagonal" not in type(problem).kernels:
            raise ParameterError(f"Sophia: hessian='exact' needs a problem with a hessian_diagonal kernel; "
                                 f"{type(problem).__name__} has none (use hessian='hutchinson')")
