"""Validating a sweep and flattening it into a :class:`~optsim.engine.plan.Plan`: the kernel groups."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from .._components import Component, ParameterError
from .._roles import Noise, Problem, Schedule
from ..engine.codegen import KernelSpec
from ..engine.plan import Group, Plan, scalar_labels
from .._budget import MAX_STEPS, Budget, Extent, grid_value_bytes
from .grid import _axes, _grid_lengths, _record_count, _record_steps
from .keywords import takes
from .spec import _get, _locations, _methods, _resolve, _schedule_tree, _set

__all__ = ["build_plan"]


@takes("plan")
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

    Returns ``(plan, layout)`` where ``layout`` describes the Dataset's dimensions.  The
    keywords are those of :func:`optsim.sweep` that shape the plan (checked from the table
    of :mod:`optsim._sweep.keywords` before this body runs):

    Parameters
    ----------
    problem : optsim.problems.Problem
    optimizer : Optimizer, list of Optimizer, or dict {label: Optimizer or (Optimizer, Schedule)}
    {keywords}

    The plan's own arrays (per-trajectory rows, the grid's values, the problem's and noise
    models' data) are sized before any is made, and a plan that cannot fit in the memory
    available is refused with :class:`~optsim.MemoryLimitError` (see
    :mod:`optsim._budget`).
    """
    return _build_plan(problem, optimizer, Budget(results=False), noise=noise, schedule=schedule, grid=grid,
                       replicates=replicates, steps=steps, record_every=record_every, record_steps=record_steps,
                       record=record, thresholds=thresholds, seed=seed,
                       common_random_numbers=common_random_numbers, diverge_factor=diverge_factor,
                       x_bound=x_bound, schedules=schedules)


def _build_plan(problem, optimizer, budget, *, noise, schedule, grid, replicates, steps, record_every,
                record_steps, record, thresholds, seed, common_random_numbers, diverge_factor, x_bound,
                schedules):
    """:func:`build_plan` with its keywords already checked, refusing through ``budget``
    (a :class:`~optsim._budget.Budget`) what will not fit, before allocating it."""
    if not isinstance(problem, Problem):
        raise ParameterError(f"problem must be an optsim problem (see optsim.problems), got {problem!r}")
    from ..schedules import Constant

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
    # steps, replicates, seed, record, thresholds, diverge_factor and x_bound are checked
    # (and normalised) by their entries in the keyword table; what follows needs context.
    if steps > MAX_STEPS:
        raise ParameterError(
            f"steps={steps} is not allowed; steps must be an integer in [1, {MAX_STEPS}] (2**53: every step "
            f"count stays exact in float64; at a few nanoseconds an update such a run would take years)")
    n_records = _record_count(steps, record_every, record_steps)
    floor = problem.loss_floor()
    if floor is not None and thresholds.size and float(thresholds.min()) < floor:
        raise ParameterError(
            f"thresholds={thresholds.tolist()} is not allowed; {type(problem).__name__}'s loss is never below "
            f"{floor}, so no trajectory could reach {float(thresholds.min())!r}: give levels >= {floor}")
    if "test_loss" in record and "test_loss" not in type(problem).kernels:
        raise ParameterError(f"record: {type(problem).__name__} has no test set, so 'test_loss' cannot be recorded")
    if "dist" in record and "distance" not in type(problem).kernels and problem.optimum() is None:
        raise ParameterError(f"record: {type(problem).__name__} does not know its optimum, so 'dist' cannot be recorded")

    methods, has_opt_axis = _methods(optimizer, schedule, schedules)
    lengths = _grid_lengths(grid)
    if lengths is not None:  # (a grid _axes will refuse is not sized)
        # from the counts alone, before the grid's values are expanded
        n_cells = math.prod(n for n, _ in lengths)
        ext = Extent(len(methods) * n_cells * replicates, steps, n_records, record, thresholds,
                     problem.dimension(), max(type(m.optimizer).slots for m in methods.values()), replicates,
                     n_metrics=len(_metric_names([problem])) if "metrics" in record else 0,
                     n_scalars=len(_scalar_names([m.optimizer for m in methods.values()])) if "scalars" in record
                     else 0)
        declared = [problem.data_bytes()] + [nz.prepare_bytes(problem) for nz in noises]
        budget.check(ext, planning=sum(_planning_bytes(m, noises, problem, n_cells, replicates, len(lengths))
                                       for m in methods.values()),
                     data=16 * problem.dimension() + sum(b for b in declared if b is not None),
                     grid=grid_value_bytes(sum(n * k for n, k in lengths)), n_groups=len(methods),
                     largest_group=n_cells * replicates)
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
    pending = []  # the arguments of each group's _make_group
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
            pending.append((comps, label, mi_, cell_ids, dynamic_axes, m))
            dims.add(comps["problem"].dimension())
            slots.add(type(comps["optimizer"]).slots)
    if len(dims) > 1 and ({"params", "eff_lr", "state"} & set(record)):
        raise ParameterError("record: the problem's dimension varies over the grid, so per-coordinate records "
                             "('params', 'eff_lr', 'state') cannot share one array; record them in separate sweeps")
    # With every group's data: the whole estimate, before the first planning array is made.
    cache = {}  # the data of each problem and noise model, made (or sized) once for every group using it
    data = sum(_group_data_bytes(p[0], "dist" in record, cache) for p in pending)
    sizes = [p[3].shape[0] * replicates for p in pending]
    planning = sum(_planning_bytes(p[5], noises, p[0]["problem"], p[3].shape[0], replicates, len(axes))
                   for p in pending)
    metric_names = _metric_names([p[0]["problem"] for p in pending]) if "metrics" in record else ()
    scalar_names = _scalar_names([p[0]["optimizer"] for p in pending]) if "scalars" in record else ()
    ext = Extent(n_traj, steps, n_records, record, thresholds, max(dims), max(slots), replicates,
                 n_metrics=len(metric_names), n_scalars=len(scalar_names))
    budget.check(ext, planning=planning, data=data, grid=grid_value_bytes(sum(len(a.values) * len(a.names)
                                                                              for a in axes)),
                 n_groups=len(pending), largest_group=max(sizes),
                 samples=max(_samples(p[0]) for p in pending))
    _warn_long(n_traj, steps, max(dims))
    rec_steps = _record_steps(steps, record_every, record_steps)
    groups = [_make_group(comps, label, mi_, cell_ids, cell_shape, axes, dynamic_axes, resolved, n_cells,
                          replicates, common_random_numbers, "dist" in record, cache=cache)
              for comps, label, mi_, cell_ids, dynamic_axes, _ in pending]
    plan = Plan(groups, n_traj, steps, rec_steps, record, thresholds, seed, diverge_factor, x_bound,
                dim=max(dims), n_slots=max(slots), replicates=replicates, metric_names=metric_names,
                scalar_names=scalar_names)
    layout = {
        "methods": methods,
        "has_opt_axis": has_opt_axis,
        "axes": axes,
        "replicates": replicates,
        "problem": problem,
        "noises": noises,
    }
    return plan, layout


