"""``optsim.sweep``: many trajectories over a grid of hyperparameters, as an xarray Dataset."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np

from . import _provenance
from ._components import Component, OptsimError, ParameterError, closest
from ._roles import Noise, Optimizer, Problem, Schedule
from .engine.codegen import KernelSpec
from .engine.plan import RECORDABLE, Group, Plan

__all__ = ["sweep", "build_plan", "Method", "MemoryLimitError", "assemble", "run_chunked"]


class MemoryLimitError(OptsimError, MemoryError):
    """A sweep whose results would not fit in memory (raised before allocating)."""


class Method:
    """An optimizer with its schedule: one entry along the ``optimizer`` dimension.

    ``schedules`` makes hyperparameters other than the learning rate follow a schedule:
    ``{"beta1": CosineAnnealing(T_max=100)}`` gives beta1 the value the schedule computes
    from the optimizer's own beta1, as ``schedule`` computes the rate from ``lr``.  Any
    numeric hyperparameter can (``type(optimizer).schedulable_names()``), and a grid over
    these schedules' parameters (``"schedules.beta1.T_max"``) never recompiles.
    """

    def __init__(self, optimizer, schedule=None, schedules=None):
        if not isinstance(optimizer, Optimizer):
            raise ParameterError(f"optimizer must be an optsim optimizer, got {optimizer!r}")
        if schedule is not None and not isinstance(schedule, Schedule):
            raise ParameterError(f"schedule must be an optsim schedule, got {schedule!r}")
        self.optimizer = optimizer
        self.schedule = schedule
        self.schedules = optimizer.check_schedules(schedules)


# -- validation helpers ------------------------------------------------------------------


def _check_int(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
        high is not None and value > high
    ):
        rng = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ParameterError(f"{name}={value!r} is not allowed; {name} must be an integer {rng}")
    return int(value)


def _methods(optimizer, schedule, schedules=None):
    """The methods as an ordered {label: Method} and whether there is an optimizer axis."""
    default_schedule = (schedule, schedules)
    if isinstance(optimizer, (Optimizer, Method)) or (
        isinstance(optimizer, tuple) and len(optimizer) == 2 and isinstance(optimizer[0], Optimizer)
    ):
        return {"": _as_method(optimizer, default_schedule)}, False
    if isinstance(optimizer, Mapping):
        items = list(optimizer.items())
    elif isinstance(optimizer, Sequence) and not isinstance(optimizer, str):
        items = []
        for o in optimizer:
            m = _as_method(o, default_schedule)
            items.append((m.optimizer.name or type(m.optimizer).__name__.lower(), m))
        labels = [k for k, _ in items]
        if len(set(labels)) != len(labels):
            raise ParameterError(
                "optimizer: two entries share the label "
                f"{[l for l in labels if labels.count(l) > 1][0]!r}; pass a dict {{label: optimizer}}"
            )
    else:
        raise ParameterError(
            f"optimizer must be an optimizer, a list of optimizers or a dict {{label: optimizer}}, got {optimizer!r}"
        )
    if not items:
        raise ParameterError("optimizer: give at least one optimizer")
    return {str(k): _as_method(v, default_schedule) for k, v in items}, True


def _as_method(o, default_schedule):
    schedule, schedules = default_schedule
    if isinstance(o, Method):
        return Method(o.optimizer, o.schedule or schedule, o.schedules or schedules)
    if isinstance(o, tuple) and len(o) == 2:
        return Method(o[0], o[1], schedules)
    return Method(o, schedule, schedules)


def _schedule_tree(schedule):
    """Post-order list of (path, node): children are evaluated before their parent."""
    return schedule.tree()


def _locations(method, noises, problem):
    """{qualified name: (location, Param)} for every parameter of a method."""
    locs = {}
    for p in method.optimizer.params:
        locs[f"optimizer.{p.name}"] = (("optimizer",), p)
    for path, node in _schedule_tree(method.schedule):
        prefix = ".".join(("schedule",) + path)
        for p in node.params:
            locs[f"{prefix}.{p.name}"] = (("schedule",) + path, p)
    for name, sched in method.schedules.items():
        for path, node in _schedule_tree(sched):
            loc = ("schedules", name) + path
            for p in node.params:
                locs[f"{'.'.join(loc)}.{p.name}"] = (loc, p)
    for j, nz in enumerate(noises):
        prefix = "noise" if len(noises) == 1 else f"noise.{j}"
        for p in nz.params:
            locs[f"{prefix}.{p.name}"] = (("noise", j), p)
    for p in problem.params:
        locs[f"problem.{p.name}"] = (("problem",), p)
    return locs


def _resolve(name, locs, label):
    if name in locs:
        return name
    matches = [q for q in locs if q.endswith("." + name)]
    if len(matches) == 1:
        return matches[0]
    where = f" of method {label!r}" if label else ""
    if not matches:
        short = sorted({q.rsplit(".", 1)[1] for q in locs} | set(locs))
        raise ParameterError(f"grid axis {name!r} is not a parameter{where}{closest(name, short)}")
    raise ParameterError(
        f"grid axis {name!r} is ambiguous{where}: it could be {', '.join(sorted(matches))}; use the full name"
    )


def _get(components, loc):
    kind = loc[0]
    if kind == "optimizer":
        return components["optimizer"]
    if kind == "problem":
        return components["problem"]
    if kind == "noise":
        return components["noise"][loc[1]]
    if kind == "schedules":
        node, loc = components["schedules"][loc[1]], loc[1:]
    else:
        node = components["schedule"]
    for key in loc[1:]:
        node = node.children_map[key]
    return node


def _set(components, loc, new):
    out = dict(components)
    kind = loc[0]
    if kind in ("optimizer", "problem"):
        out[kind] = new
    elif kind == "noise":
        nz = list(out["noise"])
        nz[loc[1]] = new
        out["noise"] = tuple(nz)
    else:
        def rebuild(node, path):
            if not path:
                return new
            return node.replace(**{path[0]: rebuild(node.children_map[path[0]], path[1:])})

        if kind == "schedules":
            out["schedules"] = dict(out["schedules"])
            out["schedules"][loc[1]] = rebuild(out["schedules"][loc[1]], loc[2:])
        else:
            out["schedule"] = rebuild(out["schedule"], loc[1:])
    return out


# -- the grid ----------------------------------------------------------------------------


class _Axis:
    def __init__(self, dim, names, values):
        self.dim = dim
        self.names = names  # parameter names set by this axis
        self.values = values  # list of tuples, one per position, aligned with names


def _axes(grid):
    axes = []
    if grid is None:
        return axes
    if not isinstance(grid, Mapping):
        raise ParameterError(f"grid must be a dict {{name: values}}, got {type(grid).__name__}")
    for key, values in grid.items():
        if isinstance(key, str) and "," in key:
            key = tuple(k.strip() for k in key.split(","))
        if isinstance(key, tuple):
            names = key
            vals = [tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else (v,) for v in values]
            for v in vals:
                if len(v) != len(names):
                    raise ParameterError(
                        f"grid axis {key!r}: every entry must give {len(names)} values ({', '.join(names)}), got {v!r}"
                    )
            dim = "_".join(names)
        else:
            names = (key,)
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
                raise ParameterError(f"grid axis {key!r} must be a sequence of values, got {values!r}")
            vals = [(v.item() if isinstance(v, np.generic) else v,) for v in values]
            dim = key
        if len(vals) == 0:
            raise ParameterError(f"grid axis {key!r} has no values")
        axes.append(_Axis(dim, names, vals))
    dims = [a.dim for a in axes]
    if len(set(dims)) != len(dims):
        raise ParameterError(f"grid axes repeat a name: {dims}")
    return axes


def _record_steps(steps, record_every, record_steps):
    if record_steps is not None:
        rs = np.unique(np.asarray(record_steps, dtype=np.int64))
        if rs.size == 0 or rs[0] < 0 or rs[-1] > steps:
            raise ParameterError(f"record_steps must lie in [0, steps={steps}], got {list(record_steps)[:5]}...")
        return rs
    if record_every is None:
        record_every = max(1, steps // 100)
    record_every = _check_int("record_every", record_every, 1)
    rs = np.arange(0, steps + 1, record_every, dtype=np.int64)
    if rs[-1] != steps:
        rs = np.append(rs, steps)
    return rs


def _available_memory():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(b):
    return f"{b / 2**30:.2f} GiB" if b >= 2**28 else f"{b / 2**20:.1f} MiB"


# -- the plan ----------------------------------------------------------------------------


def build_plan(
    problem,
    optimizer,
    *,
    noise=None,
    schedule=None,
    grid=None,
    replicates=1,
    steps=100,
    record_every=None,
    record_steps=None,
    record=("loss",),
    thresholds=(),
    seed=0,
    common_random_numbers=True,
    diverge_factor=1e8,
    x_bound=None,
    schedules=None,
):
    """Validate a sweep and flatten it into a :class:`Plan` (no results allocated).

    Returns ``(plan, layout)`` where ``layout`` describes the Dataset's dimensions.
    """
    if not isinstance(problem, Problem):
        raise ParameterError(f"problem must be an optsim problem (see optsim.problems), got {problem!r}")
    from .schedules import Constant

    schedule = Constant() if schedule is None else schedule
    if not isinstance(schedule, Schedule):
        raise ParameterError(f"schedule must be an optsim schedule (see optsim.schedules), got {schedule!r}")
    if noise is None:
        noises = ()
    elif isinstance(noise, Noise):
        noises = (noise,)
    elif isinstance(noise, Sequence) and all(isinstance(n, Noise) for n in noise):
        noises = tuple(noise)
    else:
        raise ParameterError(f"noise must be a noise model or a list of them (see optsim.noise), got {noise!r}")
    for j, nz in enumerate(noises):
        if nz.kind == "minibatch" and j != 0:
            raise ParameterError("noise: minibatch sampling must come first in the list of noise models")
        if nz.kind == "minibatch" and problem.n_samples() is None:
            raise ParameterError(f"noise: {type(problem).__name__} has no dataset to sample minibatches from")
    steps = _check_int("steps", steps, 1)
    replicates = _check_int("replicates", replicates, 1)
    seed = _check_int("seed", seed, 0, 2**64 - 1)
    rec_steps = _record_steps(steps, record_every, record_steps)
    if isinstance(record, str):
        record = (record,)
    record = tuple(record)
    for r in record:
        if r not in RECORDABLE:
            raise ParameterError(f"record: {r!r} is not recordable{closest(r, RECORDABLE)}; choose from {', '.join(RECORDABLE)}")
    if "test_loss" in record and "test_loss" not in type(problem).kernels:
        raise ParameterError(f"record: {type(problem).__name__} has no test set, so 'test_loss' cannot be recorded")
    if "dist" in record and "distance" not in type(problem).kernels and problem.optimum() is None:
        raise ParameterError(f"record: {type(problem).__name__} does not know its optimum, so 'dist' cannot be recorded")
    thresholds = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if not (isinstance(diverge_factor, (int, float)) and diverge_factor > 0):
        raise ParameterError(f"diverge_factor={diverge_factor!r} is not allowed; it must be a number > 0")
    x_bound = math.inf if x_bound is None else float(x_bound)
    if not x_bound > 0:
        raise ParameterError(f"x_bound={x_bound!r} is not allowed; it must be a number > 0 or None")

    methods, has_opt_axis = _methods(optimizer, schedule, schedules)
    axes = _axes(grid)
    if has_opt_axis and any(a.dim == "optimizer" for a in axes):
        raise ParameterError("grid: 'optimizer' is the dimension of the methods; name the axis differently")

    # Resolve every grid name in every method, and check every value once.
    resolved = {}  # (label, axis index, member index) -> (location, Param)
    for label, m in methods.items():
        locs = _locations(m, noises, problem)
        for ai, ax in enumerate(axes):
            for mi, name in enumerate(ax.names):
                q = _resolve(name, locs, label)
                loc, param = locs[q]
                owner = type(_get({"optimizer": m.optimizer, "schedule": m.schedule, "noise": noises,
                                   "problem": problem, "schedules": m.schedules}, loc)).__name__
                for v in ax.values:
                    param.check(v[mi], owner)
                resolved[(label, ai, mi)] = (loc, param)

    cell_shape = tuple(len(a.values) for a in axes)
    n_cells = int(np.prod(cell_shape)) if axes else 1
    n_methods = len(methods)
    n_traj = n_methods * n_cells * replicates

    # Group cells by everything that is not a dynamic value: method and static values.
    groups = []
    dims = {problem.dimension()}
    slots = set()
    for mi_, (label, m) in enumerate(methods.items()):
        base = {"optimizer": m.optimizer, "schedule": m.schedule, "noise": noises, "problem": problem,
                "schedules": m.schedules}
        static_axes = [
            (ai, mi) for ai, ax in enumerate(axes) for mi in range(len(ax.names))
            if not resolved[(label, ai, mi)][1].dynamic
        ]
        dynamic_axes = [
            (ai, mi) for ai, ax in enumerate(axes) for mi in range(len(ax.names))
            if resolved[(label, ai, mi)][1].dynamic
        ]
        static_dims = sorted({ai for ai, _ in static_axes})
        cells = np.arange(n_cells).reshape(cell_shape) if axes else np.zeros((), dtype=int)
        for combo in itertools.product(*[range(cell_shape[ai]) for ai in static_dims]):
            comps = base
            edits = {}
            for ai, mi in static_axes:
                pos = combo[static_dims.index(ai)]
                loc, param = resolved[(label, ai, mi)]
                edits.setdefault(loc, {})[param.name] = axes[ai].values[pos][mi]
            for loc, kw in edits.items():
                comps = _set(comps, loc, _get(comps, loc).replace(**kw))
            # the cells of this static combination
            index = [slice(None)] * len(axes)
            for ai, pos in zip(static_dims, combo):
                index[ai] = pos
            sub = cells[tuple(index)] if axes else cells
            cell_ids = np.asarray(sub).ravel()
            groups.append(
                _make_group(comps, label, mi_, cell_ids, cell_shape, axes, dynamic_axes, resolved,
                            n_cells, replicates, common_random_numbers, "dist" in record)
            )
            dims.add(comps["problem"].dimension())
            slots.add(type(comps["optimizer"]).slots)
    if len(dims) > 1 and ({"params", "eff_lr", "state"} & set(record)):
        raise ParameterError("record: the problem's dimension varies over the grid, so per-coordinate records "
                             "('params', 'eff_lr', 'state') cannot share one array; record them in separate sweeps")
    plan = Plan(groups, n_traj, steps, rec_steps, record, thresholds, seed, diverge_factor, x_bound,
                dim=max(dims), n_slots=max(slots), replicates=replicates)
    layout = {
        "methods": methods,
        "has_opt_axis": has_opt_axis,
        "axes": axes,
        "replicates": replicates,
        "problem": problem,
        "noises": noises,
    }
    return plan, layout


def _make_group(comps, label, method_index, cell_ids, cell_shape, axes, dynamic_axes, resolved,
                n_cells, replicates, crn, need_optimum):
    problem, noises, opt, sched = comps["problem"], comps["noise"], comps["optimizer"], comps["schedule"]
    tree = _schedule_tree(sched)
    # Every schedule node, (location, node, target): the trees of the scheduled
    # hyperparameters (target: the hyperparameter's column), then the learning rate's.
    nodes = [(("schedules", name) + path, node, opt.dynamic_names().index(name))
             for name, s in comps["schedules"].items() for path, node in _schedule_tree(s)]
    nodes += [(("schedule",) + path, node, None) for path, node in tree]
    # Column of each schedule node's row inside the schedule row.
    offsets = {}
    off = 0
    for loc, node, _ in nodes:
        offsets[loc] = off
        off += len(node.dynamic_names())
    noise_offsets = []
    off = 0
    for nz in noises:
        noise_offsets.append(off)
        off += len(nz.dynamic_names())

    nc = cell_ids.shape[0]
    hpo = np.tile(opt.row(), (nc, 1))
    hps = np.tile(np.concatenate([n.row() for _, n, _ in nodes]) if nodes else np.zeros(0), (nc, 1))
    hpn = np.tile(np.concatenate([n.row() for n in noises]) if noises else np.zeros(0), (nc, 1))
    hpp = np.tile(problem.row(), (nc, 1))
    if hps.shape[1] == 0:
        hps = np.zeros((nc, 1))
    if hpn.shape[1] == 0:
        hpn = np.zeros((nc, 1))
    if hpp.shape[1] == 0:
        hpp = np.zeros((nc, 1))

    multi = np.array(np.unravel_index(cell_ids, cell_shape)) if axes else np.zeros((0, nc), dtype=int)
    touched = {}  # location -> {param name: column values}
    for ai, mi in dynamic_axes:
        loc, param = resolved[(label, ai, mi)]
        vals = np.array([param.pack(axes[ai].values[p][mi]) for p in multi[ai]], dtype=np.float64)
        comp = _get(comps, loc)
        col = comp.dynamic_names().index(param.name)
        if loc[0] == "optimizer":
            hpo[:, col] = vals
        elif loc[0] == "problem":
            hpp[:, col] = vals
        elif loc[0] == "noise":
            hpn[:, noise_offsets[loc[1]] + col] = vals
        else:
            hps[:, offsets[loc] + col] = vals
        touched.setdefault(loc, []).append((param.name, ai, mi))
    # Cross-parameter checks of each touched component (and a noise model's checks against
    # the problem, e.g. batch size <= examples), once per distinct combination of values.
    for loc, members in touched.items():
        comp = _get(comps, loc)
        is_noise = isinstance(comp, Noise)
        if type(comp)._validate is Component._validate and not is_noise:
            continue
        seen = set()
        for c in range(nc):
            kw = tuple((name, axes[ai].values[multi[ai][c]][mi]) for name, ai, mi in members)
            if kw not in seen:
                seen.add(kw)
                variant = comp.replace(**dict(kw))
                if is_noise:
                    variant.prepare(problem)

    # Trajectory order: method, cells (C order), replicate.
    reps = np.arange(replicates, dtype=np.int64)
    index = ((method_index * n_cells + cell_ids)[:, None] * replicates + reps[None, :]).ravel()
    rep = np.tile(reps, nc)
    if crn:
        cell = np.zeros(nc * replicates, dtype=np.int64)
    else:
        cell = np.repeat(method_index * n_cells + cell_ids + 1, replicates).astype(np.int64)
    expand = lambda a: np.ascontiguousarray(np.repeat(a, replicates, axis=0))  # noqa: E731

    for _, node in tree:
        if "momentum" in type(node).kernels and node.values.get("cycle_momentum", True) \
                and type(opt).momentum_param is None:
            raise ParameterError(
                f"{type(node).__name__}: cycle_momentum=True needs an optimizer with momentum "
                f"(SGD momentum, Adam beta1); {type(opt).__name__} has none: set cycle_momentum=False"
            )
        if "momentum" in type(node).kernels and node.values.get("cycle_momentum", True) \
                and type(opt).momentum_param in comps["schedules"]:
            raise ParameterError(
                f"schedules: {type(opt).momentum_param} follows a schedule and {type(node).__name__} cycles it "
                f"too; set cycle_momentum=False or schedule it in one place")
    pdata = tuple(np.ascontiguousarray(a) for a in problem.data())
    ndata = tuple(tuple(np.ascontiguousarray(a) for a in n.prepare(problem)) for n in noises)
    spec = KernelSpec(type(problem), tuple(type(n) for n in noises), type(opt),
                      tuple(_node_entries(nodes)), n_pdata=len(pdata), n_ndata=tuple(len(t) for t in ndata),
                      data_sig=tuple((a.dtype.name, a.ndim) for a in (*pdata, *(a for t in ndata for a in t))))
    # only a distance record reads the optimum (some problems solve for it)
    xstar = problem.optimum() if need_optimum and "distance" not in type(problem).kernels else None
    return Group(
        spec=spec, problem=problem, noises=noises, optimizer=opt, schedule_nodes=tuple(n for _, n, _ in nodes),
        index=index.astype(np.int64), hpo=expand(hpo), hps=expand(hps), hpn=expand(hpn), hpp=expand(hpp),
        rep=rep, cell=cell,
        x0=np.ascontiguousarray(np.asarray(problem.start_point(), dtype=np.float64).reshape(1, -1)),
        pdata=pdata,
        ndata=ndata,
        xstar=np.zeros(0) if xstar is None else np.asarray(xstar, dtype=np.float64).ravel(),
    )


def _node_entries(nodes):
    """(class, index of the child whose value it wraps or -1, target) per node of
    ``(location, node, target)``, in evaluation order."""
    entries = []
    position = {loc: i for i, (loc, _, _) in enumerate(nodes)}
    for loc, node, target in nodes:
        child = -1
        if type(node).wraps:
            kids = list(node.children_map)
            child = position[loc + (kids[0],)]
        entries.append((type(node), child, target))
    return entries


# -- assembling the Dataset ----------------------------------------------------------------


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


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    return obj


def spec_hash(spec):
    """A short, stable hash of a sweep's spec (what makes two result files comparable)."""
    text = json.dumps(_jsonable(spec), sort_keys=True)
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
    attrs["optsim_spec"] = json.dumps(_jsonable(spec), sort_keys=True)
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


