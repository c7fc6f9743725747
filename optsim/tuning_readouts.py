r"""Readouts of tuning results: expected best-of-k, performance profiles, defaults versus tuned.

Expected best-of-k (Dodge et al. 2019).  ``N`` trials were run; a budget of ``k`` trials is
a random subset of them, the selected trial is the one with the best validation score in
the subset, and its reported value is what the budget buys.  Sort the trials by validation
score, best first (ties: the earlier trial first), and let :math:`r_{(j)}` be the reported
value of the ``j``-th (0-based).  The probability that the ``j``-th is selected is

.. math::

    w_j = \binom{N - 1 - j}{k - 1} \Big/ \binom{N}{k} \quad \text{(without replacement, } k \le N),
    \qquad
    w_j = \Big(\frac{N - j}{N}\Big)^k - \Big(\frac{N - j - 1}{N}\Big)^k \quad \text{(with replacement)},

so :math:`E[R_k] = \sum_j w_j r_{(j)}` and :math:`\operatorname{Var}[R_k] = \sum_j w_j r_{(j)}^2 -
E[R_k]^2` (the variance over the draw of the ``k`` trials).  With the report equal to the
validation score this is the expected maximum (or minimum) of ``k`` draws of Dodge et al.,
whose with-replacement form is the empirical-CDF expression
:math:`\sum_i v_{(i)} (\hat F(v_{(i)})^k - \hat F(v_{(i-1)})^k)`.

Performance profiles (Dolan & More 2002).  For a cost :math:`t_{p,s} > 0` of solver
:math:`s` on problem :math:`p` (lower is better; NaN or inf: failed), the ratio
:math:`r_{p,s} = t_{p,s} / \min_{s'} t_{p,s'}` (infinite where failed) and

.. math::

    \rho_s(\tau) = \frac{1}{n_p} \bigl|\{p : r_{p,s} \le \tau\}\bigr|,

the fraction of problems on which :math:`s` is within a factor :math:`\tau` of the best;
:math:`\rho_s(1)` is the fraction it wins (ties count for each), :math:`\rho_s(\infty)` the
fraction it solves.

Defaults versus tuned (Schmidt et al. 2021): per problem, the best of every optimizer run
once at its defaults (chosen on validation, reported on held-out data) against each single
optimizer tuned with a budget.

References
----------
- J. Dodge, S. Gururangan, D. Card, R. Schwartz and N. A. Smith, "Show Your Work: Improved
  Reporting of Experimental Results", EMNLP 2019.
- E. D. Dolan and J. J. More, "Benchmarking optimization software with performance
  profiles", Mathematical Programming 91(2), 2002.
- R. M. Schmidt, F. Schneider and P. Hennig, "Descending through a Crowded Valley -
  Benchmarking Deep Learning Optimizers", ICML 2021.
"""

from __future__ import annotations

import numpy as np

from ._components import ParameterError

__all__ = [
    "best_of_k_weights",
    "expected_best_of_k",
    "best_of_k_interval",
    "performance_profile",
    "profile_ratios",
    "defaults_vs_tuned",
]


def _budget(k, n, replace, owner):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"{owner}: k={k!r} must be an integer >= 1")
    if not replace and k > n:
        raise ParameterError(f"{owner}: k={k!r} must lie in [1, N={n}] without replacement (or set replace=True)")
    return int(k)