def _metric_names(problems):
    """The labels of the ``metric`` dimension: each position's name, joined with ``|``
    where the groups' problems name it differently (a gridded depth)."""
    names = []
    for prob in problems:
        for i, m in enumerate(prob.metric_names() if "metrics" in type(prob).kernels else ()):
            if len(names) <= i:
                names.append(m)
            elif m not in names[i].split("|"):
                names[i] = f"{names[i]}|{m}"
    return tuple(names)


def _scalar_names(optimizers):
    """The labels of the ``scalar`` dimension: every optimizer's scalar names, each once, in
    the order they first appear (a rule's value is NaN under the names it does not have)."""
    names = []
    for opt in optimizers:
        names += [s for s in scalar_labels(type(opt)) if s not in names]
    return tuple(names)


def _make_group(comps, label, method_index, cell_ids, cell_shape, axes, dynamic_axes, resolved,
                n_cells, replicates, crn, need_optimum, cache=None):
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
        cell = np.repeat(method_index * n_cells + cell_ids + 1, replicates).astype(np.int64, copy=False)
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
    blocks = problem.param_blocks()  # a one-line ParameterError for shapes that do not fit
    opt.check_problem(problem)  # a one-line ParameterError for a rule that cannot run on this problem
    cache = {} if cache is None else cache
    pdata = _problem_data(problem, cache)
    ndata = tuple(_noise_data(n, problem, cache) for n in noises)
    spec = KernelSpec(type(problem), tuple(type(n) for n in noises), type(opt),
                      tuple(_node_entries(nodes)), n_pdata=len(pdata), n_ndata=tuple(len(t) for t in ndata),
                      data_sig=tuple((a.dtype.name, a.ndim) for a in (*pdata, *(a for t in ndata for a in t))))
    # only a distance record reads the optimum (some problems solve for it)
    xstar = _optimum(problem, cache) if need_optimum and "distance" not in type(problem).kernels else None
    return Group(
        spec=spec, problem=problem, noises=noises, optimizer=opt, schedule_nodes=tuple(n for _, n, _ in nodes),
        index=index.astype(np.int64, copy=False), hpo=expand(hpo), hps=expand(hps), hpn=expand(hpn), hpp=expand(hpp),
        rep=rep, cell=cell,
        x0=np.ascontiguousarray(np.asarray(problem.start_point(), dtype=np.float64).reshape(1, -1)),
        pdata=pdata,
        ndata=ndata,
        xstar=np.zeros(0) if xstar is None else np.asarray(xstar, dtype=np.float64).ravel(),
        blocks=blocks,
    )


