"""The labelled results: the Dataset of a sweep (full, or reduced over replicates) and its spec."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

from .. import _provenance
from ..engine.outputs import DIVERGED_DOC, OUTPUTS, STAT_NAMES, output, trailing_dims
from ..io import to_jsonable

__all__ = ["assemble", "assemble_reduced", "spec_hash"]


def _spec_dict(plan, layout, kwargs):
    methods = layout["methods"]
    spec = {
        "problem": layout["problem"].spec(),
        "noise": [n.spec() for n in layout["noises"]],
        "methods": {label: {"optimizer": m.optimizer.spec(), "schedule": m.schedule.spec(),
                            **({"schedules": {k: v.spec() for k, v in m.schedules.items()}} if m.schedules else {})}
                    for label, m in methods.items()},
        "grid": {a.dim: {"names": list(a.names), "values": [list(v) for v in a.values]} for a in layout["axes"]},
        "replicates": layout["replicates"],
        "steps": plan.steps,
        "record_steps": plan.rec_steps.tolist(),
        "record": list(plan.record),
        "thresholds": plan.thresholds.tolist(),
        "seed": int(plan.seed),
        "common_random_numbers": kwargs["common_random_numbers"],
        "diverge_factor": plan.diverge_factor,
        "x_bound": None if math.isinf(plan.x_bound) else plan.x_bound,
    }
    return spec



def spec_hash(spec):
    """A short, stable hash of a sweep's spec (what makes two result files comparable)."""
    text = json.dumps(to_jsonable(spec), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _layout_coords(plan, layout):
    """Leading dimensions (ending with ``replicate``), their sizes, and the coordinates."""
    axes = layout["axes"]
    reps = layout["replicates"]
    lead_dims = (["optimizer"] if layout["has_opt_axis"] else []) + [a.dim for a in axes] + ["replicate"]
    lead_shape = ([len(layout["methods"])] if layout["has_opt_axis"] else []) + [len(a.values) for a in axes] + [reps]
    coords = {"replicate": np.arange(reps), "step": plan.rec_steps}
    if layout["has_opt_axis"]:
        coords["optimizer"] = list(layout["methods"])
    for a in axes:
        for mi, name in enumerate(a.names):
            vals = [v[mi] for v in a.values]
            if any(isinstance(v, (list, tuple, np.ndarray)) for v in vals):
                # array-valued parameters (curvatures, x0): label each position by its values
                arr = np.asarray([json.dumps(np.asarray(v, dtype=float).tolist()) for v in vals])
            elif any(isinstance(v, str) for v in vals):
                arr = np.asarray([str(v) for v in vals])
            else:
                arr = np.asarray(vals, dtype=float)
            if len(a.names) == 1:
                coords[a.dim] = arr
            else:
                coords[name] = (a.dim, arr)
    return lead_dims, lead_shape, coords


def _coord_names(plan, layout):
    problem = layout["problem"]
    return problem.coord_names() if plan.dim == problem.dimension() else [f"x{i}" for i in range(plan.dim)]


def _slot_names(plan, layout):
    names = []
    for m in layout["methods"].values():
        for i, s in enumerate(type(m.optimizer).slot_names):
            if len(names) <= i:
                names.append(s)
            elif names[i] != s:
                names[i] = f"{names[i]}|{s}"
    return names + [f"slot{i}" for i in range(len(names), plan.n_slots)]


def _attrs(plan, spec):
    attrs = _provenance.attrs()
    attrs["optsim_spec"] = json.dumps(to_jsonable(spec), sort_keys=True)
    attrs["spec_hash"] = spec_hash(spec)
    attrs["seed"] = int(plan.seed)
    return attrs


def _present(plan):
    """The outputs a plan's Dataset holds: the recorded curves, and the per-trajectory
    outputs whose trailing dimensions are not empty (``first_below`` only with thresholds)."""
    empty = {"threshold": plan.thresholds.size == 0}
    return [o for o in OUTPUTS
            if (o.name in plan.record if o.per_record else not any(empty.get(d, False) for d in o.dims))]


def _trailing_coords(plan, layout, present, order=("stat", "param", "slot", "threshold", "metric")):
    """The coordinates of the trailing dimensions the outputs ``present`` use, in ``order``."""
    used = {d for o in present for d in o.dims}
    values = {"stat": lambda: list(STAT_NAMES), "param": lambda: _coord_names(plan, layout),
              "slot": lambda: _slot_names(plan, layout), "threshold": lambda: plan.thresholds,
              "metric": lambda: list(getattr(plan, "metric_names", ()))}
    return {d: values[d]() for d in order if d in used}


def assemble(plan, layout, out, spec):
    """The labelled Dataset from the flat outputs of a plan."""
    import xarray as xr

    lead_dims, lead_shape, coords = _layout_coords(plan, layout)
    data_vars = {}

    def shaped(arr):
        return arr.reshape(tuple(lead_shape) + tuple(arr.shape[1:]))

    present = _present(plan)
    for o in present:
        data_vars[o.name] = (lead_dims + trailing_dims(o), shaped(out[o.name]), {"description": o.doc})
    coords.update(_trailing_coords(plan, layout, present))
    div = output("diverged_at")
    data_vars["diverged"] = (lead_dims, shaped(out[div.name] >= 0), {"description": DIVERGED_DOC})
    return xr.Dataset(data_vars, coords=coords, attrs=_attrs(plan, spec))


#: The dimensions of each reduced output after the cell's (and ``quantile``).
_TRAILING = {o.name: trailing_dims(o) for o in OUTPUTS if o.reduction in ("stats", "reached")}
_STAT_TEXT = {"mean": "mean over replicates of", "std": "standard deviation (ddof=1) over replicates of",
              "quantile": "quantiles over replicates of"}


def assemble_reduced(plan, layout, out, spec, reducer):
    """The labelled Dataset of a sweep reduced over replicates (see :mod:`optsim.reduce`)."""
    import xarray as xr

    lead_dims, lead_shape, coords = _layout_coords(plan, layout)
    lead_dims, lead_shape = lead_dims[:-1], lead_shape[:-1]
    del coords["replicate"]
    coords.update(_trailing_coords(plan, layout, _present(plan), ("param", "slot", "stat", "threshold", "metric")))
    if "quantiles" in reducer.stats:
        coords["quantile"] = reducer.quantiles
    data_vars = {}
    for key, arr in out.items():
        if key in ("diverged_fraction", "first_below_fraction"):
            base, stat = key, None
            dims = lead_dims + (["threshold"] if key == "first_below_fraction" else [])
            text = ("fraction of replicates that diverged" if key == "diverged_fraction"
                    else "fraction of replicates whose loss reached each threshold")
        else:
            base, stat = key.rsplit("_", 1)
            dims = lead_dims + (["quantile"] if stat == "quantile" else []) + _TRAILING[base]
            text = f"{_STAT_TEXT[stat]} {output(base).what}"
        data_vars[key] = (dims, arr.reshape(tuple(lead_shape) + arr.shape[1:]), {"description": text})
    coords["step"] = plan.rec_steps
    ds = xr.Dataset(data_vars, coords=coords, attrs=_attrs(plan, spec))
    ds.attrs["reduced_over"] = "replicate"
    ds.attrs["replicates"] = int(layout["replicates"])
    return ds
