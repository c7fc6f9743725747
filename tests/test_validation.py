"""Bad input is refused before any work, in one line naming the parameter and its range.

The property-based tests derive their values from the declarations themselves: every
parameter of every registered component (``optsim.registry``) and every keyword of the
sweep's table (``optsim._sweep.keywords.KEYWORDS``), so a new component or keyword is
covered the day it is registered.  Nothing here compiles a kernel: components are
constructed and sweeps validated (``build_plan``); a sweep that would start computing
raises ``_Ran`` instead.
"""

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optsim
import importlib
from optsim import noise, optimizers, problems, registry, schedules
from optsim._components import FLOAT_INT_MAX, ParameterError
from optsim._sweep.keywords import KEYWORDS
from optsim.sweep import build_plan

sweep_module = importlib.import_module("optsim.sweep")

def _quick_and_slow(body, strategies, n, slow=False):
    """``body`` as a hypothesis test of ``n`` examples (``slow``: marked for ``pytest -m slow``)."""
    test = settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck))(
        given(**strategies)(body))
    return pytest.mark.slow(test) if slow else test


PARAMS = [(cls, p) for role in registry.ROLES for _, cls in sorted(registry.components(role).items())
          for p in cls.params]
IDS = [f"{cls.__name__}.{p.name}" for cls, p in PARAMS]


# -- values from a declaration ----------------------------------------------------------------


def _cap(p):
    return p.int_cap()


def _is_choice(p, v):
    try:
        return v in p.choices
    except Exception:  # noqa: BLE001
        return False


def invalid_values(p):
    """Values that the declaration of ``p`` refuses."""
    s = [st.complex_numbers(allow_nan=False, allow_infinity=False).filter(lambda z: z.imag != 0),
         st.dictionaries(st.text(max_size=2), st.integers(), max_size=1), st.just(object())]
    if not p.none_ok:
        s.append(st.none())
    if p.kind != "choice":
        s.append(st.text(max_size=6))
    if p.kind in ("float", "int"):
        s += [st.booleans(), st.lists(st.floats(0, 1), min_size=1, max_size=3), st.just(np.array([1.0, 2.0])),
              st.just(math.nan)]
        lo, hi = p.low, p.high if p.kind == "float" else _cap(p)
        if lo is not None:
            if p.kind == "int":
                s.append(st.integers(max_value=int(lo) - 1))
            else:
                s.append(st.floats(max_value=lo, exclude_max=not p.low_open, allow_nan=False))
        if hi is not None:
            if p.kind == "int":
                s.append(st.integers(min_value=int(hi) + 1, max_value=2**200))
            else:
                s.append(st.floats(min_value=hi, exclude_min=not p.high_open, allow_nan=False))
        if p.kind == "int":
            s.append(st.floats(allow_nan=True).filter(lambda x: not float(x).is_integer()))
        if p.kind == "float" and not p.allow_inf:
            s.append(st.sampled_from([math.inf, -math.inf]))
    elif p.kind == "bool":
        s += [st.integers().filter(lambda v: v not in (0, 1)), st.floats().filter(lambda v: v not in (0, 1)),
              st.just([True]), st.just(np.array([True, False]))]
    elif p.kind == "choice":
        s += [st.text(max_size=8).filter(lambda v: not _is_choice(p, v)), st.just(["x"]),
              st.integers().filter(lambda v: not _is_choice(p, v))]
    elif p.kind == "array":
        bad_ndim = [d for d in range(5) if d not in p.ndim]
        s += [st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=3),
              st.lists(st.complex_numbers(allow_nan=False, allow_infinity=False).filter(lambda z: z.imag != 0),
                       min_size=1, max_size=3),
              st.just([]), st.just([[1.0], [1.0, 2.0]]),
              st.lists(st.sampled_from([math.nan, math.inf, -math.inf]), min_size=1, max_size=3)]
        s += [st.just(np.ones((2,) * d)) for d in bad_ndim]
        if p.low is not None:
            s.append(st.lists(st.floats(max_value=p.low, exclude_max=not p.low_open, allow_infinity=False,
                                        allow_nan=False), min_size=1, max_size=3))
    return st.one_of(*s)


