"""Small reductions of sweep results: xarray in, xarray out.

Each helper keeps every dimension it does not reduce, so the same call works on a
single-optimizer sweep over ``lr`` and on a sweep over ``optimizer x lr x beta2``.
Diverged trajectories are kept (their final loss is ``inf``): medians and quantiles
treat them as very bad outcomes rather than silently dropping them.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "quantile_band",
    "steps_to_threshold",
    "divergence_rate",
    "best_lr",
    "mean_log_loss",
    "median_interval",
    "median_ratio_interval",
    "reduce_replicates",
    "loss_surface",
]

REDUCTIONS = ("median", "mean", "mean_log", "quantile")


def quantile_band(da, dim="replicate", q=(0.1, 0.5, 0.9)):
    """Quantiles of ``da`` over ``dim`` (new dimension ``quantile``), ignoring NaN.

    For example ``quantile_band(ds["loss"])`` of an lr sweep has dims
    ``quantile, lr, step``.
    """
    if dim not in da.dims:
        raise ValueError(f"quantile_band: {da.name!r} has no dimension {dim!r} (it has {', '.join(da.dims)})")
    q = list(np.atleast_1d(q).astype(float))
    if any(not 0.0 <= v <= 1.0 for v in q):
        raise ValueError(f"quantile_band: q={q!r} must lie in [0, 1]")
    with np.errstate(invalid="ignore"):  # quantiles that straddle inf (diverged runs)
        return da.quantile(q, dim=dim, skipna=True)


def steps_to_threshold(ds, threshold, var="loss"):
    """The first recorded step at which the loss is at or below ``threshold`` (NaN: never).

    Uses ``first_below`` when the sweep recorded that threshold (exact to the recording
    grid of the kernel), else the recorded ``var`` curves.  A scalar ``threshold`` gives
    no ``threshold`` dimension; a list gives one.
    """
    import xarray as xr

    scalar = np.ndim(threshold) == 0
    levels = np.atleast_1d(np.asarray(threshold, dtype=float))
    if "first_below" in ds and "threshold" in ds.coords and np.all(np.isin(levels, ds["threshold"].values)):
        fb = ds["first_below"].sel(threshold=levels)
        out = fb.where(fb >= 0).astype(float)
    else:
        if var not in ds:
            raise ValueError(
                f"steps_to_threshold: the result has neither first_below at {levels.tolist()} nor {var!r} curves; "
                "run the sweep with thresholds=[...] or record=('loss',)"
            )
        curve = ds[var]
        lev = xr.DataArray(levels, dims="threshold", coords={"threshold": levels})
        below = curve <= lev
        hit = below.any("step")
        first = below.argmax("step")
        steps = curve["step"].values
        out = xr.DataArray(steps[first.values], dims=first.dims, coords=first.coords).astype(float)
        out = out.where(hit)
    out.name = "steps_to_threshold"
    out.attrs["description"] = "first recorded step with loss <= threshold (NaN: never)"
    if scalar:
        out = out.isel(threshold=0, drop=True)
    return out


def divergence_rate(ds, dim="replicate"):
    """Fraction of trajectories that diverged, over ``dim``."""
    if "diverged" in ds:
        flag = ds["diverged"]
    elif "diverged_at" in ds:
        flag = ds["diverged_at"] >= 0
    else:
        raise ValueError("divergence_rate: the result has no 'diverged' or 'diverged_at' variable")
    out = flag.astype(float).mean(dim)
    out.name = "divergence_rate"
    return out


def reduce_replicates(da, reduce="median", dim="replicate", q=0.5):
    """``da`` reduced over ``dim``: 'median', 'mean', 'mean_log' (mean of log10) or 'quantile' (at ``q``)."""
    if reduce == "median":
        return da.median(dim)
    if reduce == "mean":
        return da.mean(dim)
    if reduce == "mean_log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(da).mean(dim)
    if reduce == "quantile":
        return da.quantile(q, dim=dim).drop_vars("quantile")
    raise ValueError(f"reduce={reduce!r} is not one of {', '.join(REDUCTIONS)}")


def best_lr(ds, metric="final_loss", dim="lr", reduce="median", over="replicate"):
    """The value along ``dim`` that minimises ``metric`` (reduced over replicates), per everything else.

    Returns a Dataset with ``best_<dim>`` (the value), ``best_<metric>`` (the reduced metric
    there) and ``at_edge`` (True when the best value is the first or last of the grid:
    the grid may be too narrow).  NaN metrics count as worst.
    """
    import xarray as xr

    if metric not in ds:
        raise ValueError(f"best_lr: no variable {metric!r} in the result")
    if dim not in ds[metric].dims:
        raise ValueError(f"best_lr: {metric!r} has no dimension {dim!r} (it has {', '.join(ds[metric].dims)})")
    da = ds[metric]
    if "step" in da.dims:
        da = da.isel(step=-1)
    score = reduce_replicates(da, reduce, dim=over) if over in da.dims else da
    filled = score.fillna(np.inf)
    idx = filled.argmin(dim)
    best_value = ds[dim].isel({dim: idx}).drop_vars(dim, errors="ignore")
    best_score = score.isel({dim: idx}).drop_vars(dim, errors="ignore")
    n = ds.sizes[dim]
    return xr.Dataset({
        f"best_{dim}": best_value,
        f"best_{metric}": best_score,
        "at_edge": (idx == 0) | (idx == n - 1),
    })


def median_interval(a, level=0.9, n_boot=2000, seed=0):
    """``(median, lower, upper)``: the median of ``a`` (flattened) and its percentile
    bootstrap interval at ``level`` from ``n_boot`` resamples (``quantile`` method
    "nearest", so an infinite value, a trajectory that never got there, stays usable)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    rng = np.random.default_rng(seed)
    meds = np.median(a[rng.integers(0, a.size, (n_boot, a.size))], axis=1)
    lo, hi = np.quantile(meds, [(1 - level) / 2, (1 + level) / 2], method="nearest")
    return float(np.median(a)), float(lo), float(hi)