# -- the public entry point ---------------------------------------------------------------


def sweep(
    problem,
    optimizer,
    *,
    noise=None,
    schedule=None,
    grid=None,
    replicates=1,
    steps=100,
    record_every=None,
    record_steps=None,
    record=("loss",),
    thresholds=(),
    seed=0,
    common_random_numbers=True,
    diverge_factor=1e8,
    x_bound=None,
    threads=None,
    chunk_size=None,
    max_memory=None,
    progress=None,
    out_dir=None,
    resume=False,
    overwrite=False,
    client=None,
    reduce=None,
    quantiles=(0.1, 0.5, 0.9),
    schedules=None,
):
    """Run many optimizer trajectories over a grid of hyperparameters.

    Parameters
    ----------
    problem : optsim.problems.Problem
        The objective (with its starting point).
    optimizer : Optimizer, list of Optimizer, or dict {label: Optimizer or (Optimizer, Schedule)}
        One update rule, or several along an ``optimizer`` dimension.
    noise : Noise or list of Noise, optional
        How the exact gradient becomes the observed one (applied in order).  Default: none.
    schedule : Schedule, optional
        The learning-rate schedule (default constant); a method given as
        ``(optimizer, schedule)`` overrides it.
    schedules : dict {hyperparameter: Schedule}, optional
        Other hyperparameters that follow a schedule (``{"beta1": CosineAnnealing(T_max=100)}``),
        each from its own value as the rate from ``lr``; for the methods that do not give
        their own (:class:`Method`).  Their parameters can be gridded as
        ``"schedules.beta1.T_max"``, without recompiling.
    grid : dict, optional
        ``{name: values}`` axes, multiplied together.  ``name`` is any parameter of the
        optimizer, schedule, noise or problem (``"lr"``, ``"beta2"``, ``"sigma"``; qualify as
        ``"optimizer.lr"`` or ``"schedule.after.gamma"`` when ambiguous).  A tuple key
        ``("beta1", "beta2")`` or ``"beta1,beta2"`` is a zipped axis whose values are pairs.
    replicates : int
        Independent noise realisations per grid cell (dimension ``replicate``).
    steps : int
        Updates per trajectory.
    record_every, record_steps :
        Record every ``record_every`` steps (default: about 100 records), or at the listed
        steps.  Step 0 (the start) and the last step are always recorded.
    record : sequence of str
        What to record at those steps: any of ``optsim.RECORDABLE``.  ``()`` keeps only the
        summaries (``final_loss``, ``min_loss``, ``argmin_step``, ``first_below``,
        ``diverged_at``), for sweeps too large to keep curves.
    thresholds : sequence of float
        Loss levels for ``first_below`` (steps to reach each threshold).
    seed : int
        Root seed.  Every trajectory's random streams are keyed by (seed, replicate, stream)
        and, without common random numbers, by its grid cell.
    common_random_numbers : bool
        If True (default), replicate ``r`` sees the same noise in every cell and for every
        optimizer, so differences between cells are not seed noise.
    diverge_factor, x_bound :
        A trajectory is frozen and flagged (``diverged_at``) when its loss is non-finite or
        exceeds ``diverge_factor * max(1, |f(x0)|)`` in absolute value, or when a coordinate
        leaves ``[-x_bound, x_bound]``.  The sweep goes on.
    threads : int, optional
        Cores to use (default: numba's thread count, ``NUMBA_NUM_THREADS``).
    chunk_size : int, optional
        Run at most this many trajectories per kernel call (results are identical).  With
        ``out_dir`` or ``client`` the default is automatic: a chunk is about 1e7
        trajectory-steps x dimension (a second or a few on one core).
    max_memory : int, optional
        Bytes the results may take (default: the memory available now).
    progress : bool, optional
        Show a progress bar (over trajectories, or over chunks with ``client``); default:
        when stderr is a terminal.
    out_dir : path, optional
        Keep each finished chunk in ``out_dir/chunks/`` (atomically), the spec in
        ``out_dir/spec.json`` and the result in ``out_dir/result.nc``, so that an interrupted
        sweep (Ctrl-C, a killed process, a lost machine) can be resumed.
    resume : bool
        With ``out_dir``: compute only the chunks not on disk yet.  A directory written for a
        different spec is refused.
    overwrite : bool
        With ``out_dir``: discard what the directory holds and start again.
    client : dask.distributed.Client, str, optional
        Run the chunks as Dask tasks: a ``Client``, a scheduler address
        (``"tcp://host:8786"``), or ``"local:N"`` for N local worker processes (started and
        closed here).  Needs ``pip install "optsim[dask]"``.  Results are identical.
        Default: the client of an enclosing ``optsim.distributed.default_client(...)`` block.
        ``threads`` applies to local runs only (a task uses one core of its worker).
    reduce : str or sequence of str, optional
        Reduce over replicates on the fly and keep only the statistics: any of ``"mean"``,
        ``"std"``, ``"quantiles"`` (e.g. ``("mean", "quantiles")`` or ``"mean,std"``).  For
        sweeps whose curves do not fit in memory: chunks of whole cells are reduced as they
        finish (on the workers with ``client``), and the result holds ``loss_mean``,
        ``loss_quantile`` (dimension ``quantile``), ``final_loss_mean``,
        ``diverged_fraction``, ``first_below_fraction`` ... without a ``replicate``
        dimension (see :mod:`optsim.reduce`).  Exact: equal to reducing the full result.
    quantiles : sequence of float
        The quantile levels of ``reduce="quantiles"`` (default 0.1, 0.5, 0.9).

    Returns
    -------
    xarray.Dataset
        Dimensions ``[optimizer,] <grid axes>, replicate, step`` (plus ``param``, ``slot``,
        ``stat``, ``threshold`` where needed; ``quantile`` and no ``replicate`` with
        ``reduce``); the full spec, seed, versions and git revision in ``attrs``.
    """
    from .reduce import Reducer, check_reduce

    stats, qs = check_reduce(reduce, quantiles)
    kwargs = dict(common_random_numbers=bool(common_random_numbers))
    plan, layout = build_plan(
        problem, optimizer, noise=noise, schedule=schedule, grid=grid, replicates=replicates,
        steps=steps, record_every=record_every, record_steps=record_steps, record=record,
        thresholds=thresholds, seed=seed, common_random_numbers=common_random_numbers,
        diverge_factor=diverge_factor, x_bound=x_bound, schedules=schedules,
    )
    reducer = Reducer(plan, layout["replicates"], stats, qs) if stats else None
    if chunk_size is not None:
        _check_int("chunk_size", chunk_size, 1)
    check_memory(plan, max_memory, reducer=reducer, chunk_size=chunk_size)
    if threads is not None:
        import numba

        threads = _check_int("threads", threads, 1, numba.config.NUMBA_NUM_THREADS)
    spec = _spec_dict(plan, layout, kwargs)
    if reducer is not None:
        spec["reduce"] = list(stats)
        spec["quantiles"] = list(qs) if "quantiles" in stats else []
    if progress is None:
        import sys

        progress = sys.stderr.isatty()
    if client is None:
        from .distributed import current_client

        client = current_client()
    if out_dir is None and (resume or overwrite):
        raise ParameterError("resume and overwrite apply to out_dir=...; give the sweep's directory")
    if out_dir is None and client is None and reducer is None:
        out = run_plan(plan, threads=threads, chunk_size=chunk_size, progress=progress)
        return assemble(plan, layout, out, spec)
    from .store import ChunkStore

    store = None
    if out_dir is not None:
        store = ChunkStore(out_dir, spec, spec_hash(spec), resume=bool(resume), overwrite=bool(overwrite))
    out = run_chunked(plan, store=store, client=client, threads=threads, chunk_size=chunk_size,
                      progress=progress, reducer=reducer)
    if reducer is not None:
        ds = assemble_reduced(plan, layout, out, spec, reducer)
    else:
        ds = assemble(plan, layout, out, spec)
    if store is not None:
        from .io import save

        save(ds, store.result_path)
    return ds