def best_of_k_weights(n, k, replace=False):
    """``w[j]``: the probability that the ``j``-th best of ``n`` trials (0-based) is the best
    of a random ``k`` of them (drawn without or with replacement)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"best_of_k_weights: n={n!r} must be an integer >= 1")
    k = _budget(k, n, replace, "best_of_k_weights")
    j = np.arange(n, dtype=np.float64)
    if replace:
        return ((n - j) / n) ** k - ((n - j - 1) / n) ** k
    # C(n-1-j, k-1) / C(n, k) as a product of ratios (no overflow for any n)
    from math import lgamma

    def lcomb(a, b):
        return lgamma(a + 1) - lgamma(b + 1) - lgamma(a - b + 1)

    total = lcomb(n, k)
    w = np.array([np.exp(lcomb(n - 1 - jj, k - 1) - total) if n - 1 - jj >= k - 1 else 0.0 for jj in range(n)])
    return w / w.sum()


def _order(val, minimize):
    """Indices sorting the last axis best first, ties by position (NaN last)."""
    v = np.where(np.isnan(val), np.inf if minimize else -np.inf, val)
    return np.argsort(v if minimize else -v, axis=-1, kind="stable")


def _expect(val, rep, ks, minimize, replace):
    n = val.shape[-1]
    order = _order(val, minimize)
    r = np.take_along_axis(rep, order, axis=-1)
    means, vars_ = [], []
    for k in ks:
        w = best_of_k_weights(n, k, replace)
        nz = w > 0
        rr = r[..., nz]
        ww = w[nz]
        with np.errstate(invalid="ignore"):
            m = rr @ ww
            var = np.maximum((rr * rr) @ ww - m * m, 0.0)
        var = np.where(np.isfinite(m), var, np.nan)
        means.append(m)
        vars_.append(var)
    return np.stack(means, -1), np.stack(vars_, -1)


def expected_best_of_k(validation, report=None, ks=(1, 2, 4, 8), dim="trial", minimize=True, replace=False):
    """The expected reported value of the best-on-validation of ``k`` random trials, and its variance.

    ``validation`` and ``report``: DataArrays with dimension ``dim`` (the ``N`` trials);
    ``report`` defaults to ``validation`` (Dodge et al.'s expected maximum, or minimum with
    ``minimize``).  Returns a Dataset with ``mean``, ``var`` and ``std`` over a new dimension
    ``k``, per everything else.  The variance is over the random choice of the ``k`` trials
    from the ``N`` observed (not over re-running them: see :func:`best_of_k_interval`).
    """
    import xarray as xr

    if report is None:
        report = validation
    for name, da in (("validation", validation), ("report", report)):
        if dim not in da.dims:
            raise ParameterError(f"expected_best_of_k: {name} has no dimension {dim!r} (it has {', '.join(da.dims)})")
    validation, report = xr.broadcast(validation, report)
    report = report.transpose(*validation.dims)
    v = validation.transpose(..., dim)
    r = report.transpose(..., dim)
    ks = [int(k) for k in np.atleast_1d(ks)]
    for k in ks:
        _budget(k, v.sizes[dim], replace, "expected_best_of_k")
    m, var = _expect(np.asarray(v.values, float), np.asarray(r.values, float), ks, minimize, replace)
    dims = tuple(d for d in v.dims if d != dim) + ("k",)
    coords = {c: v.coords[c] for c in v.coords if dim not in v.coords[c].dims}
    coords["k"] = ks
    out = xr.Dataset({"mean": (dims, m), "var": (dims, var), "std": (dims, np.sqrt(var))}, coords=coords)
    out.attrs["replace"] = int(bool(replace))
    return out


def best_of_k_interval(values, ks, trial_dim="trial", replicate_dim="replicate", n_boot=500, level=0.9,
                       seed=0, minimize=True, replace=False, reduce=np.median, centre=True):
    """Bootstrap interval of the expected best-of-k, over trials and replicates.

    ``values``: per trial and replicate (e.g. final losses).  The first half of the
    replicates gives the validation score, the second the reported one (``reduce`` over
    each half).  Each resample draws ``N`` trials with replacement and, per half, its
    replicates with replacement, then recomputes the expectation; this covers what
    :func:`expected_best_of_k`'s variance leaves out: a rerun would see other trials and
    other seeds.  Returns a Dataset with ``mean`` (the point estimate), ``lower``,
    ``upper`` (percentile interval at ``level``) and the bootstrap draws ``draws`` (dim ``boot``).

    ``centre`` (default): the draws are shifted so that their mean is the point estimate
    before the percentiles are taken.  The expectation over every k-subset of the observed
    trials is unbiased for k fresh trials (a U-statistic), but a resample repeats trials, so
    its best-of-k is shifted towards worse values (for k near N, by much); the bootstrap is
    then used for the spread only.  ``centre=False``: the plain percentile interval.
    """
    import xarray as xr

    if not 0.0 < level < 1.0:
        raise ParameterError(f"best_of_k_interval: level={level!r} must lie in (0, 1)")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ParameterError(f"best_of_k_interval: n_boot={n_boot!r} must be an integer >= 1")
    for d in (trial_dim, replicate_dim):
        if d not in values.dims:
            raise ParameterError(f"best_of_k_interval: values has no dimension {d!r} (it has {', '.join(values.dims)})")
    x = values.transpose(..., trial_dim, replicate_dim)
    a = np.asarray(x.values, float)
    n, nr = a.shape[-2], a.shape[-1]
    if nr < 2:
        raise ParameterError(f"best_of_k_interval: {replicate_dim} has {nr} entry; it needs at least 2 to split")
    h = nr // 2
    ks = [int(k) for k in np.atleast_1d(ks)]
    for k in ks:
        _budget(k, n, replace, "best_of_k_interval")

    def est(arr):
        with np.errstate(invalid="ignore"):
            return _expect(reduce(arr[..., :h], axis=-1), reduce(arr[..., h:], axis=-1), ks, minimize, replace)[0]

    point = est(a)
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot,) + point.shape)
    for b in range(n_boot):
        it = rng.integers(0, n, n)
        iv = rng.integers(0, h, h)
        ir = h + rng.integers(0, nr - h, nr - h)
        sub = a[..., it, :]
        boot[b] = est(np.concatenate([sub[..., iv], sub[..., ir]], axis=-1))
    if centre:
        with np.errstate(invalid="ignore"):
            boot = boot - np.nanmean(boot, axis=0) + point
    lo, hi = np.nanquantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0, method="nearest")
    dims = tuple(d for d in x.dims if d not in (trial_dim, replicate_dim)) + ("k",)
    coords = {c: x.coords[c] for c in x.coords if trial_dim not in x.coords[c].dims
              and replicate_dim not in x.coords[c].dims}
    coords["k"] = ks
    out = xr.Dataset({"mean": (dims, point), "lower": (dims, lo), "upper": (dims, hi),
                      "draws": (("boot",) + dims, boot)}, coords=coords)
    out.attrs["level"] = level
    return out


def profile_ratios(cost, solver_dim="optimizer"):
    """Dolan and More's performance ratios :math:`r_{p,s} = t_{p,s} / \\min_s t_{p,s}` (inf: failed)."""
    if solver_dim not in cost.dims:
        raise ParameterError(f"profile_ratios: cost has no dimension {solver_dim!r} (it has {', '.join(cost.dims)})")
    vals = np.asarray(cost.values, float)
    if np.any(vals[np.isfinite(vals)] <= 0):
        raise ParameterError("profile_ratios: every finite cost must be above 0 (a ratio to the best needs it); "
                             f"got min {np.nanmin(vals[np.isfinite(vals)]):g}")
    c = cost.where(np.isfinite(cost), np.inf)
    best = c.min(solver_dim)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = c / best
    return r.where(np.isfinite(best), np.inf).rename("ratio")


