"""Sweep configurations in TOML: a file in, the keyword arguments of :func:`optsim.sweep` out.

A configuration names every component by its registered name (``optsim list`` shows them
all) and gives its parameters next to the name::

    [problem]
    name = "quadratic"
    curvatures = [1.0, 100.0]
    x0 = [1.0, 1.0]

    [[noise]]                 # zero or more, applied in order ([noise] for just one)
    name = "gaussian"
    sigma = 1.0

    [optimizer]               # one optimizer ...
    name = "adam"

    # ... or several, along the ``optimizer`` dimension, each with an optional schedule:
    # [optimizers.momentum]
    # name = "sgd"
    # momentum = 0.9
    # [optimizers.momentum.schedule]
    # name = "step"
    # [optimizers.momentum.schedules.momentum]   # its own scheduled hyperparameters
    # name = "cosine"
    # T_max = 2000

    [schedule]                # optional; the default for every optimizer
    name = "constant"

    [schedules.beta1]         # optional: other hyperparameters that follow a schedule,
    name = "cosine"           # each from its own value (the default for every optimizer)
    T_max = 2000

    [grid]                    # axes, multiplied together
    lr = { logspace = [-4, 0, 64] }          # also linspace, geomspace, values, or a list
    "beta1,beta2" = [[0.9, 0.999], [0.0, 0.99]]   # a zipped axis

    [run]
    replicates = 256
    steps = 2000
    record_every = 50
    record = ["loss"]
    seed = 0

Every error names the section and key at fault and the allowed values.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from ._components import OptsimError, closest
from ._sweep import keywords as _keywords

__all__ = ["ConfigError", "load_config", "parse_config", "from_dict", "expand_axis", "SECTIONS", "RUN_KEYS"]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class ConfigError(OptsimError):
    """A configuration that cannot describe a sweep (the message names the key at fault)."""


SECTIONS = ("title", "description", "problem", "noise", "optimizer", "optimizers", "schedule", "schedules", "grid",
            "run")

#: the keys of the ``[run]`` table and their one-line docs: the sweep's keyword table
#: (:mod:`optsim._sweep.keywords`), which also says which keywords are sections
RUN_KEYS = _keywords.RUN_KEYS

SPACINGS = ("logspace", "linspace", "geomspace", "values")


def load_config(path, overrides=None, check=True) -> dict:
    """The :func:`optsim.sweep` keyword arguments described by the TOML file ``path``.

    ``overrides`` is an optional list of ``"section.key=value"`` strings (values in TOML
    syntax) applied on top of the file.  With ``check`` (default) the whole sweep is
    validated now (nothing is run or allocated), so every mistake surfaces before any
    compilation.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such configuration file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    return parse_config(text, source=str(path), overrides=overrides, check=check)


