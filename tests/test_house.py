"""The shape of the house: no import cycle inside optsim/, no long module, one keyword table.

These tests read the source (with ``ast``) and the public objects; they run no sweep.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import optsim
from optsim import config
from optsim._sweep import keywords
from optsim.io import to_jsonable

PKG = Path(optsim.__file__).parent
MAX_LINES = 600


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield ".".join(parts), path


def _imports(mod, path):
    """The optsim modules that ``mod`` imports anywhere in its file (top level or in a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "optsim"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "optsim":
                out.add(target)
                out |= {f"{target}.{a.name}" for a in node.names}  # `from . import sibling`
    return out


def _import_graph():
    mods = dict(_modules())
    # an edge to one's own package is that package's __init__ running first, not a cycle
    return {m: {t for t in _imports(m, p) if t in mods and t != m and not m.startswith(t + ".")}
            for m, p in mods.items()}


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_optsim():
    graph = _import_graph()
    assert "optsim.store" in graph and "optsim._sweep.run" in graph
    assert _cycles(graph) == []


def test_sweep_modules_import_one_way():
    order = ["keywords", "spec", "grid", "plan", "assemble", "run"]
    graph = _import_graph()
    for i, name in enumerate(order):
        for target in graph[f"optsim._sweep.{name}"]:
            assert target != "optsim.sweep", f"_sweep.{name} imports optsim.sweep"
            if target.startswith("optsim._sweep."):
                assert order.index(target.rsplit(".", 1)[1]) < i, f"_sweep.{name} imports {target}"


def test_no_module_over_600_lines():
    long = {}
    for _, path in _modules():
        rel = path.relative_to(PKG).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            long[rel] = n
    assert long == {}


def test_everything_importable_from_optsim_sweep_before_the_split_still_is():
    from optsim import sweep as _  # noqa: F401 - the function; the module is below
    import sys

    mod = sys.modules["optsim.sweep"]
    names = ("sweep build_plan Method MemoryLimitError assemble assemble_reduced run_chunked run_plan "
             "check_memory spec_hash _jsonable _check_int _methods _as_method _schedule_tree _locations "
             "_resolve _get _set _Axis _axes _record_steps _available_memory _gib _make_group _node_entries "
             "_spec_dict _layout_coords _coord_names _slot_names _attrs _TRAILING _STAT_TEXT RECORDABLE "
             "Plan Group KernelSpec Component OptsimError ParameterError closest Noise Optimizer Problem "
             "Schedule _provenance").split()
    assert [n for n in names if not hasattr(mod, n)] == []
    assert optsim.sweep is mod.sweep and optsim.Method is mod.Method


# -- the keyword table --------------------------------------------------------------------


def _keyword_defaults(fn):
    return {p.name: p.default for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY}


def test_sweep_and_build_plan_take_the_table_keywords():
    from optsim.sweep import build_plan

    table = {k.name: k.default for k in keywords.KEYWORDS}
    assert _keyword_defaults(optsim.sweep) == table
    assert _keyword_defaults(build_plan) == {n: table[n] for n in keywords.PLAN_KEYWORDS}
    for name in table:  # help(optsim.sweep) documents every keyword
        assert re.search(rf"^    (\w+, )*{name}(, \w+)* :", optsim.sweep.__doc__, re.M), name


def test_a_signature_that_drifts_from_the_table_is_refused():
    with pytest.raises(TypeError, match="table"):
        @keywords.takes("plan")
        def bad(problem, optimizer, *, steps=100):
            pass
    source = "def bad(problem, optimizer, *, {}): pass".format(
        ", ".join(f"{n}={99 if n == 'steps' else keywords.BY_NAME[n].default!r}" for n in keywords.PLAN_KEYWORDS))
    space = {}
    exec(source, space)  # noqa: S102 - a signature built from the table, with one default changed
    with pytest.raises(TypeError, match="default is 100"):
        keywords.takes("plan")(space["bad"])


def test_config_and_cli_derive_from_the_table():
    assert config.RUN_KEYS == {k.name: k.summary for k in keywords.KEYWORDS if k.config == "run"}
    sections = {k.name for k in keywords.KEYWORDS if k.config == "section"}
    assert sections <= set(config.SECTIONS)
    from optsim.cli import _parser

    sweep_parser = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)).choices["sweep"]
    dests = {a.dest for a in sweep_parser._actions}
    assert {k.name for k in keywords.KEYWORDS if k.cli} <= dests
    args = sweep_parser.parse_args(["c.toml", "--threads", "2", "--dask", "local:2", "--chunk-size", "5", "-q"])
    from optsim.cli import _run_options

    assert _run_options(args) == {"threads": 2, "client": "local:2", "chunk_size": 5, "progress": False,
                                  "resume": False, "overwrite": False}


def test_config_checks_run_only_keys_at_load():
    text = '[problem]\nname = "quadratic"\n[optimizer]\nname = "sgd"\n[run]\nchunk_size = 0\n'
    with pytest.raises(config.ConfigError, match=r"\[run\] chunk_size=0 is not allowed"):
        config.parse_config(text)


# -- one JSON helper ----------------------------------------------------------------------


def test_one_json_helper_for_sweeps_store_and_studies():
    import optsim.store
    import optsim.sweep  # noqa: F401
    import sys

    assert sys.modules["optsim.sweep"]._jsonable is to_jsonable
    assert "to_jsonable" in inspect.getsource(optsim.store.ChunkStore)
    spec = {"b": (1, np.float64(2.5)), "a": [float("inf"), np.int64(3)], 2: np.arange(2), "n": None}
    out = to_jsonable(spec)
    assert out == {"2": [0, 1], "a": ["inf", 3], "b": [1, 2.5], "n": None}
    assert list(out) == ["2", "a", "b", "n"]  # sorted keys, whatever json.dumps is told
    assert json.dumps(out, allow_nan=False)  # strict JSON
    assert to_jsonable({"x": math.nan})["x"] == "nan"


def test_unknown_objects_fail_in_a_spec_and_become_repr_in_a_study():
    class Thing:
        def __repr__(self):
            return "Thing()"

    assert isinstance(to_jsonable([Thing()])[0], Thing)  # json.dumps refuses it, as before
    assert to_jsonable([Thing(), "s", 1.5, True], default=repr) == ["Thing()", "s", 1.5, True]