def valid_values(p, default=None):
    """Values that the declaration of ``p`` accepts; small sizes for static integers (no huge data)."""
    if p.kind == "bool":
        return st.booleans()
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "int":
        lo = -(2**20) if p.low is None else int(p.low)
        if not p.dynamic:
            return st.integers(lo, lo + 40 if p.high is None else min(int(p.high), lo + 40))
        cap = _cap(p)
        return st.integers(lo, 2**70 if cap is None else int(cap))
    if p.kind == "float":
        return st.floats(min_value=p.low, max_value=p.high, exclude_min=p.low_open and p.low is not None,
                         exclude_max=p.high_open and p.high is not None, allow_nan=False,
                         allow_infinity=p.allow_inf)
    n = 2 if default is None else int(np.size(default))
    return st.lists(st.floats(min_value=p.low if p.low is not None else -1e6, max_value=p.high or 1e6,
                              exclude_min=p.low_open and p.low is not None, allow_nan=False,
                              allow_infinity=False), min_size=n, max_size=n)


# -- every parameter of every registered component ------------------------------------------


def invalid_examples(p):
    """One value of every kind that the declaration of ``p`` refuses (deterministic)."""
    out = [1 + 2j, {"a": 1}, object()]
    if not p.none_ok:
        out.append(None)
    if p.kind != "choice":
        out.append("0.5")
    if p.kind in ("float", "int"):
        out += [True, [0.5], np.array([1.0, 2.0]), math.nan, 10**400 if p.kind == "float" else math.inf]
        hi = p.high if p.kind == "float" else _cap(p)
        if p.low is not None:
            out.append(p.low if p.low_open else (p.low - 1 if p.kind == "int" else np.nextafter(p.low, -np.inf)))
        if hi is not None:
            out.append(hi if p.high_open and p.kind == "float" else (hi + 1 if p.kind == "int" else np.nextafter(hi, np.inf)))
        if p.kind == "int":
            out += [float(max(p.low or 0, 0)) + 0.5, -math.inf]
        elif not p.allow_inf:
            out += [math.inf, -math.inf]
    elif p.kind == "bool":
        out += [2, 0.5, [True], np.array([True, False])]
    elif p.kind == "choice":
        out += ["no such option", ["x"], 12345]
    else:
        out += [["a"], [1j], [], [[1.0], [1.0, 2.0]], [math.nan], [math.inf]]
        out += [np.ones((2,) * d) for d in range(5) if d not in p.ndim]
        if p.low is not None:
            out.append([p.low - 1.0])
    return out


def _refused_naming(cls, p, value):
    with pytest.raises(ParameterError) as err:
        cls(**{p.name: value})
    msg = str(err.value)
    assert f"{p.name}=" in msg and "\n" not in msg, msg
    assert p.range_text() in msg, msg


def test_every_registered_component_constructs_with_its_defaults():
    for cls, p in PARAMS:
        assert p.check(p.default) is not None or p.none_ok, f"{cls.__name__}.{p.name}: its default is refused"
    for role in registry.ROLES:
        for name, cls in registry.components(role).items():
            cls()  # every default within the declared range


def test_every_parameter_refuses_every_kind_of_bad_value():
    n = 0
    for cls, p in PARAMS:
        for value in invalid_examples(p):
            _refused_naming(cls, p, value)
            n += 1
    assert n > 10 * len(PARAMS)


PARAM_AND_INVALID = st.sampled_from(PARAMS).flatmap(lambda cp: st.tuples(st.just(cp), invalid_values(cp[1])))


def _invalid_component_value(case):
    (cls, p), value = case
    _refused_naming(cls, p, value)


test_invalid_values_are_refused_naming_the_parameter = _quick_and_slow(
    _invalid_component_value, dict(case=PARAM_AND_INVALID), 100)
test_invalid_values_are_refused_naming_the_parameter_many = _quick_and_slow(
    _invalid_component_value, dict(case=PARAM_AND_INVALID), 5000, slow=True)


def _plan_with(comp):
    """Validate a tiny sweep that uses ``comp`` (no kernel is compiled)."""
    role = comp.role
    q = problems.Quadratic(curvatures=[1.0, 2.0])
    if role == "optimizer":
        return build_plan(q, comp, steps=5)
    if role == "schedule":
        return build_plan(q, optimizers.Adam(), schedule=comp, steps=5)
    if role == "noise":
        prob = problems.LinearRegression(n_train=40, n_test=0, n_features=2) if comp.kind == "minibatch" else q
        return build_plan(prob, optimizers.Adam(), noise=comp, steps=5)
    return build_plan(comp, optimizers.Adam(), steps=5)


def _valid_case(cp):
    cls, p = cp
    return st.tuples(st.just(cp), valid_values(p, cls().values[p.name]))


