"""Reductions over replicates on the fly, for sweeps whose curves do not fit in memory.

``optsim.sweep(..., reduce=("mean", "quantiles"))`` runs the trajectories in chunks of
whole grid cells (all replicates of a cell in one chunk), reduces each chunk over its
replicates as soon as it is computed and keeps only the per-cell statistics.  Memory is
then about ``(cells x statistics + one chunk) x records`` instead of ``cells x replicates
x records``, and the statistics are exact (a cell's replicates are never split), so they
equal what ``ds.mean("replicate")`` or ``ds.quantile(q, "replicate")`` would give on the
full result.

Per recorded quantity ``v`` (``loss``, ``params``, ...) and summary (``final_loss``,
``min_loss``, ``argmin_step``) the result holds

- ``v_mean`` and ``v_std`` (``ddof=1``) over replicates (``"mean"``, ``"std"``);
- ``v_quantile`` with a ``quantile`` dimension (``"quantiles"``, levels ``quantiles=``).

Diverged trajectories count as infinite losses, as everywhere in optsim: one diverged
replicate makes its cell's mean infinite, and a quantile is infinite when the
replicates it falls between are.  Always kept, whatever ``reduce`` says:
``diverged_fraction``; with ``thresholds``, ``first_below_fraction`` (the fraction of
replicates that reached each threshold) and the statistics of ``first_below`` (a
trajectory that never reached the threshold counts as infinitely many steps, so the
median is finite only if more than half of the replicates got there).
"""

from __future__ import annotations

import numpy as np

from ._components import ParameterError
from .engine.outputs import OUTPUTS

__all__ = ["STATISTICS", "Reducer", "check_reduce"]

#: The statistics ``reduce=`` accepts.
STATISTICS = ("mean", "std", "quantiles")

#: The outputs reduced to mean, std and quantiles: recorded curves, then per-trajectory summaries.
_CURVES = tuple(o.name for o in OUTPUTS if o.reduction == "stats" and o.per_record)
_SUMMARIES = tuple(o.name for o in OUTPUTS if o.reduction == "stats" and not o.per_record)
#: The per-trajectory step at which each threshold was first reached (-1: never).
_REACHED = next(o.name for o in OUTPUTS if o.reduction == "reached")
#: The per-trajectory step at which the trajectory diverged (-1: never).
_DIVERGED = next(o.name for o in OUTPUTS if o.reduction == "diverged")
_DIVERGED_FRACTION = "diverged_fraction"


def check_reduce(reduce, quantiles):
    """Validate ``reduce`` and ``quantiles``; return them as tuples (``()`` for no reduction)."""
    if reduce is None or reduce is False:
        return (), ()
    if isinstance(reduce, str):
        reduce = [s.strip() for s in reduce.split(",") if s.strip()]
    reduce = tuple(reduce)
    bad = [s for s in reduce if s not in STATISTICS]
    if bad or not reduce:
        raise ParameterError(
            f"reduce: each entry must be one of {', '.join(STATISTICS)}, got {list(reduce)!r}"
        )
    q = np.atleast_1d(np.asarray(quantiles, dtype=float))
    if "quantiles" in reduce:
        if q.ndim != 1 or q.size == 0 or not np.all((q >= 0) & (q <= 1)):
            raise ParameterError(f"quantiles: levels in [0, 1], got {quantiles!r}")
    return tuple(dict.fromkeys(reduce)), tuple(float(v) for v in q)


def _quantile(a, q):
    """``np.quantile`` over axis 1 that treats infinity as a value (inf, not nan, between infs)."""
    if a.shape[1] == 0 or a.size == 0:
        return np.full((a.shape[0], len(q), *a.shape[2:]), np.nan)
    with np.errstate(invalid="ignore"):
        lin = np.quantile(a, q, axis=1)
    lower = np.quantile(a, q, axis=1, method="lower")
    lin = np.where(np.isnan(lin) & np.isinf(lower), lower, lin)
    return np.moveaxis(lin, 0, 1)


