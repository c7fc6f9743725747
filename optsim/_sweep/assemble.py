"""The labelled results: the Dataset of a sweep (full, or reduced over replicates) and its spec."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

from .. import _provenance
from ..engine.plan import RECORDABLE
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


def assemble(plan, layout, out, spec):
    """The labelled Dataset from the flat outputs of a plan."""
    import xarray as xr

    lead_dims, lead_shape, coords = _layout_coords(plan, layout)
    coord_names = _coord_names(plan, layout)
    data_vars = {}

    def shaped(arr, extra):
        return arr.reshape(tuple(lead_shape) + tuple(arr.shape[1:]))

    for name in ("loss", "test_loss", "grad_norm", "dist"):
        if name in plan.record:
            data_vars[name] = (lead_dims + ["step"], shaped(out[name], 1), {"description": RECORDABLE[name]})
    if "params" in plan.record:
        data_vars["params"] = (lead_dims + ["step", "param"], shaped(out["params"], 2), {"description": RECORDABLE["params"]})
    if "eff_lr" in plan.record:
        data_vars["eff_lr"] = (lead_dims + ["step", "param"], shaped(out["eff_lr"], 2), {"description": RECORDABLE["eff_lr"]})
    if "eff_lr_stats" in plan.record:
        data_vars["eff_lr_stats"] = (lead_dims + ["step", "stat"], shaped(out["eff_lr_stats"], 2), {"description": RECORDABLE["eff_lr_stats"]})
        coords["stat"] = ["min", "mean", "max"]
    if "state" in plan.record:
        data_vars["state"] = (lead_dims + ["step", "slot", "param"], shaped(out["state"], 3), {"description": RECORDABLE["state"]})
    if "state_norm" in plan.record:
        data_vars["state_norm"] = (lead_dims + ["step", "slot"], shaped(out["state_norm"], 2), {"description": RECORDABLE["state_norm"]})
    if {"params", "eff_lr", "state"} & set(plan.record):
        coords["param"] = coord_names
    if {"state", "state_norm"} & set(plan.record):
        coords["slot"] = _slot_names(plan, layout)
    data_vars["final_loss"] = (lead_dims, shaped(out["final_loss"], 0),
                               {"description": "loss at the last step (inf if the trajectory diverged)"})
    data_vars["min_loss"] = (lead_dims, shaped(out["min_loss"], 0), {"description": "lowest recorded loss"})
    data_vars["argmin_step"] = (lead_dims, shaped(out["argmin_step"], 0), {"description": "step of the lowest recorded loss"})
    if plan.thresholds.size:
        data_vars["first_below"] = (lead_dims + ["threshold"], shaped(out["first_below"], 1),
                                    {"description": "first recorded step with loss <= threshold (-1: never)"})
        coords["threshold"] = plan.thresholds
    data_vars["diverged_at"] = (lead_dims, shaped(out["diverged_at"], 0),
                                {"description": "step at which the trajectory diverged and was frozen (-1: never)"})
    data_vars["diverged"] = (lead_dims, shaped(out["diverged_at"] >= 0, 0), {"description": "the trajectory diverged"})
    return xr.Dataset(data_vars, coords=coords, attrs=_attrs(plan, spec))


_TRAILING = {"loss": ["step"], "test_loss": ["step"], "grad_norm": ["step"], "dist": ["step"],
             "params": ["step", "param"], "eff_lr": ["step", "param"], "eff_lr_stats": ["step", "stat"],
             "state": ["step", "slot", "param"], "state_norm": ["step", "slot"], "final_loss": [],
             "min_loss": [], "argmin_step": [], "first_below": ["threshold"]}
_STAT_TEXT = {"mean": "mean over replicates of", "std": "standard deviation (ddof=1) over replicates of",
              "quantile": "quantiles over replicates of"}


def assemble_reduced(plan, layout, out, spec, reducer):
    """The labelled Dataset of a sweep reduced over replicates (see :mod:`optsim.reduce`)."""
    import xarray as xr

    lead_dims, lead_shape, coords = _layout_coords(plan, layout)
    lead_dims, lead_shape = lead_dims[:-1], lead_shape[:-1]
    del coords["replicate"]
    if {"params", "eff_lr", "state"} & set(plan.record):
        coords["param"] = _coord_names(plan, layout)
    if {"state", "state_norm"} & set(plan.record):
        coords["slot"] = _slot_names(plan, layout)
    if "eff_lr_stats" in plan.record:
        coords["stat"] = ["min", "mean", "max"]
    if plan.thresholds.size:
        coords["threshold"] = plan.thresholds
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
            what = RECORDABLE.get(base, base.replace("_", " "))
            if base == "first_below":
                what = "first recorded step with loss <= threshold (inf: never)"
            text = f"{_STAT_TEXT[stat]} {what}"
        data_vars[key] = (dims, arr.reshape(tuple(lead_shape) + arr.shape[1:]), {"description": text})
    coords["step"] = plan.rec_steps
    ds = xr.Dataset(data_vars, coords=coords, attrs=_attrs(plan, spec))
    ds.attrs["reduced_over"] = "replicate"
    ds.attrs["replicates"] = int(layout["replicates"])
    return ds
