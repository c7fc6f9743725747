"""Methods and the parameters of components: what a grid axis names and where it lives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._components import ParameterError, closest
from .._roles import Optimizer, Schedule

__all__ = ["Method"]


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
