"""The sweep's keyword set, defined once: name, default, check, doc.

:data:`KEYWORDS` is the one table of the keywords of :func:`optsim.sweep` after
``problem`` and ``optimizer``.  Everything else derives from it:

- :func:`takes` checks that ``sweep``'s and ``build_plan``'s keyword parameters are the
  table's (names and defaults), applies each keyword's check before the body runs, and
  writes their "Parameters" section;
- :mod:`optsim.config` takes its ``[run]`` keys, their one-line docs and the keywords it
  validates through ``build_plan`` from it;
- ``optsim sweep`` takes its run options (``--threads``, ``--out-dir``, ...) from it.

This module imports nothing heavy (no numba), so that the configuration loader and the
command line can read the table cheaply.
"""

from __future__ import annotations

import functools
import inspect
import math
import textwrap
from typing import Callable, NamedTuple

import numpy as np

from .._components import INT64_MAX, ParameterError, ParameterTypeError, closest

__all__ = ["Keyword", "KEYWORDS", "BY_NAME", "PLAN_KEYWORDS", "RUN_KEYS", "takes", "doc_section"]


class Keyword(NamedTuple):
    """One keyword of :func:`optsim.sweep`."""

    name: str
    #: the default, exactly as in the signatures of ``sweep`` (and ``build_plan``)
    default: object
    #: the numpydoc type of the parameter
    type: str
    #: the numpydoc text; ``None``: documented together with the keyword before it
    doc: str | None
    #: one line for the TOML ``[run]`` table (``None``: not a ``[run]`` key)
    summary: str | None = None
    #: ``value -> checked value``, raising :class:`ParameterError` (``None``: checked in context)
    check: Callable | None = None
    #: :func:`optsim.sweep.build_plan` takes it (it shapes the plan, not only how it runs)
    plan: bool = False
    #: where a TOML configuration gives it: ``"section"`` (its own table), ``"run"``, or ``None``
    config: str | None = None
    #: ``optsim sweep`` options: ``(flags, argparse keywords)`` pairs; several form a
    #: mutually exclusive group
    cli: tuple = ()


# -- checks -------------------------------------------------------------------------------
#
# Every keyword has a declared type and range; a value outside it is refused with one line
# naming the keyword, the value and the range, before anything is allocated or compiled.
# The checks here need no context; those that do (record_steps against steps, thresholds
# against the problem's least loss, the components) are made by build_plan.


def _shown(value):
    text = " ".join(repr(value).split())  # one line, whatever the value
    return text if len(text) <= 80 else text[:60] + f"...({len(text)} characters)"


def _refuse(name, value, allowed, typ=False, extra=""):
    cls = ParameterTypeError if typ else ParameterError
    raise cls(f"{name}={_shown(value)} is not allowed; {name} must be {allowed}{extra}")


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _check_int(name, value, low, high=None):
    rng = f"[{low}, {_bound(high)}]" if high is not None else f">= {low}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        _refuse(name, value, f"an integer {rng}", typ=True)
    if value < low or (high is not None and value > high):
        _refuse(name, value, f"an integer {rng}")
    return int(value)


def _bound(v):
    return {2**63 - 1: "2**63 - 1", 2**64 - 1: "2**64 - 1"}.get(v, repr(v))


def _int_at_least(name, low, high=None):
    def check(value):
        return _check_int(name, value, low, high)

    return check


def _check_bool(name):
    def check(value):
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        _refuse(name, value, "True or False", typ=True)

    return check


def _check_optional_bool(name):
    strict = _check_bool(name)

    def check(value):
        return None if value is None else strict(value)

    return check


def _check_chunk_size(value):
    return None if value is None else _check_int("chunk_size", value, 1, INT64_MAX)


def _check_threads(value):
    if value is None:
        return None
    import numba

    return _check_int("threads", value, 1, numba.config.NUMBA_NUM_THREADS)


def _check_record_every(value):
    return None if value is None else _check_int("record_every", value, 1, INT64_MAX)