def _valid_component_value(case):
    (cls, p), value = case
    default = cls().values[p.name]
    checked = p.check(value, cls.__name__)  # the declared range accepts what it declares
    try:
        comp = cls(**{p.name: value})
    except ParameterError as exc:  # only a check across parameters may refuse it
        assert f"is not allowed; {p.name} must be" not in str(exc), str(exc)
        return
    row = comp.row()
    table = type(comp).param_table()
    assert row.dtype == np.float64
    assert all(table[n].allow_inf for n, v in zip(type(comp).dynamic_names(), row) if np.isinf(v) and n in table)
    if p.dynamic and p.kind == "int":
        packed = row[type(comp).dynamic_names().index(p.name)]
        assert packed == min(checked, FLOAT_INT_MAX)  # exact; past 2**53 updates: never
    if p.kind != "array" or default is not None:
        try:
            plan, _ = _plan_with(comp)
        except ParameterError as exc:  # e.g. a batch larger than the dataset, cycle_momentum without momentum
            assert f"is not allowed; {p.name} must be" not in str(exc), str(exc)
            return
        assert plan.n_traj >= 1


test_valid_values_construct_pack_and_plan = _quick_and_slow(
    _valid_component_value, dict(case=st.sampled_from(PARAMS).flatmap(_valid_case)), 80)
test_valid_values_construct_pack_and_plan_many = _quick_and_slow(
    _valid_component_value, dict(case=st.sampled_from(PARAMS).flatmap(_valid_case)), 3000, slow=True)


# -- every sweep keyword ---------------------------------------------------------------------


class _Ran(Exception):
    """The sweep passed every check and was about to compute."""


def _ran(*args, **kwargs):
    raise _Ran


Q = problems.Quadratic(curvatures=[1.0, 2.0])
_strings = st.text(min_size=1, max_size=5).filter(lambda s: s.strip() == s and "," not in s)
_junk = st.one_of(st.just(object()), st.complex_numbers(allow_nan=False).filter(lambda z: z.imag != 0))

#: per keyword: (invalid values, valid values); a keyword added to the table fails
#: test_every_keyword_is_covered until it is given here
KEYWORD_VALUES = {
    "noise": (st.one_of(_strings, st.integers(), st.just([noise.Gaussian(), "x"]), _junk),
              st.sampled_from([None, noise.Gaussian(sigma=0.5), [noise.Gaussian(), noise.Spikes()]])),
    "schedule": (st.one_of(_strings, st.integers(), st.just(optimizers.Adam()), _junk),
                 st.sampled_from([None, schedules.StepDecay(step_size=3), schedules.CosineAnnealing(T_max=9)])),
    "schedules": (st.one_of(st.just({"beta9": schedules.Constant()}), st.just({"beta1": 0.5}), _strings, _junk),
                  st.sampled_from([None, {"beta1": schedules.CosineAnnealing(T_max=9)}])),
    "grid": (st.one_of(st.just({"lr": ["a"]}), st.just({"lr": [math.inf]}), st.just({"lrr": [0.1]}),
                       st.just({"lr": 0.1}), st.just({"lr": []}), st.just([0.1]), _strings, _junk),
             st.sampled_from([None, {"lr": [0.1, 0.01]}, {"beta1,beta2": [(0.9, 0.99)]}])),
    "replicates": (st.one_of(st.integers(max_value=0), st.floats(), _strings, st.booleans(), _junk),
                   st.integers(1, 4)),
    "steps": (st.one_of(st.integers(max_value=0), st.floats(), _strings, st.booleans(), _junk), st.integers(1, 50)),
    "record_every": (st.one_of(st.integers(max_value=0), st.integers(min_value=2**63), st.floats(), _strings, _junk),
                     st.one_of(st.none(), st.integers(1, 2**62))),
    "record_steps": (st.one_of(st.just([0, 2.5, 7.9]), st.just([-1]), st.just([0, 11]), st.just([]),
                               st.just([[0, 1]]), st.just(["a"]), _strings, st.integers(), _junk),
                     st.one_of(st.none(), st.lists(st.integers(0, 10), min_size=1, max_size=4))),
    "record": (st.one_of(st.just(("los",)), st.integers(), st.just([1]), _junk),
               st.sampled_from([(), "loss", ("loss", "grad_norm"), ["params"]])),
    "thresholds": (st.one_of(st.lists(st.floats(max_value=0, exclude_max=True), min_size=1, max_size=2),
                             st.just([math.nan]), st.just(["low"]), st.just([[1.0], [2.0]]), _strings, _junk),
                   st.lists(st.floats(0, 1e6), max_size=3)),
    "seed": (st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64), st.floats(), _strings, _junk),
             st.integers(0, 2**64 - 1)),
    "common_random_numbers": (st.one_of(_strings, st.integers(), st.floats(), st.none(), _junk), st.booleans()),
    "diverge_factor": (st.one_of(st.floats(max_value=0), st.just(math.nan), _strings, st.booleans(), _junk),
                       st.floats(min_value=1e-3, allow_nan=False)),
    "x_bound": (st.one_of(st.floats(max_value=0), st.just(math.nan), _strings, st.booleans(), _junk),
                st.one_of(st.none(), st.floats(min_value=1e-3, allow_nan=False))),
    "chunk_size": (st.one_of(st.integers(max_value=0), st.integers(min_value=2**63), st.floats(), _strings, _junk),
                   st.one_of(st.none(), st.integers(1, 2**40))),
    "threads": (st.one_of(st.integers(max_value=0), st.integers(min_value=10**6), _strings, _junk),
                st.sampled_from([None, 1])),
    "max_memory": (st.one_of(st.integers(max_value=0), st.just("1GB"), st.just(math.inf), st.booleans(), _junk),
                   st.one_of(st.none(), st.integers(2**31, 2**62))),
    "progress": (st.one_of(_strings, st.integers(), _junk), st.sampled_from([None, False])),
    "out_dir": (st.one_of(st.integers(), st.just(""), _junk, st.just("@FILE"), st.just("@FILE/sub")),
                st.sampled_from([None, "@DIR"])),
    "resume": (st.one_of(_strings, st.integers(), st.none(), _junk), st.booleans()),
    "overwrite": (st.one_of(_strings, st.integers(), st.none(), _junk), st.booleans()),
    "client": (st.one_of(st.integers(), st.just("local:0"), st.just("local:x"), st.just("tcp://a b"), _junk),
               st.sampled_from([None, "local:2", "tcp://127.0.0.1:8786"])),
    "reduce": (st.one_of(st.just("median"), st.just(["mean", "max"]), st.integers(), st.just(True), _junk),
               st.sampled_from([None, "mean", ("mean", "std"), "mean,quantiles"])),
    "quantiles": (st.one_of(st.lists(st.floats(min_value=1, exclude_min=True), min_size=1, max_size=2),
                            st.just([-0.1]), st.just([math.nan]), st.just(["a"]), st.just([[0.5]]), _strings, _junk),
                  st.lists(st.floats(0, 1), min_size=1, max_size=3)),
}