class Reducer:
    """Turns the raw outputs of whole cells into per-cell statistics over replicates.

    Duck-types the parts of :class:`~optsim.engine.plan.Plan` that chunked runs use
    (``groups``, ``allocate``, ``scatter``), so local runs, Dask tasks and chunk files all
    carry reduced chunks.
    """

    def __init__(self, plan, replicates, stats, quantiles=(0.1, 0.5, 0.9)):
        self.plan = plan
        self.replicates = int(replicates)
        self.stats = tuple(stats)
        self.quantiles = np.asarray(quantiles, dtype=float)
        if plan.n_traj % self.replicates:
            raise ValueError("the sweep's trajectories are not whole cells of replicates")
        self.n_cells = plan.n_traj // self.replicates
        self.n_thresholds = int(plan.thresholds.shape[0])

    def __getstate__(self):
        # Dask tasks only call reduce(): ship the settings, not the plan (sent separately)
        state = dict(self.__dict__)
        state["plan"] = None
        return state

    @property
    def groups(self):
        return self.plan.groups

    def _fields(self, n_cells):
        """{name: (shape, dtype)} of the reduced arrays for ``n_cells`` cells."""
        shapes = self.plan.output_shapes(self.replicates)
        nq = self.quantiles.size
        out = {}
        for name in _CURVES + _SUMMARIES:
            shape = shapes[name][0][1:]
            if name in _CURVES and shape[0] == 0:
                continue  # not recorded
            if "mean" in self.stats:
                out[f"{name}_mean"] = ((n_cells, *shape), np.float64)
            if "std" in self.stats:
                out[f"{name}_std"] = ((n_cells, *shape), np.float64)
            if "quantiles" in self.stats:
                out[f"{name}_quantile"] = ((n_cells, nq, *shape), np.float64)
        nthr = self.plan.thresholds.shape[0]
        if nthr:
            out[f"{_REACHED}_fraction"] = ((n_cells, nthr), np.float64)
            if "mean" in self.stats:
                out[f"{_REACHED}_mean"] = ((n_cells, nthr), np.float64)
            if "quantiles" in self.stats:
                out[f"{_REACHED}_quantile"] = ((n_cells, nq, nthr), np.float64)
        out[_DIVERGED_FRACTION] = ((n_cells,), np.float64)
        return out

    def output_shapes(self, n):
        """{name: (shape, dtype)} of the reduced chunk of ``n`` trajectories (whole cells), as
        :meth:`Plan.output_shapes <optsim.engine.plan.Plan.output_shapes>` gives the raw ones."""
        return self._fields(n // self.replicates)

    def output_bytes(self):
        return sum(int(np.prod(s)) * 8 for s, _ in self._fields(self.n_cells).values())

    def allocate(self):
        return {name: np.full(shape, np.nan, dtype) for name, (shape, dtype) in self._fields(self.n_cells).items()}

    def chunk_size(self, size):
        """``size`` rounded to whole cells (at least one)."""
        r = self.replicates
        return max(r, (int(size) // r) * r)

    def reduce(self, gi, start, stop, part):
        """The statistics of the raw outputs ``part`` of trajectories ``start:stop`` of group ``gi``."""
        r = self.replicates
        n = stop - start
        if start % r or n % r:
            raise ValueError(f"chunk {gi}:{start}:{stop} does not hold whole cells of {r} replicates")
        c = n // r
        out = {}
        for name in _CURVES + _SUMMARIES:
            arr = part[name]
            if name in _CURVES and arr.shape[1] == 0:
                continue
            a = arr.reshape(c, r, *arr.shape[1:]).astype(np.float64, copy=False)
            self._stats(out, name, a)
        if self.n_thresholds:
            fb = part[_REACHED].reshape(c, r, -1).astype(np.float64)
            reached = fb >= 0
            out[f"{_REACHED}_fraction"] = reached.mean(axis=1)
            fb[~reached] = np.inf
            if "mean" in self.stats:
                out[f"{_REACHED}_mean"] = fb.mean(axis=1)
            if "quantiles" in self.stats:
                out[f"{_REACHED}_quantile"] = _quantile(fb, self.quantiles)
        out[_DIVERGED_FRACTION] = (part[_DIVERGED].reshape(c, r) >= 0).mean(axis=1)
        return out

    def _stats(self, out, name, a):
        with np.errstate(invalid="ignore", over="ignore"):
            if "mean" in self.stats:
                out[f"{name}_mean"] = a.mean(axis=1)
            if "std" in self.stats:
                out[f"{name}_std"] = a.std(axis=1, ddof=1) if a.shape[1] > 1 else np.full_like(a[:, 0], np.nan)
        if "quantiles" in self.stats:
            out[f"{name}_quantile"] = _quantile(a, self.quantiles)

    def scatter(self, out, gi, start, stop, rpart):
        """Copy reduced chunk outputs into the per-cell arrays ``out``."""
        cells = self.plan.groups[gi].index[start:stop:self.replicates] // self.replicates
        for name, arr in rpart.items():
            out[name][cells] = arr
