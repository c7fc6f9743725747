"""Components: optimizers, schedules, problems and noise models as validated parameter sets.

A component is a small immutable object: a table of :class:`Param` declarations, the
values given for them, and (on the class) the jitted functions the engine calls.  Every
value is checked where it is given, so a bad hyperparameter fails before any work starts,
with a message that names the parameter, the value and the allowed range.

*Dynamic* parameters are numbers that can differ from one trajectory to the next: they are
packed into each trajectory's row (``row()``) and gridding over them never recompiles.
*Static* parameters shape data or arrays (curvature vectors, dataset sizes); gridding over
them runs one kernel call per value.
"""

from __future__ import annotations

import difflib
import inspect
import keyword
import math
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = ["Param", "Component", "OptsimError", "ParameterError", "ParameterTypeError", "closest", "layout", "param_layout"]


class OptsimError(ValueError):
    """Base class of optsim's input errors."""


class ParameterError(OptsimError):
    """A hyperparameter outside its allowed range, or an unknown name."""


class ParameterTypeError(ParameterError, TypeError):
    """A value of the wrong type (a string, complex number or array where a number
    belongs...): both a :class:`ParameterError` and a ``TypeError``."""


def closest(name, candidates):
    """A ' (did you mean ...?)' hint for an unknown ``name``, or ''."""
    match = difflib.get_close_matches(str(name), list(candidates), n=3, cutoff=0.5)
    if not match:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in match) + "?)"


def layout(names, typename="Layout"):
    """The positions of ``names`` in a row, as a namedtuple: ``layout(("m", "v")).v == 1``.

    This is how the kernels name what they read from a packed row (a component's
    hyperparameters, its state rows, its named scalars): numba freezes a module-level
    namedtuple of integers into constants, so ``hp[H.beta1]`` compiles to the same load
    as a literal index.
    """
    names = tuple(names)
    for n in names:
        if not n.isidentifier() or keyword.iskeyword(n):
            raise ValueError(f"{n!r} cannot name a row position: it must be a Python identifier")
    return namedtuple(typename, names)(*range(len(names)))


def param_layout(params, typename="Params"):
    """The positions of the *dynamic* parameters of ``params`` in a component's packed row
    (:meth:`Component.row`), as a namedtuple; see :func:`layout`."""
    return layout((p.name for p in params if p.dynamic), typename)


#: the largest integer a compiled int64 holds
INT64_MAX = 2**63 - 1
#: the largest integer up to which every integer is exact in float64 (a packed row)
FLOAT_INT_MAX = 2**53


def _bound_text(v):
    if v == FLOAT_INT_MAX:
        return "2**53"
    if v == INT64_MAX:
        return "2**63 - 1"
    return repr(v)


