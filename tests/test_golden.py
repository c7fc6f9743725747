"""optsim against the reference libraries' own trajectories, from committed golden files.

Each file under ``tests/golden/`` is one case written by a ``tests/golden/make_*.py``
script from PyTorch, optax, pytorch-optimizer or Keras in float64 (the format is
:mod:`golden.fixtures`).  Here optsim runs the same case through its ordinary engine, so
the libraries' numbers are checked wherever the tests run, with none of them installed.

The cases of one rule on one problem (the same loop, schedules, shapes and arrays) run as
one sweep, their options zipped along one grid axis, so the engine compiles once per rule
and not once per file; each file still is its own test.
"""

import json

import numpy as np
import pytest

import optsim
from golden import fixtures
from optsim import registry
from optsim.problems import Quadratic, Replay

OPTIMIZER_CASES = fixtures.cases("optimizers")
SCHEDULE_CASES = fixtures.cases("schedules")


def relerr(a, b):
    """The largest normwise relative error over the rows (steps)."""
    a, b = np.atleast_2d(np.asarray(a, float)), np.atleast_2d(np.asarray(b, float))
    num = np.linalg.norm(a - b, axis=-1)
    den = np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
    return float(np.max(num / den))


def _schedule(spec):
    return None if spec is None else registry.build("schedule", spec)


# -- problems with matrix-shaped parameters -------------------------------------------------------

_SHAPED = {}


def _shaped(base, shapes):
    """``base`` (Replay or Quadratic) declaring ``param_shapes = shapes``: the same gradients,
    the flat vector cut into the named arrays as the golden file's ``param_shapes`` says."""
    key = (base.__name__, json.dumps(shapes))
    if key not in _SHAPED:
        frozen = {name: tuple(int(n) for n in shape) for name, shape in shapes.items()}
        _SHAPED[key] = type(f"Shaped{base.__name__}", (base,), {
            "param_shapes": lambda self: dict(frozen),
            "__doc__": f"{base.__name__} with the parameter as {frozen}."})
    return _SHAPED[key]


def problem_of(meta, arrays):
    """The problem a golden case runs on: the replayed gradients (open loop) or the diagonal
    quadratic (closed loop), with the case's matrix shapes if it declares them."""
    x0 = arrays["x0"]
    if meta["loop"] == "open":
        cls, kw = Replay, dict(grads=arrays["grads"], x0=x0)
    else:
        cls, kw = Quadratic, dict(curvatures=arrays["curvatures"], center=arrays["center"], x0=x0)
    if meta.get("param_shapes"):
        cls = _shaped(cls, meta["param_shapes"])
    return cls(**kw)


def optsim_trajectory(meta, arrays):
    """optsim's parameters before the first and after every update, for one case."""
    return _sweep([meta["optimizer"]], meta, arrays)[0]


def _sweep(specs, meta, arrays):
    """One sweep of the rule of ``specs`` (one registry name) with the options of each spec
    zipped along one grid axis: the trajectories, one (T + 1, d) array per spec."""
    opts = [registry.build("optimizer", s) for s in specs]
    schedule = _schedule(meta.get("schedule"))
    schedules = {hp: _schedule(s) for hp, s in (meta.get("schedules") or {}).items()}
    steps = arrays["xs"].shape[0] - 1
    values = [o.values for o in opts]
    keys = sorted(k for k in values[0] if any(v[k] != values[0][k] for v in values))
    kw = dict(schedule=schedule, schedules=schedules or None, steps=steps, record_every=1, record=("params",),
              diverge_factor=np.inf)
    if keys:
        axis = tuple(f"optimizer.{k}" for k in keys)
        rows = [tuple(v[k] for k in keys) for v in values]
        kw["grid"] = {axis: rows} if len(keys) > 1 else {axis[0]: [r[0] for r in rows]}
    ds = optsim.sweep(problem_of(meta, arrays), opts[0], **kw)
    p = ds["params"].values.reshape(-1, steps + 1, ds.sizes["param"])
    return [p[i] for i in range(len(specs))] if keys else [p[0]] * len(specs)


def _group_key(meta, arrays):
    parts = [meta["optimizer"]["name"], meta["loop"], json.dumps(meta.get("schedule"), sort_keys=True),
             json.dumps(meta.get("schedules"), sort_keys=True), json.dumps(meta.get("param_shapes"), sort_keys=True)]
    parts += [np.ascontiguousarray(arrays[k]).tobytes().hex() for k in sorted(arrays) if k != "xs"]
    parts.append(str(arrays["xs"].shape))
    return "|".join(parts)


def _comparable(meta):
    return meta.get("comparable", True)


def _groups(paths):
    """{group key: [paths]} of the comparable optimizer cases."""
    out = {}
    for path in paths:
        meta, arrays = fixtures.load(path)
        if _comparable(meta):
            out.setdefault(_group_key(meta, arrays), []).append(path)
    return out


