"""Every registered optimizer, schedule, problem and noise model, by name.

A component is registered by being exported (``__all__``) from its role's subpackage
(:mod:`optsim.optimizers`, :mod:`optsim.schedules`, :mod:`optsim.problems`,
:mod:`optsim.noise`) with a ``name``.  Configuration files and the CLI refer to
components by these names.
"""

from __future__ import annotations

from ._components import ParameterError, closest

__all__ = ["ROLES", "components", "get", "build", "schedulable"]

ROLES = ("optimizer", "schedule", "problem", "noise")


def _module(role):
    from . import noise, optimizers, problems, schedules

    return {"optimizer": optimizers, "schedule": schedules, "problem": problems, "noise": noise}[role]


def components(role) -> dict:
    """{name: class} of the registered components of ``role``."""
    if role not in ROLES:
        raise ParameterError(f"role {role!r} is not one of {', '.join(ROLES)}")
    mod = _module(role)
    out = {}
    for attr in getattr(mod, "__all__", []):
        cls = getattr(mod, attr)
        if isinstance(cls, type) and getattr(cls, "role", None) == role and getattr(cls, "name", ""):
            out[cls.name] = cls
    return out


def schedulable() -> dict:
    """{name: hyperparameters} of the registered optimizers: the hyperparameters each can
    make follow a schedule (``sweep(..., schedules={name: Schedule})``, ``[schedules.<name>]``
    in a configuration), besides the learning rate (``schedule=``)."""
    return {name: tuple(cls.schedulable_names()) for name, cls in components("optimizer").items()}


CAUTIOUS_PREFIX = "cautious_"


def get(role, name):
    """The class registered as ``name`` for ``role`` (with a suggestion if misspelt).

    ``cautious_<rule>`` and ``cautious_exact_<rule>`` name the cautious forms of a registered
    optimizer (:func:`optsim.optimizers.Cautious`), made on first use."""
    table = components(role)
    if role == "optimizer" and name not in table and isinstance(name, str) and name.startswith(CAUTIOUS_PREFIX):
        rest = name[len(CAUTIOUS_PREFIX):]
        exact = rest.startswith("exact_") and rest[len("exact_"):] in table
        if exact or rest in table:
            from .optimizers.cautious import cautious_class

            return cautious_class(table[rest[len("exact_"):]] if exact else table[rest], exact)
    if name not in table:
        raise ParameterError(
            f"no {role} named {name!r}{closest(name, table)}; registered: {', '.join(sorted(table))}"
        )
    return table[name]


def build(role, spec):
    """A component from a dict ``{"name": ..., <parameters>}`` (children as nested dicts)."""
    if isinstance(spec, str):
        spec = {"name": spec}
    spec = dict(spec)
    if "name" not in spec:
        raise ParameterError(f"a {role} needs a 'name' (one of {', '.join(sorted(components(role)))})")
    cls = get(role, spec.pop("name"))
    for key, child_role in cls.children_roles.items():
        if key in spec and isinstance(spec[key], (dict, str)):
            spec[key] = build(child_role, spec[key])
    return cls(**spec)