def _check_record_steps(value):
    """A non-empty 1-D sequence of integers >= 0 (their bound, ``steps``, is checked in context)."""
    if value is None:
        return None
    allowed = "a non-empty sequence of integers in [0, steps]"
    if isinstance(value, (str, bytes, dict, set)) or not np.iterable(value):
        _refuse("record_steps", value, allowed, typ=True)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        _refuse("record_steps", value, allowed)
    if arr.ndim != 1 or arr.size == 0:
        _refuse("record_steps", value, allowed, extra=f" (got shape {arr.shape})")
    out = []
    for v in arr.tolist():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            _refuse("record_steps", value, allowed, typ=True, extra=f" ({v!r} is not an integer)")
        if isinstance(v, float) and not (math.isfinite(v) and v == math.floor(v)):
            _refuse("record_steps", value, allowed, extra=f" ({v!r} is not an integer)")
        if v < 0 or v > INT64_MAX:
            _refuse("record_steps", value, allowed, extra=f" ({v!r} is out of range)")
        out.append(int(v))
    return out


def _check_record(record):
    from ..engine.plan import RECORDABLE

    if isinstance(record, str):
        record = (record,)
    if not np.iterable(record) or isinstance(record, (bytes, dict)):
        _refuse("record", record, f"a sequence of names from {', '.join(RECORDABLE)}", typ=True)
    record = tuple(record)
    for r in record:
        if not isinstance(r, str):
            _refuse("record", record, f"a sequence of names from {', '.join(RECORDABLE)}", typ=True)
        if r not in RECORDABLE:
            raise ParameterError(f"record: {r!r} is not recordable{closest(r, RECORDABLE)}; choose from {', '.join(RECORDABLE)}")
    return record