def performance_profile(cost, taus=None, solver_dim="optimizer", problem_dims=None):
    """``rho(solver, tau)``: the fraction of problems on which each solver's cost is within
    ``tau`` x the best (Dolan & More 2002).  ``problem_dims`` index the problems (default:
    every dimension of ``cost`` but ``solver_dim``: a suite of problems x noise models, say);
    any other dimension is kept (one profile per budget or per bootstrap draw).  ``taus``
    default to a geometric grid from 1 to the largest finite ratio."""
    import xarray as xr

    r = profile_ratios(cost, solver_dim)
    pdims = [d for d in r.dims if d != solver_dim] if problem_dims is None else list(problem_dims)
    for d in pdims:
        if d not in r.dims or d == solver_dim:
            raise ParameterError(f"performance_profile: problem_dims entry {d!r} is not a dimension of cost "
                                 f"other than {solver_dim!r} (it has {', '.join(r.dims)})")
    keep = [d for d in r.dims if d not in pdims and d != solver_dim]
    arr = r.transpose(*keep, solver_dim, *pdims).values
    flat = arr.reshape(arr.shape[:len(keep) + 1] + (-1,))
    if taus is None:
        fin = flat[np.isfinite(flat)]
        top = max(float(fin.max()) if fin.size else 1.0, 1.0 + 1e-9)
        taus = np.unique(np.concatenate([[1.0], np.geomspace(1.0, top, 200), [top]]))
    taus = np.asarray(taus, float)
    if taus.ndim != 1 or taus.size == 0 or np.any(~np.isfinite(taus)) or np.any(taus < 1.0):
        raise ParameterError(f"performance_profile: taus must be finite values >= 1, got {taus[:5]!r}...")
    rho = (flat[..., None] <= taus).mean(axis=-2)
    coords = {d: r[d].values for d in keep + [solver_dim] if d in r.coords}
    coords["tau"] = taus
    return xr.DataArray(rho, dims=tuple(keep) + (solver_dim, "tau"), coords=coords, name="rho",
                        attrs={"problems": int(flat.shape[-1])})


def defaults_vs_tuned(default_validation, default_report, tuned, solver_dim="optimizer", minimize=True):
    """Schmidt et al.'s comparison, per problem: the best optimizer at its defaults against each tuned one.

    ``default_validation``, ``default_report``: each optimizer's score at its defaults (the
    choice of optimizer is made on validation, the value reported on held-out data);
    ``tuned``: each optimizer's reported value after tuning (e.g. the expected best-of-k).
    Returns a Dataset with ``best_default`` (per problem), ``best_default_solver``,
    ``tuned`` and ``ratio`` = tuned / best_default (below 1: tuning that one optimizer beats
    trying them all at their defaults, for a cost to minimise).
    """
    import xarray as xr

    for name, da in (("default_validation", default_validation), ("default_report", default_report),
                     ("tuned", tuned)):
        if solver_dim not in da.dims:
            raise ParameterError(f"defaults_vs_tuned: {name} has no dimension {solver_dim!r}")
    score = default_validation if minimize else -default_validation
    idx = score.fillna(np.inf).argmin(solver_dim)
    best = default_report.isel({solver_dim: idx}).drop_vars(solver_dim, errors="ignore")
    names = default_report[solver_dim].values[idx.values]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = tuned / best
    return xr.Dataset({"best_default": best, "best_default_solver": (idx.dims, names),
                       "tuned": tuned, "ratio": ratio}, coords=best.coords)