_GROUPS = {p: paths for paths in _groups(OPTIMIZER_CASES).values() for p in paths}
_RESULTS = {}


def grouped_trajectory(path):
    """optsim's trajectory of the case at ``path``, from the one sweep of its group (run once)."""
    if path not in _RESULTS:
        paths = _GROUPS[path]
        loaded = [fixtures.load(p) for p in paths]
        meta, arrays = loaded[0]
        try:
            got = _sweep([m["optimizer"] for m, _ in loaded], meta, arrays)
        except (optsim.ParameterError, TypeError, ValueError):  # options that cannot share a grid axis
            got = [optsim_trajectory(m, a) for m, a in loaded]
        _RESULTS.update(zip(paths, got))
    return _RESULTS[path]


def _ids(paths):
    return [p.stem for p in paths]


def test_there_are_golden_files_for_both_kinds():
    assert len(OPTIMIZER_CASES) >= 2 and len(SCHEDULE_CASES) >= 1


@pytest.mark.parametrize("path", OPTIMIZER_CASES, ids=_ids(OPTIMIZER_CASES))
def test_optimizer_matches_its_library(path):
    meta, arrays = fixtures.load(path)
    if not _comparable(meta):
        assert meta.get("note"), f"{path.stem}: a case that is not comparable says why in its note"
        pytest.skip(f"not comparable yet: {meta['note']}")
    got = grouped_trajectory(path)
    assert got.shape == arrays["xs"].shape
    err = relerr(got, arrays["xs"])
    assert err <= meta["rtol"], f"{meta['reference']} ({meta['library']} {meta['library_version']}): {err:.3g}"


def _momenta(schedule, n):
    fn = type(schedule).kernels["momentum"]
    row = schedule.row()
    return np.array([fn(k, row) for k in range(n)])


@pytest.mark.parametrize("path", SCHEDULE_CASES, ids=_ids(SCHEDULE_CASES))
def test_schedule_matches_its_library(path):
    meta, arrays = fixtures.load(path)
    lrs = arrays["lrs"]
    schedule = _schedule(meta["schedule"])
    got = schedule.learning_rates(lrs.shape[0], base_lr=meta["base_lr"], losses=arrays.get("losses"))
    err = relerr(got[None], lrs[None]) if np.any(lrs) else float(np.max(np.abs(got - lrs)))
    assert err <= meta["rtol"], f"{meta['reference']} ({meta['library']} {meta['library_version']}): {err:.3g}"
    if "momentum" in arrays:
        err = relerr(_momenta(schedule, lrs.shape[0])[None], arrays["momentum"][None])
        assert err <= meta["rtol"], f"{meta['reference']}: momentum {err:.3g}"


def test_a_wrong_trajectory_fails_the_comparison():
    """The comparison can fail: a golden trajectory off by one part in 1e9 is caught."""
    path = OPTIMIZER_CASES[0]
    meta, arrays = fixtures.load(path)
    got = optsim_trajectory(meta, arrays)
    assert relerr(got, arrays["xs"]) <= meta["rtol"]
    assert relerr(got * (1 + 1e-9), arrays["xs"]) > meta["rtol"]


def test_a_grouped_sweep_gives_each_case_its_own_trajectory():
    """The zipped grid of a group gives every case the numbers of its own sweep."""
    paths = max((ps for ps in _groups(OPTIMIZER_CASES).values()), key=len)
    assert len(paths) > 1
    for path in (paths[0], paths[-1]):
        meta, arrays = fixtures.load(path)
        np.testing.assert_array_equal(grouped_trajectory(path), optsim_trajectory(meta, arrays))


def test_a_matrix_case_runs_on_its_shapes():
    """A case with ``param_shapes`` runs on a problem that declares them (Muon sees matrices)."""
    shaped = [p for p in OPTIMIZER_CASES if fixtures.load(p)[0].get("param_shapes")]
    assert shaped
    meta, arrays = fixtures.load(shaped[0])
    prob = problem_of(meta, arrays)
    assert {k: tuple(v) for k, v in meta["param_shapes"].items()} == prob.param_shapes()
    assert prob.param_blocks().shape[0] == len(meta["param_shapes"])


def test_every_file_records_its_library_versions():
    for path in OPTIMIZER_CASES + SCHEDULE_CASES:
        meta, _ = fixtures.load(path)
        assert meta["library_version"], path.stem
        if meta["library"] in ("optax", "keras"):
            assert meta.get("jax_version"), path.stem


# -- coverage: every component that a library has, in at least one golden file --------------------