def _planning_bytes(method, noises, problem, n_cells, replicates, n_axes):
    """Bytes of the planning arrays of ``n_cells`` cells of ``method`` (see :func:`_make_group`):
    the rows of hyperparameters, replicate, cell and position per trajectory, the per-cell
    rows they are repeated from, and the temporaries of the positions."""
    width = len(method.optimizer.dynamic_names())
    nodes = [n for s in method.schedules.values() for _, n in _schedule_tree(s)]
    nodes += [n for _, n in _schedule_tree(method.schedule)]
    width += max(1, sum(len(n.dynamic_names()) for n in nodes))
    width += max(1, sum(len(n.dynamic_names()) for n in noises))
    width += max(1, len(problem.dynamic_names()))
    n = n_cells * replicates
    return 8 * n * (width + 3) + 8 * n + n_cells * (8 * width + 8 * n_axes + 56)


def _samples(comps):
    """The examples a group's minibatch sampler permutes (0: none)."""
    noises = comps["noise"]
    if noises and noises[0].kind == "minibatch":
        return int(comps["problem"].n_samples() or 0)
    return 0


def _sized(arrays):
    return sum(int(np.asarray(a).nbytes) for a in arrays)


def _problem_data(problem, cache):
    """``problem.data()`` as contiguous arrays, made once per problem (``cache``)."""
    key = ("data", id(problem))
    if key not in cache:
        with np.errstate(over="ignore", invalid="ignore"):
            pdata = tuple(np.ascontiguousarray(a) for a in problem.data())
        _check_finite_data(problem, pdata)
        cache[key] = (problem, pdata)
    return cache[key][1]


def _noise_data(noise, problem, cache):
    """``noise.prepare(problem)`` as contiguous arrays, made once per noise model and problem."""
    key = ("prepare", id(noise), id(problem))
    if key not in cache:
        cache[key] = ((noise, problem), tuple(np.ascontiguousarray(a) for a in noise.prepare(problem)))
    return cache[key][1]


def _optimum(problem, cache):
    key = ("optimum", id(problem))
    if key not in cache:
        cache[key] = (problem, problem.optimum())
    return cache[key][1]


def _group_data_bytes(comps, need_optimum, cache):
    """Bytes of the data of one group that are not already counted in ``cache``: the
    problem's and noise models' arrays (from ``Problem.data_bytes`` and
    ``Noise.prepare_bytes``, or, where a component does not size its data, by making it
    once, kept in ``cache`` for the group), the start point and the optimum."""
    problem, noises = comps["problem"], comps["noise"]
    d = problem.dimension()
    total = 8 * d  # the start point
    sized = cache.setdefault("sized", {})
    if ("data", id(problem)) not in sized:
        b = problem.data_bytes()
        sized[("data", id(problem))] = b if b is not None else _sized(_problem_data(problem, cache))
        total += sized[("data", id(problem))]
        if need_optimum and "distance" not in type(problem).kernels:
            total += 8 * d + sized[("data", id(problem))]  # (solving for it may rebuild the data)
    for nz in noises:
        key = ("prepare", id(nz), id(problem))
        if key not in sized:
            b = nz.prepare_bytes(problem)
            sized[key] = b if b is not None else _sized(_noise_data(nz, problem, cache))
            total += sized[key]
    return total


def _warn_long(n_traj, steps, dim):
    """Warn, before it starts, of a sweep of more than ``LONG_WORK`` coordinate updates."""
    from .._budget import LONG_WORK

    work = n_traj * steps * max(1, dim)
    if work > LONG_WORK:
        import warnings

        warnings.warn(
            f"this sweep makes {work:.3g} coordinate updates ({n_traj} trajectories x {steps} steps x "
            f"dimension {dim}): at about 10^9 a second per core, {work / 1e9 / 3600:.3g} core-hours. Give "
            f"out_dir=... to keep finished chunks (Ctrl-C, then resume=True), or fewer steps or trajectories.",
            stacklevel=4)


def _check_finite_data(problem, pdata):
    """Refuse a problem whose parameters make its data overflow float64 (e.g. a label noise
    of 1e308): every trajectory would run on infinities."""
    if all(a.dtype.kind != "f" or np.all(np.isfinite(a)) for a in pdata):
        return
    given = ", ".join(f"{p.name}={problem.values[p.name]!r}" for p in problem.params
                      if not p.dynamic and p.kind in ("float", "int")
                      and problem.values[p.name] is not None and problem.values[p.name] != p.default)
    raise ParameterError(f"{type(problem).__name__}: its data overflow float64 with these parameters "
                         f"({given or 'the defaults'}); use smaller values")


def _node_entries(nodes):
    """(class, index of the child whose value it wraps or -1, target, index of the parent or
    -1, position among the parent's children) per node of ``(location, node, target)``, in
    evaluation order."""
    entries = []
    position = {loc: i for i, (loc, _, _) in enumerate(nodes)}
    for loc, node, target in nodes:
        child = -1
        if type(node).wraps:
            kids = list(node.children_map)
            child = position[loc + (kids[0],)]
        up = position.get(loc[:-1], -1)
        slot = list(nodes[up][1].children_map).index(loc[-1]) if up >= 0 else 0
        entries.append((type(node), child, target, up, slot))
    return entries