def parse_config(text, source="<config>", overrides=None, check=True) -> dict:
    """Like :func:`load_config`, from the TOML text itself."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    for item in overrides or ():
        _apply_override(data, item, source)
    return from_dict(data, source=source, check=check)


def _apply_override(data, item, source):
    if "=" not in item:
        raise ConfigError(f"{source}: override {item!r} must look like section.key=value")
    key, _, raw = item.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ConfigError(f"{source}: override {item!r} must look like section.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word: take it as a string
    node = data
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{source}: override {item!r}: {p!r} is not a table")
    node[parts[-1]] = value


def from_dict(data, source="<config>", check=True) -> dict:
    """The :func:`optsim.sweep` keyword arguments for an already-parsed configuration."""
    from . import registry
    from .sweep import Method, build_plan

    def fail(msg):
        raise ConfigError(f"{source}: {msg}")

    for key in data:
        if key not in SECTIONS:
            fail(f"unknown section [{key}]{closest(key, SECTIONS)}; sections are {', '.join(SECTIONS)}")

    def component(role, table, where):
        if isinstance(table, str):
            table = {"name": table}
        if not isinstance(table, dict):
            fail(f"[{where}] must be a table with a 'name', got {table!r}")
        if "name" not in table:
            names = ", ".join(sorted(registry.components(role)))
            fail(f"[{where}] needs name = one of {names}")
        try:
            return registry.build(role, table)
        except OptsimError as exc:
            fail(f"[{where}] {exc}")
        except TypeError as exc:
            fail(f"[{where}] {exc}")

    if "problem" not in data:
        fail("missing [problem] section (name = one of " + ", ".join(sorted(registry.components("problem"))) + ")")
    kwargs = {"problem": component("problem", data["problem"], "problem")}

    noise = data.get("noise")
    if noise is not None:
        tables = noise if isinstance(noise, list) else [noise]
        kwargs["noise"] = [
            component("noise", t, "noise" if len(tables) == 1 else f"noise.{i}") for i, t in enumerate(tables)
        ]

    if "schedule" in data:
        kwargs["schedule"] = component("schedule", data["schedule"], "schedule")

    def schedules(tables, where):
        """{hyperparameter: Schedule} from ``[<where>.<hyperparameter>]`` tables."""
        if not isinstance(tables, dict) or not tables:
            fail(f"[{where}] must hold one table per hyperparameter, e.g. [{where}.beta1] with name = \"cosine\"")
        return {str(hp): component("schedule", t, f"{where}.{hp}") for hp, t in tables.items()}

    if "schedules" in data:
        kwargs["schedules"] = schedules(data["schedules"], "schedules")

    if "optimizer" in data and "optimizers" in data:
        fail("give either [optimizer] (one) or [optimizers.<label>] tables (several), not both")
    if "optimizer" in data:
        kwargs["optimizer"] = component("optimizer", data["optimizer"], "optimizer")
    elif "optimizers" in data:
        tables = data["optimizers"]
        if not isinstance(tables, dict) or not tables:
            fail("[optimizers] must hold one table per method, e.g. [optimizers.adam] with name = \"adam\"")
        methods = {}
        for label, table in tables.items():
            if not isinstance(table, dict):
                fail(f"[optimizers.{label}] must be a table with a 'name', got {table!r}")
            table = dict(table)
            sched = table.pop("schedule", None)
            scheds = table.pop("schedules", None)
            opt = component("optimizer", table, f"optimizers.{label}")
            sch = component("schedule", sched, f"optimizers.{label}.schedule") if sched is not None else None
            hps = schedules(scheds, f"optimizers.{label}.schedules") if scheds is not None else None
            try:
                methods[str(label)] = Method(opt, sch, hps)
            except OptsimError as exc:
                fail(f"[optimizers.{label}.schedules] {exc}")
        kwargs["optimizer"] = methods
    else:
        fail("missing [optimizer] section (name = one of " + ", ".join(sorted(registry.components("optimizer"))) + ")")

    grid = data.get("grid")
    if grid is not None:
        if not isinstance(grid, dict):
            fail("[grid] must be a table of axes, e.g. lr = { logspace = [-4, 0, 64] }")
        kwargs["grid"] = {name: expand_axis(name, spec, source) for name, spec in grid.items()}

    run = data.get("run", {})
    if not isinstance(run, dict):
        fail("[run] must be a table")
    for key, value in run.items():
        if key not in RUN_KEYS:
            fail(f"[run] unknown key {key!r}{closest(key, RUN_KEYS)}; allowed: {', '.join(RUN_KEYS)}")
        kwargs[key] = value
    if "record" in kwargs and isinstance(kwargs["record"], str):
        kwargs["record"] = [kwargs["record"]]

    if check and ("reduce" in kwargs or "quantiles" in kwargs):
        from .reduce import check_reduce

        try:
            check_reduce(kwargs.get("reduce"), kwargs.get("quantiles", _keywords.BY_NAME["quantiles"].default))
        except OptsimError as exc:
            fail(f"[run] {exc}")
    if check:
        # the [run] keys that only say how the sweep runs (chunk_size, threads) by their own
        # checks; the rest with the whole sweep, through build_plan
        for key in RUN_KEYS:
            entry = _keywords.BY_NAME[key]
            if key in kwargs and not entry.plan and entry.check is not None:
                try:
                    entry.check(kwargs[key])
                except OptsimError as exc:
                    fail(f"[run] {exc}")
        plan_keys = _keywords.PLAN_KEYWORDS
        try:
            build_plan(kwargs["problem"], kwargs["optimizer"], **{k: kwargs[k] for k in plan_keys if k in kwargs})
        except OptsimError as exc:
            fail(_section_of(str(exc)) + str(exc))
        except (TypeError, ValueError) as exc:
            fail(f"[run] {exc}")
    return kwargs


def _section_of(message):
    """The section of a plan keyword's error (messages start with the keyword's name)."""
    for entry in _keywords.KEYWORDS:
        if entry.plan and entry.name != "schedule" and message.startswith(entry.name):
            return f"[{entry.name}] " if entry.config == "section" else "[run] "
    return ""


def expand_axis(name, spec, source="<config>"):
    """The list of values of one ``[grid]`` axis.

    ``spec`` is a list of values, or a table with exactly one of ``logspace = [start,
    stop, num]`` (exponents of 10), ``linspace = [start, stop, num]``, ``geomspace =
    [start, stop, num]`` or ``values = [...]``.  A zipped axis (``"beta1,beta2"``) takes
    a list of tuples.
    """
    where = f"{source}: [grid] {name}"
    if isinstance(spec, list):
        if not spec:
            raise ConfigError(f"{where}: the list of values is empty")
        return spec
    if isinstance(spec, dict):
        keys = [k for k in spec if k in SPACINGS]
        unknown = [k for k in spec if k not in SPACINGS]
        if unknown:
            k = unknown[0]
            raise ConfigError(f"{where}: unknown key {k!r}{closest(k, SPACINGS)}; use one of {', '.join(SPACINGS)}")
        if len(keys) != 1:
            raise ConfigError(f"{where}: give exactly one of {', '.join(SPACINGS)}")
        kind = keys[0]
        args = spec[kind]
        if kind == "values":
            if not isinstance(args, list) or not args:
                raise ConfigError(f"{where}: values must be a non-empty list")
            return args
        if (not isinstance(args, list) or len(args) != 3
                or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)):
            raise ConfigError(f"{where}: {kind} must be [start, stop, num], got {args!r}")
        start, stop, num = args
        if not (isinstance(num, int) or float(num).is_integer()) or num < 1:
            raise ConfigError(f"{where}: {kind} num must be an integer >= 1, got {num!r}")
        if not (math.isfinite(start) and math.isfinite(stop)):
            raise ConfigError(f"{where}: {kind} start and stop must be finite numbers")
        num = int(num)
        from ._budget import GRID_VALUE_BYTES, check_values

        check_values(f"{where}: {kind}", num, 8 + GRID_VALUE_BYTES)  # refused before any is made
        if kind == "logspace":
            return np.logspace(start, stop, num).tolist()
        if kind == "linspace":
            return np.linspace(start, stop, num).tolist()
        if start <= 0 or stop <= 0:
            raise ConfigError(f"{where}: geomspace start and stop must be > 0, got {args!r}")
        return np.geomspace(start, stop, num).tolist()
    raise ConfigError(
        f"{where}: must be a list of values or a table like {{ logspace = [-4, 0, 64] }}, got {spec!r}"
    )