def _type_name(value):
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-D array"
    return type(value).__name__


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its default, its allowed values and its meaning.

    kind is 'float', 'int', 'bool', 'choice' (one of ``choices``; packed as its index)
    or 'array' (a float vector; always static).  ``low``/``high`` bound floats and ints;
    ``low_open``/``high_open`` make a bound strict.  ``none_ok`` allows ``None`` (packed as
    NaN for floats, meaning "not set").

    Every value is checked for its type first: numbers are real ``int``/``float`` (or NumPy)
    scalars, never strings, booleans, complex numbers or arrays.  A float is finite unless
    ``allow_inf`` (NaN is never allowed).  An integer is bounded by ``high`` or, when that is
    not given, by what the compiled code holds exactly: 2**53 for a dynamic one (it travels
    as a float64 in the packed row), 2**63 - 1 (int64) for a static one.  ``step_count``
    marks an integer that counts updates (a period, a patience, a decay interval): any
    value past 2**53, longer than any run, means "never" and is packed as 2**53 (the same
    numbers as every value between).  An array has a real numeric dtype and one of the
    dimensions ``ndim`` (default at most 2); ``shape_note`` is added to the
    message of an array with other dimensions (e.g. where to go instead).
    """

    name: str
    default: Any
    doc: str = ""
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    dynamic: bool = True
    none_ok: bool = False
    allow_inf: bool = False
    step_count: bool = False
    ndim: tuple = (0, 1, 2)
    shape_note: str = ""

    def int_cap(self):
        """The largest integer accepted (``None``: unbounded, past 2**53 means never)."""
        if self.high is not None:
            return self.high
        if self.step_count:
            return None
        return FLOAT_INT_MAX if self.dynamic else INT64_MAX

    def range_text(self):
        if self.kind == "bool":
            return "True or False"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "array":
            if set(self.ndim) <= {0, 1}:
                text = "a sequence of finite numbers (1-D)"
            else:
                text = f"an array of finite numbers ({' or '.join(f'{d}-D' for d in self.ndim)})"
            if self.low is not None:
                text += f", each {'>' if self.low_open else '>='} {self.low!r}"
            if self.high is not None:
                text += f", each {'<' if self.high_open else '<='} {self.high!r}"
            return text
        if self.kind == "int":
            cap = self.int_cap()
            lo = "-inf" if self.low is None else _bound_text(self.low)
            hi = "inf" if cap is None else _bound_text(cap)
            left = "(" if (self.low is None or self.low_open) else "["
            right = ")" if (cap is None or self.high_open) else "]"
            text = f"an integer in {left}{lo}, {hi}{right}"
            if self.step_count:
                text += " (past 2**53 updates: never)"
        else:
            lo = "-inf" if self.low is None else repr(self.low)
            hi = "inf" if self.high is None else repr(self.high)
            inf_in = self.allow_inf
            left = "[" if (self.low is not None and not self.low_open) or (self.low is None and inf_in) else "("
            right = "]" if (self.high is not None and not self.high_open) or (self.high is None and inf_in) else ")"
            text = f"a number in {left}{lo}, {hi}{right}"
        if self.none_ok:
            text += " or None"
        return text

    def check(self, value, owner="") -> Any:
        """The validated (normalised) value, or a ParameterError naming the allowed range
        (a :class:`ParameterTypeError` when the value is not even of the right type)."""
        where = f"{owner}: " if owner else ""

        def fail(extra="", cls=None):
            if isinstance(value, np.ndarray) and value.size > 6:
                shown = f"<{value.ndim}-D array of shape {value.shape}>"
            else:
                shown = " ".join(repr(value).split())  # one line, whatever the value
                shown = shown if len(shown) <= 80 else shown[:60] + "...(" + str(len(shown)) + " characters)"
            raise (cls or ParameterError)(
                f"{where}{self.name}={shown} is not allowed; {self.name} must be "
                f"{self.range_text()}{extra}"
            )

        def wrong_type(extra=""):
            fail(extra or f" (got {_type_name(value)})", ParameterTypeError)

        if value is None:
            if self.none_ok:
                return None
            wrong_type(" (got None)")
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
                return bool(value)
            wrong_type()
        if self.kind == "choice":
            if isinstance(value, (str, int, float, np.str_, np.integer, np.floating)) and \
                    not isinstance(value, (bool, np.bool_)) and value in self.choices:
                return value
            fail(closest(value, [str(c) for c in self.choices]) if isinstance(value, str) else "")
        if self.kind == "array":
            return self._check_array(value, fail, wrong_type)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            wrong_type()
        if self.kind == "int":
            if isinstance(value, (int, np.integer)):
                value = int(value)
            else:
                f = float(value)
                if not math.isfinite(f) or f != math.floor(f):
                    fail()
                value = int(f)
            cap = self.int_cap()
            if cap is not None and value > cap:
                fail()
        else:
            try:
                value = float(value)
            except OverflowError:
                fail()
            if math.isnan(value) or (math.isinf(value) and not self.allow_inf):
                fail()
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            fail()
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            fail()
        return value

    def _check_array(self, value, fail, wrong_type):
        if isinstance(value, (str, bytes, dict, set, bool, np.bool_)):
            wrong_type()
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):  # ragged nested sequences
            fail(" (got a ragged sequence)")
        if arr.dtype.kind == "c":
            wrong_type(" (got complex numbers; pass the real part explicitly if that is meant)")
        if arr.dtype.kind == "O":
            try:
                arr = arr.astype(float)
            except (TypeError, ValueError):
                wrong_type(" (got entries that are not real numbers)")
            except OverflowError:
                fail()
        if arr.dtype.kind not in "iuf":
            wrong_type(f" (got entries of dtype {arr.dtype})")
        arr = np.asarray(arr, dtype=float)
        if arr.ndim not in self.ndim:
            fail(f" (got a {arr.ndim}-D array of shape {arr.shape}){'; ' + self.shape_note if self.shape_note else ''}")
        if arr.size == 0:
            fail(" (got no values)")
        if not np.all(np.isfinite(arr)):
            fail()
        if self.low is not None and np.any(arr < self.low if not self.low_open else arr <= self.low):
            fail()
        if self.high is not None and np.any(arr > self.high if not self.high_open else arr >= self.high):
            fail()
        return arr

    def pack(self, value) -> float:
        """The float stored in a trajectory's row for ``value`` (dynamic parameters only)."""
        if value is None:
            return math.nan
        if self.kind == "choice":
            return float(self.choices.index(value))
        if self.step_count and value > FLOAT_INT_MAX:
            return float(FLOAT_INT_MAX)  # past any run's length: never
        return float(value)