# registry name -> the golden case prefixes that cover it (optimizer cases or schedule cases)
COVERAGE = {
    "optimizer": {
        "sgd": ("torch_sgd", "optax_sgd", "keras_sgd"),
        "adagrad": ("torch_adagrad", "optax_adagrad", "keras_adagrad"),
        "rmsprop": ("torch_rmsprop", "optax_rmsprop", "keras_rmsprop"),
        "adadelta": ("torch_adadelta", "optax_adadelta", "keras_adadelta"),
        "adam": ("torch_adam", "optax_adam", "keras_adam"),
        "adamw": ("torch_adamw", "optax_adamw", "keras_adamw"),
        "amsgrad": ("torch_amsgrad", "optax_amsgrad", "keras_amsgrad"),
        "adamax": ("torch_adamax", "optax_adamax", "keras_adamax"),
        "nadam": ("torch_nadam", "optax_nadam", "keras_nadam"),
        "radam": ("torch_radam", "optax_radam"),
        "lion": ("optax_lion", "pto_lion", "keras_lion"),
        "adabound": ("pto_adabound",),
        "ademamix": ("optax_ademamix", "pto_ademamix"),
        "prodigy": ("prodigyopt_prodigy", "pto_prodigy", "optax_prodigy"),
        "sam": ("pto_sam", "optax_sam"),
        "muon": ("torch_muon", "optax_muon", "pto_muon"),
    },
    "schedule": {
        "constant": ("optax_constant",),
        "step": ("torch_steplr",),
        "multistep": ("torch_multisteplr", "optax_piecewise_constant", "keras_piecewise_constant"),
        "exponential": ("torch_exponentiallr", "optax_exponential", "keras_exponential"),
        "polynomial": ("torch_polynomiallr", "optax_polynomial", "optax_linear", "keras_polynomial"),
        "cosine": ("torch_cosineannealinglr", "optax_cosine_decay", "keras_cosine_decay"),
        "warm_restarts": ("torch_warmrestarts", "keras_cosine_restarts"),
        "cyclic": ("torch_cycliclr",),
        "one_cycle": ("torch_onecyclelr", "optax_cosine_onecycle", "optax_linear_onecycle"),
        "plateau": ("torch_reducelronplateau",),
        "inverse_time": ("keras_inverse_time",),
        "transformer": ("torch_lambdalr_transformer",),
        "linear_warmup": ("torch_linearlr",),
        "beta3_warmup": ("pto_ademamix_warmup",),
    },
}

# the registered components no reference library has in optsim's form (the NumPy oracles of
# tests/reference/ are their only reference)
NO_LIBRARY = {
    "optimizer": {
        # torch's SGD(nesterov=True) stores the look-ahead point y = x + mu v; optsim's NAG records
        # the true iterate x (tests/test_rules_basic.py compares y with torch live)
        "nag",
        "maxprop",  # lecture 002's L-infinity RMSprop: in no library
        # pytorch-optimizer's SWATS is another rule (its own switch test and an Adam phase
        # with a different eps); the switch of Keskar & Socher is checked against the oracle
        "swats",
    },
    "schedule": {
        "inverse_sqrt",  # eta / sqrt(k + 1): no library has this form (T5's and fairseq's differ)
        "untuned_linear_warmup",  # Ma & Yarats's pytorch-warmup package is not one of the references
        "untuned_exponential_warmup",
    },
}


def _names_in(meta):
    """The registry names a golden file exercises: (role, name) pairs."""
    out = set()

    def walk(spec):
        if isinstance(spec, dict) and "name" in spec:
            out.add(("schedule", spec["name"]))
            for v in spec.values():
                walk(v)

    if "optimizer" in meta:
        out.add(("optimizer", meta["optimizer"]["name"]))
    walk(meta.get("schedule"))
    for s in (meta.get("schedules") or {}).values():
        walk(s)
    return out


def _covered():
    """{(role, name): [case stems]} of the comparable golden files."""
    out = {}
    for path in OPTIMIZER_CASES + SCHEDULE_CASES:
        meta, _ = fixtures.load(path)
        if _comparable(meta):
            for key in _names_in(meta):
                out.setdefault(key, []).append(path.stem)
    return out


@pytest.mark.parametrize("role", ["optimizer", "schedule"])
def test_every_component_a_library_has_has_a_golden_file(role):
    """A registered optimizer or schedule is either in a comparable golden file or listed in
    NO_LIBRARY with the reason; a new component with neither is reported here."""
    covered = {name for r, name in _covered() if r == role}
    registered = set(registry.components(role))
    missing = sorted(registered - covered - NO_LIBRARY[role])
    assert not missing, f"registered {role}s without a golden file (add a make_*.py case or list them " \
                        f"in NO_LIBRARY with the reason): {missing}"
    stale = sorted(NO_LIBRARY[role] & covered)
    assert not stale, f"{stale} have golden files: take them out of NO_LIBRARY"


@pytest.mark.parametrize("role", ["optimizer", "schedule"])
def test_the_coverage_table_names_files_of_its_component(role):
    """Each prefix of COVERAGE matches at least one comparable file that exercises the component."""
    covered = _covered()
    for name, prefixes in COVERAGE[role].items():
        stems = covered.get((role, name), [])
        for prefix in prefixes:
            assert any(s.startswith(prefix) for s in stems), f"{role} {name}: no comparable golden file {prefix}*"