def run_chunked(plan, store=None, client=None, threads=None, chunk_size=None, progress=False, reducer=None):
    """Run the chunks of ``plan`` not yet in ``store``, locally or on a Dask ``client``.

    Finished chunks are written to ``store`` as they complete; returns the flat outputs
    (with a ``reducer``: chunks of whole cells, reduced over replicates as they finish, and
    the per-cell statistics).
    """
    from .store import SweepInterrupted, auto_chunk_size, missing_chunks

    target = plan if reducer is None else reducer
    fit = (lambda n: n) if reducer is None else reducer.chunk_size
    out = target.allocate()
    done = store.load_into(target, out) if store is not None else []

    def keep(gi, start, stop, part):
        if store is not None:
            store.write(gi, start, stop, part)
        target.scatter(out, gi, start, stop, part)

    n_done = sum(stop - start for _, start, stop in done)
    try:
        if client is None:
            todo = missing_chunks(plan, done, fit(chunk_size or auto_chunk_size(plan)))
            plan.run(progress=progress, on_chunk=store.write if store is not None else None,
                     threads=threads, ranges=todo, out=out, done=n_done, reducer=reducer)
        else:
            from . import distributed as dist

            c, close = dist.connect(client)
            try:
                size = chunk_size
                if size is None:
                    spread = -(-plan.n_traj // (4 * dist.total_threads(c)))  # keep every core busy
                    size = max(1, min(auto_chunk_size(plan), spread))
                todo = missing_chunks(plan, done, fit(size))
                dist.run_chunks(c, plan, todo, keep, progress=progress, reducer=reducer)
            finally:
                close()
    except KeyboardInterrupt:
        if store is None:
            raise
        saved = len(store.finished())
        raise SweepInterrupted(
            f"interrupted; {saved} finished chunks are kept in {store.path}. Run the same sweep "
            f"again with resume=True (optsim sweep ... --out-dir {store.path} --resume) to compute "
            f"only the rest."
        ) from None
    return out


def run_plan(plan, threads=None, chunk_size=None, progress=False):
    """Run every trajectory of ``plan`` on ``threads`` cores (default: numba's thread count)."""
    return plan.run(chunk_size=chunk_size, progress=progress, threads=threads)


def check_memory(plan, max_memory=None, reducer=None, chunk_size=None):
    """Refuse, before allocating, a sweep whose results would not fit in memory.

    With a ``reducer`` the need is the per-cell statistics plus one chunk of raw outputs
    per running chunk.  The error proposes the ways out, with their sizes.
    """
    from .reduce import Reducer
    from .store import auto_chunk_size

    def chunk_bytes(red):
        size = red.chunk_size(chunk_size or auto_chunk_size(plan))
        return 2 * plan.output_bytes(min(size, plan.n_traj))  # the raw chunk and its reduction

    if reducer is None:
        need = plan.output_bytes() + plan.input_bytes()
    else:
        need = reducer.output_bytes() + chunk_bytes(reducer) + plan.input_bytes()
    limit = max_memory
    if limit is None:
        avail = _available_memory()
        limit = None if avail is None else int(0.8 * avail)
    if limit is not None and need > limit:
        R = plan.rec_steps.shape[0]
        what = (f"({plan.n_traj} trajectories x {R} recorded steps x {len(plan.record)} recorded "
                f"quantities, dimension {plan.dim})")
        if reducer is not None:
            raise MemoryLimitError(
                f"even reduced over replicates this sweep needs about {_gib(need)} {what}, more than "
                f"the {_gib(limit)} allowed. Record less often (a larger record_every, or "
                f"record_steps=[...]), fewer quantities, fewer statistics, or a smaller chunk_size."
            )
        proposals = []
        for stats in (("mean", "quantiles"), ("mean",)):
            red = Reducer(plan, plan.replicates, stats)
            proposals.append((stats, red.output_bytes() + chunk_bytes(red) + plan.input_bytes()))
        offer = "; ".join(f"reduce={tuple(st)!r} needs about {_gib(b)}" for st, b in proposals)
        raise MemoryLimitError(
            f"this sweep needs about {_gib(need)} for its results {what}, more than the "
            f"{_gib(limit)} allowed. Ways out: reduce over replicates on the fly and keep only "
            f"statistics ({offer}); record less often (a larger record_every, or "
            f"record_steps=[...]); record fewer quantities (record=('loss',)); keep only the "
            f"summaries (record=(), with thresholds=[...] for steps-to-threshold); or split the "
            f"grid into several sweeps, each with its own out_dir=... (finished chunks stream to "
            f"disk there and the sweep can be resumed; only its assembled result must fit)."
        )
    return need