class Component:
    """Base class: a named, validated set of hyperparameters plus jitted functions.

    Subclasses set ``params`` (a tuple of :class:`Param`), ``name`` (the registry name)
    and the jitted functions their role needs (see each role's base class).  Instances
    are immutable; :meth:`replace` returns a modified copy.
    """

    role: ClassVar[str] = "component"
    name: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    aliases: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Constructor keywords that set several parameters from a sequence, e.g. ``betas``."""
    children_roles: ClassVar[dict[str, str]] = {}
    """Keywords whose values are other components (name -> role), e.g. a warm-up's ``after``."""
    broadcast_aliases: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Constructor keywords that set several parameters to one value, e.g. ``bias_correction``."""

    def __init__(self, **kwargs):
        values = {p.name: p.default for p in self.params}
        children = {}
        for key, role in self.children_roles.items():
            child = kwargs.pop(key, None)
            if child is None:
                child = self.default_child(key)
            if getattr(child, "role", None) != role:
                raise ParameterError(f"{self._label()}: {key}={child!r} must be a {role}")
            children[key] = child
        object.__setattr__(self, "_children", children)
        for key, value in kwargs.items():
            if key in self.broadcast_aliases:
                values.update({t: value for t in self.broadcast_aliases[key]})
            elif key in self.aliases:
                targets = self.aliases[key]
                try:
                    parts = tuple(value)
                except TypeError:
                    parts = ()
                if len(parts) != len(targets):
                    raise ParameterError(
                        f"{self._label()}: {key}={value!r} must be a sequence of "
                        f"{len(targets)} values ({', '.join(targets)})"
                    )
                values.update(zip(targets, parts))
            elif key in values:
                values[key] = value
            else:
                names = list(values) + list(self.aliases) + list(self.broadcast_aliases)
                raise ParameterError(
                    f"{self._label()} has no parameter {key!r}{closest(key, names)}; "
                    f"its parameters are {', '.join(names)}"
                )
        table = self.param_table()
        checked = {k: table[k].check(v, self._label()) for k, v in values.items()}
        object.__setattr__(self, "_values", checked)
        self._validate()

    def default_child(self, key):
        """The component used when the child keyword ``key`` is not given."""
        raise ParameterError(f"{self._label()}: {key} is required")

    @property
    def children_map(self) -> dict:
        """The component-valued keywords and their values."""
        return dict(self._children)

    # -- subclasses may add cross-parameter checks ------------------------------------
    def _validate(self):
        """Checks that involve several parameters (override; raise ParameterError)."""

    # -- access ------------------------------------------------------------------------
    def __getattr__(self, key):
        values = self.__dict__.get("_values")
        if values is not None and key in values:
            return values[key]
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    def __setattr__(self, key, value):
        raise AttributeError(f"{type(self).__name__} is immutable; use .replace({key}=...)")

    @classmethod
    def param_table(cls) -> dict[str, Param]:
        return {p.name: p for p in cls.params}

    @classmethod
    def dynamic_names(cls) -> tuple[str, ...]:
        return tuple(p.name for p in cls.params if p.dynamic)

    @classmethod
    def layout(cls):
        """The positions of the dynamic parameters in :meth:`row`, by name (a namedtuple)."""
        return param_layout(cls.params, cls.__name__ + "Params")

    @property
    def values(self) -> dict[str, Any]:
        """All parameter values (a copy)."""
        return dict(self._values)

    def replace(self, **kwargs):
        """A copy with some parameters changed (validated)."""
        values = {k: v for k, v in self._values.items()}
        values.update(self._children)
        values.update(kwargs)
        return type(self)(**values)

    def row(self) -> np.ndarray:
        """The dynamic parameters packed as float64, in declaration order."""
        table = self.param_table()
        return np.array([table[n].pack(self._values[n]) for n in self.dynamic_names()], dtype=np.float64)

    def static_key(self):
        """What determines the compiled kernel and the data: class and static values."""
        static = []
        for p in self.params:
            if not p.dynamic:
                v = self._values[p.name]
                static.append((p.name, v.tobytes() if isinstance(v, np.ndarray) else v))
        kids = tuple((k, c.static_key()) for k, c in self._children.items())
        return (type(self), tuple(static), kids)

    def _label(self):
        return type(self).__name__

    def spec(self) -> dict:
        """A JSON-ready description: the registry name and every parameter value."""
        out = {"name": self.name or type(self).__name__}
        for k, v in self._values.items():
            out[k] = v.tolist() if isinstance(v, np.ndarray) else v
        for k, c in self._children.items():
            out[k] = c.spec()
        return out

    def __repr__(self):
        parts = []
        for p in self.params:
            v = self._values[p.name]
            if isinstance(v, np.ndarray):
                if v.size > 6:
                    continue
                v = v.tolist()
            parts.append(f"{p.name}={v!r}")
        parts += [f"{k}={c!r}" for k, c in self._children.items()]
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other):
        return type(self) is type(other) and self.spec() == other.spec()

    def __hash__(self):
        return hash(repr(self))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A readable signature for help() and IDEs, built from the parameter table.
        sig = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        for p in cls.params:
            sig.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default))
        for a in list(cls.children_roles) + list(cls.aliases) + list(cls.broadcast_aliases):
            sig.append(inspect.Parameter(a, inspect.Parameter.KEYWORD_ONLY, default=None))
        cls.__init__ = _with_signature(cls.__init__, inspect.Signature(sig))


def _with_signature(init, sig):
    def __init__(self, **kwargs):
        init(self, **kwargs)

    __init__.__signature__ = sig
    __init__.__doc__ = init.__doc__
    __init__.__wrapped_init__ = getattr(init, "__wrapped_init__", init)
    return __init__