def test_every_keyword_is_covered():
    assert set(KEYWORD_VALUES) == {k.name for k in KEYWORDS}


def _paths(value, tmp):
    if value == "@FILE":
        return str(tmp / "afile")
    if value == "@FILE/sub":
        return str(tmp / "afile" / "sub")
    if value == "@DIR":
        return str(tmp / "store")
    return value


def _sweep(name, value, tmp):
    kwargs = {name: _paths(value, tmp), "steps": 10}
    if name == "steps":
        kwargs["steps"] = value
    if name == "resume" and value:
        kwargs["out_dir"] = str(tmp / "store")
    if name == "overwrite" and value:
        kwargs["out_dir"] = str(tmp / "store")
    with mock.patch.object(sweep_module, "run_plan", _ran), mock.patch.object(sweep_module, "run_chunked", _ran):
        sweep_module.sweep(Q, optimizers.Adam(), **kwargs)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    d = tmp_path_factory.mktemp("keywords")
    (d / "afile").write_text("a regular file")
    return d


def _refused_before_work(name, value, scratch):
    with pytest.raises(ParameterError) as err:
        _sweep(name, value, scratch)
    msg = str(err.value)
    named = {"grid": ("grid", "lr"), "schedules": ("schedules", "beta")}.get(name, (name,))
    assert any(n in msg for n in named) and "\n" not in msg, msg


def _keyword_case(which):
    return dict(case=st.sampled_from(sorted(KEYWORD_VALUES)).flatmap(
        lambda n: st.tuples(st.just(n), KEYWORD_VALUES[n][which])))


def _invalid_keyword_value(scratch, case):
    _refused_before_work(*case, scratch)


def _valid_keyword_value(scratch, case):
    name, value = case
    with pytest.raises(_Ran):
        _sweep(name, value, scratch)


test_invalid_keyword_values_are_refused_before_any_work = _quick_and_slow(
    _invalid_keyword_value, _keyword_case(0), 100)
test_invalid_keyword_values_are_refused_before_any_work_many = _quick_and_slow(
    _invalid_keyword_value, _keyword_case(0), 3000, slow=True)
test_valid_keyword_values_reach_the_run = _quick_and_slow(_valid_keyword_value, _keyword_case(1), 50)
test_valid_keyword_values_reach_the_run_many = _quick_and_slow(_valid_keyword_value, _keyword_case(1), 1500,
                                                               slow=True)