def median_ratio_interval(a, b, n_boot=2000, level=0.95, seed=0, paired=False):
    """``median(a) / median(b)`` over the last axis and its percentile bootstrap interval.

    ``paired``: the replicates of ``a`` and ``b`` are resampled together (the same index in
    both, as for common random numbers); else each is resampled on its own.  Non-finite
    values count as infinite (diverged)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = np.where(np.isfinite(a), a, np.inf)
    b = np.where(np.isfinite(b), b, np.inf)
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, a.shape[-1], (n_boot, a.shape[-1]))
    ib = ia if paired else rng.integers(0, b.shape[-1], (n_boot, b.shape[-1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.median(a[..., ia], axis=-1) / np.median(b[..., ib], axis=-1)
        lo, hi = np.quantile(r, [(1 - level) / 2, (1 + level) / 2], axis=-1)
        return np.median(a, -1) / np.median(b, -1), lo, hi


def mean_log_loss(ds, var="final_loss", dim="replicate", base=10.0):
    """Mean of ``log_base(var)`` over ``dim`` with its standard error.

    Returns a Dataset with ``mean``, ``sem`` (standard error of the mean) and ``n``.  A
    diverged trajectory (infinite loss) makes its cell's mean infinite; zero losses give
    ``-inf``.
    """
    import xarray as xr

    da = ds[var] if hasattr(ds, "data_vars") else ds
    if "step" in da.dims:
        da = da.isel(step=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        logv = np.log(da) / np.log(base)
        n = logv.count(dim)
        mean = logv.mean(dim)
        sem = logv.std(dim, ddof=1) / np.sqrt(n)
    return xr.Dataset({"mean": mean, "sem": sem, "n": n})


def loss_surface(problem, xlim, ylim, n=201, coords=(0, 1), at=None):
    """The problem's objective on an ``n x n`` grid over two coordinates, as a DataArray.

    ``xlim`` and ``ylim`` are ``(low, high)`` for coordinates ``coords`` (indices into the
    parameter vector); the others stay at ``at`` (default: the problem's starting point).
    ``n`` may be a pair ``(nx, ny)``.  The result has dimensions ``(y, x)`` named after the
    problem's coordinates (``coord_names()``), ready for :func:`optsim.plotting.plot_contours`
    and for saving next to a sweep's trajectories, so that figures only read saved results.
    """
    import xarray as xr

    from ._components import ParameterError

    nx, ny = (int(n), int(n)) if np.ndim(n) == 0 else (int(n[0]), int(n[1]))
    if nx < 2 or ny < 2:
        raise ParameterError(f"loss_surface: n must be at least 2 per axis, got {n!r}")
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not (np.isfinite(lim[0]) and np.isfinite(lim[1]) and lim[0] < lim[1]):
            raise ParameterError(f"loss_surface: {name} must be (low, high) with low < high, got {lim!r}")
    dim = problem.dimension()
    i, j = (int(c) for c in coords)
    if not (0 <= i < dim and 0 <= j < dim and i != j):
        raise ParameterError(f"loss_surface: coords must be two different indices in [0, {dim - 1}], got {coords!r}")
    base = np.array(problem.start_point() if at is None else at, dtype=float).ravel()
    if base.size != dim:
        raise ParameterError(f"loss_surface: at must have {dim} entries, got {base.size}")
    f = problem.kernels["objective"]
    row, data = problem.row(), problem.data()
    xs, ys = np.linspace(*xlim, nx), np.linspace(*ylim, ny)
    z = np.empty((ny, nx))
    x = base.copy()
    for b, yv in enumerate(ys):
        x[j] = yv
        for a, xv in enumerate(xs):
            x[i] = xv
            z[b, a] = f(x, row, data)
    names = problem.coord_names()
    xn, yn = names[i], names[j]
    if xn == yn:
        xn, yn = f"{xn}_{i}", f"{yn}_{j}"
    return xr.DataArray(z, dims=(yn, xn), coords={yn: ys, xn: xs}, name="loss",
                        attrs={"problem": repr(problem)})