def _real_vector(name, value, allowed):
    """``value`` as a 1-D float64 array of finite numbers (a scalar is one entry)."""
    if isinstance(value, (str, bytes, dict, set, bool, np.bool_)) or value is None:
        _refuse(name, value, allowed, typ=True)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        _refuse(name, value, allowed)
    if arr.dtype.kind == "O":
        if not all(_is_number(v) for v in arr.ravel().tolist()):
            _refuse(name, value, allowed, typ=True)
        arr = arr.astype(float)
    if arr.dtype.kind not in "iuf":
        _refuse(name, value, allowed, typ=True, extra=f" (got entries of dtype {arr.dtype})")
    arr = np.atleast_1d(np.asarray(arr, dtype=np.float64))
    if arr.ndim != 1:
        _refuse(name, value, allowed, extra=f" (got a {arr.ndim}-D array of shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        _refuse(name, value, allowed)
    return arr


def _check_thresholds(thresholds):
    return _real_vector("thresholds", thresholds, "a sequence of finite numbers (loss levels)")


def _check_quantiles(quantiles):
    allowed = "a sequence of levels in [0, 1]"
    q = _real_vector("quantiles", quantiles, allowed)
    if not np.all((q >= 0) & (q <= 1)):
        raise ParameterError(f"quantiles: levels in [0, 1], got {_shown(quantiles)}")
    return quantiles


def _check_reduce(reduce):
    from ..reduce import check_reduce

    check_reduce(reduce, (0.5,))  # the levels are checked by their own keyword
    return reduce


def _check_diverge_factor(diverge_factor):
    if not _is_number(diverge_factor):
        _refuse("diverge_factor", diverge_factor, "a number > 0 (inf: never flag a loss)", typ=True)
    if not diverge_factor > 0:
        raise ParameterError(f"diverge_factor={diverge_factor!r} is not allowed; it must be a number > 0")
    return diverge_factor


def _check_x_bound(x_bound):
    if x_bound is not None and not _is_number(x_bound):
        _refuse("x_bound", x_bound, "a number > 0 (inf: no bound) or None", typ=True)
    x_bound = math.inf if x_bound is None else float(x_bound)
    if not x_bound > 0:
        raise ParameterError(f"x_bound={x_bound!r} is not allowed; it must be a number > 0 or None")
    return x_bound


def _check_max_memory(value):
    if value is None:
        return None
    allowed = f"a number of bytes in [1, {_bound(INT64_MAX)}] or None (e.g. 4 * 2**30 for 4 GiB)"
    if not _is_number(value):
        _refuse("max_memory", value, allowed, typ=True)
    if not (math.isfinite(value) and 1 <= value <= INT64_MAX):
        _refuse("max_memory", value, allowed)
    return int(value)


def _check_out_dir(value):
    if value is None:
        return None
    from .._paths import check_directory

    check_directory(value, "out_dir")
    return value


def _check_client(value):
    if value is None:
        return None
    if isinstance(value, str):
        if value.startswith("local:"):
            n = value.split(":", 1)[1]
            if not (n.isdigit() and int(n) >= 1):
                raise ParameterError(f"client={value!r}: write local:N with N >= 1 worker processes")
        elif not value.strip() or any(c.isspace() for c in value):
            _refuse("client", value, "a dask.distributed.Client, a scheduler address such as "
                    "'tcp://host:8786', or 'local:N'")
        return value
    if not any(c.__name__ == "Client" for c in type(value).__mro__):  # dask is imported only when used
        _refuse("client", value, "a dask.distributed.Client, a scheduler address such as "
                "'tcp://host:8786', or 'local:N'", typ=True)
    return value


# -- the table ----------------------------------------------------------------------------


KEYWORDS = (
    Keyword("noise", None, "Noise or list of Noise, optional",
            "How the exact gradient becomes the observed one (applied in order).  Default: none.",
            plan=True, config="section"),
    Keyword("schedule", None, "Schedule, optional",
            "The learning-rate schedule (default constant); a method given as\n"
            "``(optimizer, schedule)`` overrides it.",
            plan=True, config="section"),
    Keyword("schedules", None, "dict {hyperparameter: Schedule}, optional",
            "Other hyperparameters that follow a schedule (``{\"beta1\": CosineAnnealing(T_max=100)}``),\n"
            "each from its own value as the rate from ``lr``; for the methods that do not give\n"
            "their own (:class:`Method`).  Their parameters can be gridded as\n"
            "``\"schedules.beta1.T_max\"``, without recompiling.",
            plan=True, config="section"),
    Keyword("grid", None, "dict, optional",
            "``{name: values}`` axes, multiplied together.  ``name`` is any parameter of the\n"
            "optimizer, schedule, noise or problem (``\"lr\"``, ``\"beta2\"``, ``\"sigma\"``; qualify as\n"
            "``\"optimizer.lr\"`` or ``\"schedule.after.gamma\"`` when ambiguous).  A tuple key\n"
            "``(\"beta1\", \"beta2\")`` or ``\"beta1,beta2\"`` is a zipped axis whose values are pairs.",
            plan=True, config="section"),
    Keyword("replicates", 1, "int",
            "Independent noise realisations per grid cell (dimension ``replicate``).",
            summary="independent noise realisations per grid cell",
            check=_int_at_least("replicates", 1), plan=True, config="run"),
    Keyword("steps", 100, "int", "Updates per trajectory.",
            summary="updates per trajectory", check=_int_at_least("steps", 1), plan=True, config="run"),
    Keyword("record_every", None, "",
            "Record every ``record_every`` steps (default: about 100 records), or at the listed\n"
            "steps.  Step 0 (the start) and the last step are always recorded.",
            summary="record every this many steps", check=_check_record_every, plan=True, config="run"),
    Keyword("record_steps", None, "", None,
            summary="record at exactly these steps", check=_check_record_steps, plan=True, config="run"),
    Keyword("record", ("loss",), "sequence of str",
            "What to record at those steps: any of ``optsim.RECORDABLE``.  ``()`` keeps only the\n"
            "summaries (``final_loss``, ``min_loss``, ``argmin_step``, ``first_below``,\n"
            "``diverged_at``), for sweeps too large to keep curves.",
            summary="what to record (optsim.RECORDABLE)", check=_check_record, plan=True, config="run"),
    Keyword("thresholds", (), "sequence of float",
            "Loss levels for ``first_below`` (steps to reach each threshold).",
            summary="loss levels for first_below", check=_check_thresholds, plan=True, config="run"),
    Keyword("seed", 0, "int",
            "Root seed.  Every trajectory's random streams are keyed by (seed, replicate, stream)\n"
            "and, without common random numbers, by its grid cell.",
            summary="root seed", check=_int_at_least("seed", 0, 2**64 - 1), plan=True, config="run"),
    Keyword("common_random_numbers", True, "bool",
            "If True (default), replicate ``r`` sees the same noise in every cell and for every\n"
            "optimizer, so differences between cells are not seed noise.",
            summary="same noise for every grid cell (default true)", check=_check_bool("common_random_numbers"),
            plan=True, config="run"),
    Keyword("diverge_factor", 1e8, "",
            "A trajectory is frozen and flagged (``diverged_at``) when its loss is non-finite or\n"
            "exceeds ``diverge_factor * max(1, |f(x0)|)`` in absolute value, or when a coordinate\n"
            "leaves ``[-x_bound, x_bound]``.  The sweep goes on.",
            summary="loss blow-up factor that flags divergence", check=_check_diverge_factor,
            plan=True, config="run"),
    Keyword("x_bound", None, "", None,
            summary="coordinate bound that flags divergence", check=_check_x_bound, plan=True, config="run"),
    Keyword("chunk_size", None, "int, optional",
            "Run at most this many trajectories per kernel call (results are identical).  With\n"
            "``out_dir`` or ``client`` the default is automatic: a chunk is about 1e7\n"
            "trajectory-steps x dimension (a second or a few on one core).",
            summary="trajectories per kernel call", check=_check_chunk_size, config="run",
            cli=((("--chunk-size",), dict(type=int, metavar="N",
                                          help="trajectories per chunk (default: a few seconds of work each)")),)),
    Keyword("threads", None, "int, optional",
            "Cores to use (default: numba's thread count, ``NUMBA_NUM_THREADS``).",
            summary="numba threads", check=_check_threads, config="run",
            cli=((("--threads",), dict(type=int, metavar="N", help="numba threads (default: all cores)")),)),
    Keyword("max_memory", None, "int, optional",
            "Bytes the results may take (default: the memory available now).",
            summary="bytes the results may take", check=_check_max_memory, config="run"),
    Keyword("progress", None, "bool, optional",
            "Show a progress bar (over trajectories, or over chunks with ``client``); default:\n"
            "when stderr is a terminal.", check=_check_optional_bool("progress"),
            cli=((("--progress",), dict(action="store_true", default=None,
                                        help="show a progress bar (default when the terminal is interactive)")),
                 (("--quiet", "-q"), dict(action="store_false", help="no progress bar and no summary")))),
    Keyword("out_dir", None, "path, optional",
            "Keep each finished chunk in ``out_dir/chunks/`` (atomically), the spec in\n"
            "``out_dir/spec.json`` and the result in ``out_dir/result.nc``, so that an interrupted\n"
            "sweep (Ctrl-C, a killed process, a lost machine) can be resumed.  The directory is\n"
            "checked (creatable, writable, not a file) before anything is computed.", check=_check_out_dir,
            cli=((("--out-dir",), dict(metavar="DIR", help="write each finished chunk to DIR as it "
                                                           "completes (resumable; see --resume)")),)),
    Keyword("resume", False, "bool",
            "With ``out_dir``: compute only the chunks not on disk yet.  A directory written for a\n"
            "different spec is refused.", check=_check_bool("resume"),
            cli=((("--resume",), dict(action="store_true",
                                      help="with --out-dir: compute only the chunks that are not there yet")),)),
    Keyword("overwrite", False, "bool",
            "With ``out_dir``: discard what the directory holds and start again (not with\n"
            "``resume``).", check=_check_bool("overwrite"),
            cli=((("--overwrite",), dict(action="store_true", help="with --out-dir: discard the chunks already there")),)),
    Keyword("client", None, "dask.distributed.Client, str, optional",
            "Run the chunks as Dask tasks: a ``Client``, a scheduler address\n"
            "(``\"tcp://host:8786\"``), or ``\"local:N\"`` for N local worker processes (started and\n"
            "closed here).  Needs ``pip install \"optsim[dask]\"``.  Results are identical.\n"
            "Default: the client of an enclosing ``optsim.distributed.default_client(...)`` block.\n"
            "``threads`` applies to local runs only (a task uses one core of its worker).",
            check=_check_client,
            cli=((("--dask",), dict(metavar="ADDRESS", help="run the chunks on a Dask cluster: a scheduler "
                                                           "address (tcp://host:port) or local:N for N local "
                                                           "worker processes")),)),
    Keyword("reduce", None, "str or sequence of str, optional",
            "Reduce over replicates on the fly and keep only the statistics: any of ``\"mean\"``,\n"
            "``\"std\"``, ``\"quantiles\"`` (e.g. ``(\"mean\", \"quantiles\")`` or ``\"mean,std\"``).  For\n"
            "sweeps whose curves do not fit in memory: chunks of whole cells are reduced as they\n"
            "finish (on the workers with ``client``), and the result holds ``loss_mean``,\n"
            "``loss_quantile`` (dimension ``quantile``), ``final_loss_mean``,\n"
            "``diverged_fraction``, ``first_below_fraction`` ... without a ``replicate``\n"
            "dimension (see :mod:`optsim.reduce`).  Exact: equal to reducing the full result.",
            summary="keep only statistics over replicates: any of mean, std, quantiles", check=_check_reduce,
            config="run",
            cli=((("--reduce",), dict(metavar="STATS", help="keep only statistics over replicates, reduced on "
                                                            "the fly: a comma list of mean, std, quantiles (for "
                                                            "sweeps whose curves do not fit in memory)")),)),
    Keyword("quantiles", (0.1, 0.5, 0.9), "sequence of float",
            "The quantile levels of ``reduce=\"quantiles\"`` (default 0.1, 0.5, 0.9).",
            summary="quantile levels for reduce = ['quantiles']", check=_check_quantiles, config="run"),
)

BY_NAME = {k.name: k for k in KEYWORDS}

#: the keywords of :func:`optsim.sweep.build_plan`, in the table's order
PLAN_KEYWORDS = tuple(k.name for k in KEYWORDS if k.plan)

#: the keys of a configuration's ``[run]`` table, with their one-line docs
RUN_KEYS = {k.name: k.summary for k in KEYWORDS if k.config == "run"}


# -- deriving a function's handling from the table ------------------------------------------


def doc_section(names, indent="    "):
    """The numpydoc entries of the keywords ``names`` (in that order), indented by ``indent``.

    A keyword whose ``doc`` is ``None`` shares the entry of the keyword before it
    (``record_every, record_steps :``).
    """
    entries = []  # [names, type, doc]
    for name in names:
        k = BY_NAME[name]
        if k.doc is None and entries:
            entries[-1][0].append(name)
        else:
            entries.append([[name], k.type, k.doc or ""])
    lines = []
    for group, typ, doc in entries:
        lines.append(f"{indent}{', '.join(group)} :{' ' + typ if typ else ''}")
        lines += [indent + "    " + line for line in textwrap.dedent(doc).splitlines()]
    return "\n".join(lines)


def _same(a, b):
    return type(a) is type(b) and a == b


def takes(kind):
    """Derive a function's keyword handling from :data:`KEYWORDS`.

    ``kind`` is ``"plan"`` (the function's keyword-only parameters are exactly the plan
    keywords) or ``"sweep"`` (all of them).  At definition, the function's keyword-only
    parameters and defaults are checked against the table, and ``{keywords}`` in its
    docstring becomes their documentation; at each call, every keyword with a ``check``
    is checked (and normalised) before the body runs.
    """
    wanted = set(PLAN_KEYWORDS) if kind == "plan" else set(BY_NAME)

    def decorate(fn):
        sig = inspect.signature(fn)
        params = [p for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]
        names = [p.name for p in params]
        if set(names) != wanted:
            raise TypeError(f"{fn.__qualname__}: keywords {sorted(set(names) ^ wanted)} differ from the table")
        for p in params:
            if not _same(p.default, BY_NAME[p.name].default):
                raise TypeError(f"{fn.__qualname__}: {p.name}={p.default!r}, but the table's default is "
                                f"{BY_NAME[p.name].default!r}")
        checks = [(name, BY_NAME[name].check) for name in names if BY_NAME[name].check is not None]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, check in checks:
                bound.arguments[name] = check(bound.arguments[name])
            return fn(*bound.args, **bound.kwargs)

        if fn.__doc__ and "{keywords}" in fn.__doc__:
            wrapper.__doc__ = fn.__doc__.replace("{keywords}", doc_section(names).lstrip())
        return wrapper

    return decorate
