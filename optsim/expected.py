r"""Exact expected dynamics beside the Monte-Carlo results of a sweep.

The recursions themselves are in :func:`expected_dynamics` (also found as
``optsim.theory.expected_dynamics``): for linear rules on quadratics the mean and covariance
of the state propagate exactly, :math:`\mu' = A_t \mu + k_t`, :math:`P' = A_t P A_t^\top +
B_t \Sigma B_t^\top`.  :func:`expected_curve` maps a sweep's spec (its Dataset, or the spec
dict stored in the Dataset's attributes) to those recursions, one per grid point, on the
sweep's own grid dimensions and record steps::

    ds = optsim.sweep(optsim.problems.NoisyQuadraticModel(dim=20), optsim.optimizers.SGD(),
                      noise=optsim.noise.CurvatureScaled(batch_size=4),
                      grid={"lr": [0.1, 0.3]}, replicates=256, steps=200, record_every=10)
    exact = optsim.expected.expected_curve(ds)          # dims (lr, step)
    z = (ds.loss.mean("replicate") - exact) / (ds.loss.std("replicate") / 16)

References: Zhang et al., NeurIPS 2019 (the noisy quadratic model); Polyak & Juditsky, SIAM
J. Control Optim. 1992; Defazio et al., *The Road Less Scheduled*, NeurIPS 2024.
"""

from __future__ import annotations

import functools
import itertools
import json

import numpy as np

from ._components import OptsimError, ParameterError
from ._linear import (
    AVERAGING,
    EMA_STARTS,
    ExpectedDynamics,
    NoRecursion,
    expected_dynamics,
    expected_loss,
    frozen_preconditioner,
    has_exact_recursion,
    stationary_risk,
    steps_to_target,
)

__all__ = [
    "AVERAGING",
    "EMA_STARTS",
    "ExpectedDynamics",
    "NoRecursion",
    "expected_dynamics",
    "expected_loss",
    "stationary_risk",
    "steps_to_target",
    "frozen_preconditioner",
    "has_exact_recursion",
    "expected_curve",
    "CURVE_VARS",
    "CURVE_STATS",
]

CURVE_VARS = ("loss", "params")
CURVE_STATS = ("mean", "var", "std")


def _spec_text(ds_or_spec):
    if isinstance(ds_or_spec, str):
        return ds_or_spec
    if isinstance(ds_or_spec, dict):
        from .io import to_jsonable

        return json.dumps(to_jsonable(ds_or_spec), sort_keys=True)
    attrs = getattr(ds_or_spec, "attrs", None)
    if attrs is not None and "optsim_spec" in attrs:
        return attrs["optsim_spec"]
    raise ParameterError("expected_curve: give a sweep's Dataset, its spec dict or the spec's JSON text "
                         f"(got {type(ds_or_spec).__name__} without an 'optsim_spec' attribute)")


def _point(components, settings, locs, label):
    """The components of one grid point: ``settings`` [(name, value)] applied in order."""
    from ._sweep.spec import _get, _resolve, _set

    for name, value in settings:
        qual = _resolve(name, locs, label)
        loc, param = locs[qual]
        components = _set(components, loc, _get(components, loc).replace(**{param.name: value}))
    return components


def _method_components(spec, mspec):
    from . import registry

    problem = registry.build("problem", spec["problem"])
    noises = tuple(registry.build("noise", n) for n in spec.get("noise") or [])
    optimizer = registry.build("optimizer", mspec["optimizer"])
    schedule = registry.build("schedule", mspec.get("schedule") or "constant")
    schedules = {k: registry.build("schedule", v) for k, v in (mspec.get("schedules") or {}).items()}
    return {"problem": problem, "noise": noises, "optimizer": optimizer, "schedule": schedule,
            "schedules": schedules}


def _one(components, steps, record, var, stat, averaging, ema, linearize):
    if components["schedules"]:
        return None  # scheduled hyperparameters other than lr: not covered
    try:
        dyn = expected_dynamics(components["problem"], components["optimizer"], list(components["noise"]),
                                components["schedule"], steps, record_steps=record, averaging=averaging,
                                ema_decay=ema[0], ema_start=ema[1], linearize=linearize)
    except NoRecursion:
        return None
    if var == "loss":
        m, v = dyn.loss_mean, dyn.loss_var
    else:
        m, v = dyn.mean, dyn.var
    out = {"mean": m, "var": v, "std": np.sqrt(np.maximum(v, 0.0))}[stat]
    return out, dyn.exact


@functools.lru_cache(maxsize=64)
def _curve_values(text, var, stat, averaging, ema, linearize):
    from ._sweep.spec import Method, _locations

    spec = json.loads(text)
    grid = spec.get("grid") or {}
    dims = list(grid)
    axes = [list(zip(itertools.repeat(tuple(grid[k]["names"])), grid[k]["values"])) for k in dims]
    record = np.asarray(spec["record_steps"], dtype=int)
    steps = int(spec["steps"])
    methods = spec["methods"]
    labels = list(methods)
    results, exact_all, any_ok = [], True, False
    for label in labels:
        try:
            base = _method_components(spec, methods[label])
        except OptsimError:
            base = None
        rows = []
        for combo in itertools.product(*axes) if axes else [()]:
            got = None
            if base is not None:
                settings = [(n, v) for names, vals in combo for n, v in zip(names, vals)]
                try:
                    locs = _locations(Method(base["optimizer"], base["schedule"], base["schedules"] or None),
                                      base["noise"], base["problem"])
                    got = _one(_point(base, settings, locs, label), steps, record, var, stat, averaging, ema,
                               linearize)
                except (OptsimError, ValueError):
                    got = None
            if got is None:
                rows.append(None)
            else:
                any_ok = True
                exact_all = exact_all and got[1]
                rows.append(got[0])
        results.append(rows)
    if not any_ok:
        return None
    shape = next(r for rows in results for r in rows if r is not None).shape
    values = np.full((len(labels),) + tuple(len(a) for a in axes) + shape, np.nan)
    flat = values.reshape((len(labels), -1) + shape)
    for i, rows in enumerate(results):
        for j, r in enumerate(rows):
            if r is not None:
                flat[i, j] = r
    return labels, dims, [[v for _, v in a] for a in axes], [tuple(grid[k]["names"]) for k in dims], values, exact_all


