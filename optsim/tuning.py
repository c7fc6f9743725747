r"""Fair tuning protocols over sweeps: search spaces, equal budgets, validation-based selection.

A search space is a dict ``{name: distribution}`` of the hyperparameters to tune, each a
:class:`Uniform`, :class:`LogUniform`, :class:`IntUniform` or :class:`Choice`::

    space = {"lr": LogUniform(1e-5, 1.0), "momentum": Uniform(0.0, 0.99)}
    grid = random_search(space, 16, seed=0)     # {"lr,momentum": [(lr, m), ...]}: one zipped axis
    ds = optsim.sweep(problem, SGD(), grid=grid, replicates=8)

:func:`random_search` and :func:`grid_search` give the configurations as one zipped sweep
axis (``"lr,momentum"``, a dimension ``lr_momentum`` with coordinates ``lr`` and
``momentum``), reproducible from the seed.  :func:`tuning_sweep` runs every optimizer with
the same number of trials (equal budgets, each optimizer's own space and its defaults as
trial 0) and returns one Dataset with a ``trial`` dimension.  :func:`split_replicates`
makes a validation and a report score from disjoint replicates (validation seeds), and
:func:`select` picks the configuration on the validation score and reports the other.

The readouts over such results, expected best-of-k curves (Dodge et al. 2019), performance
profiles (Dolan & More 2002) and the default-versus-tuned comparison (Schmidt et al.
2021), are in :mod:`optsim.tuning_readouts` and re-exported here.

References
----------
- J. Bergstra and Y. Bengio, "Random search for hyper-parameter optimization", JMLR 13, 2012.
- J. Dodge, S. Gururangan, D. Card, R. Schwartz and N. A. Smith, "Show Your Work: Improved
  Reporting of Experimental Results", EMNLP 2019.
- P. T. Sivaprasad, F. Mai, T. Vogels, M. Jaggi and F. Fleuret, "Optimizer Benchmarking Needs
  to Account for Hyperparameter Tuning", ICML 2020.
- R. M. Schmidt, F. Schneider and P. Hennig, "Descending through a Crowded Valley -
  Benchmarking Deep Learning Optimizers", ICML 2021.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Mapping

import numpy as np

from ._components import ParameterError
from .tuning_readouts import (
    best_of_k_interval, best_of_k_weights, defaults_vs_tuned, expected_best_of_k, performance_profile,
    profile_ratios,
)

__all__ = [
    "Uniform",
    "LogUniform",
    "IntUniform",
    "Choice",
    "random_search",
    "grid_search",
    "trial_seed",
    "tuning_sweep",
    "split_replicates",
    "select",
    "best_of_k_weights",
    "expected_best_of_k",
    "best_of_k_interval",
    "performance_profile",
    "profile_ratios",
    "defaults_vs_tuned",
]


def _finite(owner, name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
        raise ParameterError(f"{owner}: {name}={v!r} must be a finite number")
    return float(v)


class Uniform:
    r"""Uniform on :math:`[\mathrm{low}, \mathrm{high}]`; a grid of ``n`` points is ``linspace``."""

    def __init__(self, low, high):
        self.low = _finite("Uniform", "low", low)
        self.high = _finite("Uniform", "high", high)
        if not self.low < self.high:
            raise ParameterError(f"Uniform: low={low!r} must be below high={high!r}")

    def sample(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    def grid(self, n):
        return np.linspace(self.low, self.high, n)

    def contains(self, v):
        return bool(np.all((np.asarray(v) >= self.low) & (np.asarray(v) <= self.high)))

    def __repr__(self):
        return f"Uniform({self.low!r}, {self.high!r})"


class LogUniform(Uniform):
    r"""Log-uniform on :math:`[\mathrm{low}, \mathrm{high}]`, :math:`0 < \mathrm{low}`:
    :math:`\log x` uniform (Bergstra & Bengio 2012); a grid is ``geomspace``."""

    def __init__(self, low, high):
        super().__init__(low, high)
        if not self.low > 0.0:
            raise ParameterError(f"LogUniform: low={low!r} must be above 0")

    def sample(self, rng, n):
        return np.exp(rng.uniform(np.log(self.low), np.log(self.high), n))

    def grid(self, n):
        return np.geomspace(self.low, self.high, n)

    def __repr__(self):
        return f"LogUniform({self.low!r}, {self.high!r})"


class IntUniform(Uniform):
    r"""An integer uniform on :math:`\{\mathrm{low}, \dots, \mathrm{high}\}` (both included)."""

    def __init__(self, low, high):
        for name, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ParameterError(f"IntUniform: {name}={v!r} must be an integer")
        super().__init__(int(low), int(high))

    def sample(self, rng, n):
        return rng.integers(int(self.low), int(self.high) + 1, n)

    def grid(self, n):
        return np.unique(np.round(np.linspace(self.low, self.high, n)).astype(np.int64))

    def __repr__(self):
        return f"IntUniform({int(self.low)}, {int(self.high)})"


class Choice:
    """One of ``values``, each equally likely; a grid takes them all."""

    def __init__(self, values):
        vals = list(values) if not isinstance(values, (str, bytes)) else None
        if not vals:
            raise ParameterError(f"Choice: values={values!r} must be a non-empty sequence")
        self.values = vals

    def sample(self, rng, n):
        idx = rng.integers(0, len(self.values), n)
        return [self.values[i] for i in idx]

    def grid(self, n=None):
        return list(self.values)

    def contains(self, v):
        return all(x in self.values for x in np.atleast_1d(v))

    def __repr__(self):
        return f"Choice({self.values!r})"


_DISTRIBUTIONS = (Uniform, Choice)


def _check_space(space, owner):
    if not isinstance(space, Mapping) or not space:
        raise ParameterError(f"{owner}: space={space!r} must be a non-empty dict {{name: distribution}}")
    for name, dist in space.items():
        if not isinstance(name, str) or not name or "," in name:
            raise ParameterError(f"{owner}: space key {name!r} must be a parameter name (a string without commas)")
        if not isinstance(dist, _DISTRIBUTIONS):
            raise ParameterError(f"{owner}: space[{name!r}]={dist!r} must be Uniform, LogUniform, IntUniform "
                                 "or Choice")
    return list(space)


def _count(owner, name, v, low=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ParameterError(f"{owner}: {name}={v!r} must be an integer >= {low}")
    return int(v)


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


def _axis(names, rows):
    rows = [tuple(_py(v) for v in row) for row in rows]
    if len(names) == 1:  # a plain axis: {"lr": [...]}
        return {names[0]: [row[0] for row in rows]}
    return {",".join(names): rows}


def random_search(space, n, seed=0):
    """``n`` configurations drawn independently from ``space``, as one zipped sweep axis.

    Returns ``{"a,b": [(a_1, b_1), ..., (a_n, b_n)]}`` (``{"a": [a_1, ..., a_n]}`` for
    one name; pass it as, or merge it into,
    ``optsim.sweep(grid=...)``).  The draws depend only on ``seed``, the names in the
    order given and ``n``'s prefix: the first ``m`` of ``n`` draws are the ``m`` draws
    (each name draws from its own stream, ``numpy.random.default_rng([seed, j])``).
    """
    names = _check_space(space, "random_search")
    n = _count("random_search", "n", n)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"random_search: seed={seed!r} must be an integer >= 0")
    cols = []
    for j, name in enumerate(names):
        rng = np.random.default_rng([int(seed), j])
        # one draw per configuration in turn, so that a longer search extends a shorter one
        cols.append([space[name].sample(rng, 1)[0] for _ in range(n)])
    return _axis(names, zip(*cols))


def grid_search(space, points=5):
    """Every combination of a grid per hyperparameter, as one zipped sweep axis.

    ``points``: the grid size per axis (an int, or ``{name: int}``); a :class:`Choice`
    takes all its values, a :class:`LogUniform` a geometric grid, the others a linear one.
    The first name varies slowest.
    """
    names = _check_space(space, "grid_search")
    sizes = {}
    for name in names:
        p = points.get(name, 5) if isinstance(points, Mapping) else points
        sizes[name] = _count("grid_search", f"points[{name!r}]" if isinstance(points, Mapping) else "points", p)
    if isinstance(points, Mapping):
        extra = set(points) - set(names)
        if extra:
            raise ParameterError(f"grid_search: points names {sorted(extra)} not in the space ({', '.join(names)})")
    axes = [list(space[name].grid(sizes[name])) for name in names]
    return _axis(names, itertools.product(*axes))


def trial_seed(seed, label):
    """The random-search seed of optimizer ``label``: the same whatever other optimizers run."""
    return (int(seed) * 1_000_003 + zlib.crc32(str(label).encode())) % (2**63)


def _methods_of(optimizers):
    from ._sweep.spec import _methods

    methods, _ = _methods(optimizers, None)
    return methods


def tuning_sweep(problem, optimizers, spaces, trials, *, seed=0, search_seed=0, defaults=True, **sweep_kwargs):
    """Random search with an equal budget per optimizer: ``trials`` configurations each.

    Parameters
    ----------
    problem : optsim.problems.Problem
    optimizers : dict {label: Optimizer, (Optimizer, Schedule) or Method}
    spaces : dict {label: search space}, one per optimizer (a missing label: no tuning, the
        defaults only; spaces of other labels are ignored unless an optimizer lacks one, which
        is refused as a likely misspelling; ``spaces`` may also be one space shared by all).
    trials : int
        Random configurations per optimizer (the same for every one: equal budgets).
    seed : the sweep's seed (noise); ``search_seed``: the random search's, per optimizer
        through :func:`trial_seed`, so one optimizer's trials do not depend on the others.
    defaults : bool
        Trial 0 is the optimizer's own setting of the space's names (``default`` True);
        trials 1..``trials`` are the random ones.
    sweep_kwargs : passed to :func:`optsim.sweep` (``replicates``, ``steps``, ``noise``, ...).

    Returns
    -------
    xarray.Dataset with dimensions ``optimizer, trial, replicate`` (and whatever the sweep
    records), a coordinate ``default`` (trial), and one variable ``hp_<name>`` (optimizer,
    trial) per tuned hyperparameter (NaN where an optimizer does not tune it; a
    :class:`Choice` of strings is stored as the chosen index in ``hp_<name>_index``).
    """
    import xarray as xr

    from .sweep import sweep

    trials = _count("tuning_sweep", "trials", trials, low=1 if not defaults else 0)
    if "grid" in sweep_kwargs:
        raise ParameterError("tuning_sweep: grid is made from the search spaces; give spaces=..., not grid=...")
    methods = _methods_of(optimizers)
    shared = isinstance(spaces, Mapping) and spaces and all(isinstance(v, _DISTRIBUTIONS) for v in spaces.values())
    if spaces is not None and not isinstance(spaces, Mapping):
        raise ParameterError(f"tuning_sweep: spaces={spaces!r} must be a dict {{label: space}} or one space")
    if not shared and spaces:
        unknown = [k for k in spaces if k not in methods]
        if unknown and any(k not in spaces for k in methods):  # a misspelt label, not spare spaces
            raise ParameterError(f"tuning_sweep: spaces names {unknown[0]!r}, which is not an optimizer label "
                                 f"(the labels are {', '.join(methods)})")
    parts = []
    for label, method in methods.items():
        space = spaces if shared else (spaces or {}).get(label)
        if space is None:
            names, rows = [], []
        else:
            names = _check_space(space, f"tuning_sweep[{label!r}]")
            rows = list(random_search(space, trials, trial_seed(search_seed, label)).values())[0] if trials else []
            rows = [r if isinstance(r, tuple) else (r,) for r in rows]
        if defaults:
            vals = method.optimizer.values
            missing = [nm for nm in names if nm not in vals]
            if missing:
                raise ParameterError(f"tuning_sweep: {label!r} has no parameter {missing[0]!r} for its default")
            rows = [tuple(_py(vals[nm]) for nm in names)] + rows
        if not rows:
            raise ParameterError(f"tuning_sweep: {label!r} has no trial (give trials >= 1 or defaults=True)")
        if names:
            grid = {names[0]: [row[0] for row in rows]} if len(names) == 1 else {",".join(names): rows}
            ds = sweep(problem, {label: method}, grid=grid, seed=seed, **sweep_kwargs)
            dim = "_".join(names)
            hp = {}
            for nm in names:
                v = np.asarray(ds[nm].values)
                if v.dtype.kind in "fiub":
                    hp[f"hp_{nm}"] = v.astype(float)
                else:
                    hp[f"hp_{nm}_index"] = np.array([space[nm].values.index(x) for x in v], dtype=float)
            ds = ds.drop_vars(names).rename({dim: "trial"}) if dim != "trial" else ds.drop_vars(names)
        else:
            ds = sweep(problem, {label: method}, seed=seed, **sweep_kwargs).expand_dims(trial=1, axis=1)
            hp = {}
        for key, v in hp.items():
            ds[key] = (("optimizer", "trial"), v[None, :])
        parts.append(ds)
    n = max(p.sizes["trial"] for p in parts)
    if any(p.sizes["trial"] != n for p in parts):
        raise ParameterError("tuning_sweep: every optimizer needs the same number of trials (equal budgets); "
                             "give every one a space or none")
    keys = sorted({k for p in parts for k in p.data_vars if k.startswith("hp_")})
    for i, p in enumerate(parts):
        for k in keys:
            if k not in p:
                parts[i] = p = p.assign({k: (("optimizer", "trial"), np.full((1, n), np.nan))})
    out = xr.concat([p.drop_vars("trial", errors="ignore") for p in parts], dim="optimizer",
                    combine_attrs="drop_conflicts")
    out = out.assign_coords(trial=np.arange(n), default=("trial", (np.arange(n) == 0) & bool(defaults)))
    out.attrs["tuning"] = f"random search, {trials} trials per optimizer, search_seed {search_seed}, " + (
        "trial 0 = defaults" if defaults else "no defaults")
    return out


def split_replicates(da, dim="replicate", reduce="median"):
    """``(validation, report)``: ``da`` reduced over the first and over the second half of ``dim``.

    With common random numbers the replicates of a sweep are its noise seeds, so the two
    halves are disjoint validation and test seeds: select on the first, report the second
    (an odd count leaves the last replicate to the report half).  ``reduce``: "median",
    "mean" or a callable ``f(DataArray, dim)``.
    """
    if dim not in da.dims:
        raise ParameterError(f"split_replicates: {da.name!r} has no dimension {dim!r} (it has {', '.join(da.dims)})")
    n = da.sizes[dim]
    if n < 2:
        raise ParameterError(f"split_replicates: {dim} has {n} entry; it needs at least 2 to split")
    h = n // 2

    def red(x):
        if callable(reduce):
            return reduce(x, dim)
        if reduce == "median":
            return x.median(dim)
        if reduce == "mean":
            return x.mean(dim)
        raise ParameterError(f"split_replicates: reduce={reduce!r} is not 'median', 'mean' or a callable")

    return red(da.isel({dim: slice(0, h)})), red(da.isel({dim: slice(h, n)}))


def select(validation, report, dim="trial", minimize=True):
    """The entry along ``dim`` with the best ``validation`` score, and its ``report`` value.

    Returns a Dataset with ``index`` (position along ``dim``; ties go to the first),
    ``validation`` and ``report`` there, per everything else.  NaN validation scores count
    as worst.  Selecting on the very numbers one reports biases them (the minimum of noisy
    scores is optimistic); selecting on disjoint validation seeds does not.
    """
    import xarray as xr

    if dim not in validation.dims:
        raise ParameterError(f"select: validation has no dimension {dim!r} (it has {', '.join(validation.dims)})")
    along = [c for c in set(validation.coords) | set(report.coords)
             if dim in (validation.coords[c].dims if c in validation.coords else report.coords[c].dims)]
    validation = validation.drop_vars([c for c in along if c in validation.coords])
    report = report.drop_vars([c for c in along if c in report.coords])
    score = validation if minimize else -validation
    idx = score.fillna(np.inf).argmin(dim)
    return xr.Dataset({"index": idx, "validation": validation.isel({dim: idx}),
                       "report": report.isel({dim: idx})})