def expected_curve(ds_or_spec, var="loss", stat="mean", *, averaging=None, ema_decay=0.999, ema_start="x1",
                   linearize=False):
    r"""The exact expectation of a sweep's recorded ``var`` on its own grid, or None.

    ``ds_or_spec``: the sweep's Dataset (its ``optsim_spec`` attribute is read, and its
    coordinates copied), the spec dict or its JSON text.  Each grid point's components are
    rebuilt from the spec (grid values applied as the sweep applies them) and run through
    :func:`expected_dynamics` over ``spec['steps']`` updates, read at ``spec['record_steps']``.

    ``var``: ``'loss'`` (:math:`L(x_t)`, dims ``[optimizer,] <grid dims>, step``) or
    ``'params'`` (per coordinate, a trailing ``param`` dim); ``stat``: ``'mean'`` (the
    expectation), ``'var'`` or ``'std'`` (exact for Gaussian noise).  Grid points or methods
    without a recursion are NaN; None when no point has one (a problem that is not a
    quadratic, a rule that is not linear, a noise model other than Gaussian,
    curvature-scaled or Student-t with :math:`\nu > 2` (whose ``'var'`` and ``'std'`` are NaN),
    a schedule that watches the loss, scheduled hyperparameters).
    ``averaging``, ``ema_decay``, ``ema_start`` and ``linearize`` as in
    :func:`expected_dynamics` (``linearize=True`` adds the frozen-preconditioner Adam and
    RMSprop, not exact; the result's ``exact`` attribute says whether every value is exact).
    """
    import xarray as xr

    if var not in CURVE_VARS:
        raise ParameterError(f"expected_curve: var={var!r} must be one of {', '.join(CURVE_VARS)}")
    if stat not in CURVE_STATS:
        raise ParameterError(f"expected_curve: stat={stat!r} must be one of {', '.join(CURVE_STATS)}")
    if averaging not in AVERAGING:
        raise ParameterError(f"expected_curve: averaging={averaging!r} must be one of None, 'polyak', 'ema'")
    text = _spec_text(ds_or_spec)
    if not (0.0 <= float(ema_decay) < 1.0):
        raise ParameterError(f"expected_curve: ema_decay={ema_decay!r} must be in [0, 1)")
    if ema_start not in EMA_STARTS:
        raise ParameterError(f"expected_curve: ema_start={ema_start!r} must be one of 'x1', 'x0'")
    got = _curve_values(text, var, stat, averaging, (float(ema_decay), ema_start), bool(linearize))
    if got is None:
        return None
    labels, dims, axis_values, axis_names, values, exact_all = got
    spec = json.loads(text)
    out_dims = ["optimizer"] + dims + ["step"] + (["param"] if var == "params" else [])
    coords = {"optimizer": labels, "step": np.asarray(spec["record_steps"], dtype=int)}
    for dim, names, vals in zip(dims, axis_names, axis_values):
        for j, name in enumerate(names):  # a zipped axis: one coordinate per name along its dim
            try:
                arr = np.asarray([v[j] for v in vals], dtype=float)
            except (TypeError, ValueError):
                arr = np.asarray([json.dumps(v[j]) for v in vals])
            coords[dim if len(names) == 1 else name] = arr if len(names) == 1 else (dim, arr)
    da = xr.DataArray(values.copy(), dims=out_dims, coords=coords, name=var)
    if labels == [""]:
        da = da.isel(optimizer=0, drop=True)
    ref = getattr(ds_or_spec, "coords", None)
    if ref is not None:
        if "optimizer" in da.dims and "optimizer" in ref:
            da = da.sel(optimizer=list(ref["optimizer"].values))  # the Dataset's order, not the spec's
        for dim in da.dims:
            if dim in ref and ref[dim].dims == (dim,) and ref.sizes[dim] == da.sizes[dim]:
                da = da.assign_coords({dim: ref[dim].values})
        if hasattr(ds_or_spec, "data_vars") and var in ds_or_spec:
            first = [d for d in ds_or_spec[var].dims if d in da.dims]  # the Dataset's dimension order
            da = da.transpose(*first, *[d for d in da.dims if d not in first])
        for name in ref:
            c = ref[name]
            if name not in da.coords and c.ndim == 1 and c.dims[0] in da.dims and c.dims[0] != name:
                da = da.assign_coords({name: (c.dims[0], c.values)})
    da.attrs.update(exact=bool(exact_all), stat=stat, description=f"exact {stat} of {var} (optsim.expected)")
    return da
