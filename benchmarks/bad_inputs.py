"""How many bad inputs get a clear error: one line naming the parameter, before any work.

The cases are those of ``tests/test_validation.py`` (one value of every kind each
declaration refuses, for every parameter of every registered component; a few values per
sweep keyword) and ``tests/test_validation_cases.py`` (the reported cases, the command
line).  They are written once, from the declarations of the tree that writes them, and can
be judged against any tree, e.g. an older one::

    PYTHONPATH=. python benchmarks/bad_inputs.py dump /tmp/cases.pkl
    PYTHONPATH=. python benchmarks/bad_inputs.py judge /tmp/cases.pkl
    PYTHONPATH=/path/to/older/tree python benchmarks/bad_inputs.py judge /tmp/cases.pkl

A case is *clear* when it raises optsim's error (``ValueError``; one line) naming the
parameter; *accepted* when the sweep would start computing (or the component constructs);
*unclear* otherwise (another exception, several lines, no name).  Nothing is compiled.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pickle
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]

TOML = """
[problem]
name = "quadratic"
curvatures = [1.0, 10.0]

[optimizer]
name = "sgd"

[run]
steps = 20
"""


def dump(path):
    sys.path.insert(0, str(ROOT / "tests"))
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import test_validation as tv
    import test_validation_cases as tc

    cases = []
    for cls, p in tv.PARAMS:
        for value in tv.invalid_examples(p):
            cases.append(("component", (cls.role, cls.name, p.name, value), p.name))
    drawn = []

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)
    @given(case=st.sampled_from(sorted(tv.KEYWORD_VALUES)).flatmap(
        lambda n: st.tuples(st.just(n), tv.KEYWORD_VALUES[n][0])))
    def collect(case):
        drawn.append(case)

    collect()
    seen = set()
    for name, value in drawn:
        key = (name, repr(value)[:200])
        if key not in seen and "object at" not in repr(value):
            seen.add(key)
            cases.append(("keyword", (name, value), name))
    for kw, _ in tc.SWEEP_CASES:
        cases.append(("sweep", kw, next(iter(kw))))
    cases += [("cli", args, word) for args, word in CLI_CASES]
    Path(path).write_bytes(pickle.dumps(cases))
    print(f"{len(cases)} cases written to {path}: {dict(Counter(c[0] for c in cases))}")


#: command-line cases: (arguments, with @CFG, @DIR, @FILE, @GARBAGE, @DUP; a word the message must hold)
CLI_CASES = [
    (["sweep", "@CFG", "-o", "@DIR"], "-o"),
    (["sweep", "@CFG", "-o", "@FILE/x.nc", "--no-figure"], "afile"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--figure", "@FILE/f.png"], "--figure"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--out-dir", "@FILE/store"], "out_dir"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--out-dir", "@DIR/s", "--resume", "--overwrite"], "--resume"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--chunk-size", "many"], "--chunk-size"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--chunk-size", "0"], "chunk_size"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--reduce", "median"], "reduce"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--set", "run.common_random_numbers=\"no\""], "common_random_numbers"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--set", "run.thresholds=[-1.0]"], "thresholds"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--set", "run.x_bound=\"big\""], "x_bound"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--set", "run.max_memory=-1"], "max_memory"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--set", "run.quantiles=[1.5]"], "quantiles"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--set", "run.record_steps=[0, 2.5]"], "record_steps"),
    (["sweep", "@CFG", "-o", "@DIR/ok.nc", "--set", "optimizer.lr=inf"], "lr"),
    (["sweep", "@DUP", "-o", "@DIR/ok.nc"], "steps"),
    (["plot", "@GARBAGE"], "garbage.nc"),
]


class _Ran(Exception):
    pass


def _ran(*a, **k):
    raise _Ran


def judge(path):
    import numpy as np  # noqa: F401 - the pickled values hold NumPy arrays

    import optsim
    from optsim import optimizers, problems, registry

    sweep_module = importlib.import_module("optsim.sweep")
    cases = pickle.loads(Path(path).read_bytes())
    tmp = Path(tempfile.mkdtemp())
    (tmp / "afile").write_text("a regular file")
    (tmp / "d").mkdir()
    (tmp / "cfg.toml").write_text(TOML)
    (tmp / "dup.toml").write_text(TOML + "steps = 30\n")
    (tmp / "garbage.nc").write_bytes(b"\x00garbage" * 20)
    subst = {"@CFG": str(tmp / "cfg.toml"), "@DUP": str(tmp / "dup.toml"), "@GARBAGE": str(tmp / "garbage.nc"),
             "@FILE": str(tmp / "afile"), "@DIR": str(tmp / "d")}
    tally = {}

    def verdict(kind, fn, name):
        try:
            with mock.patch.object(sweep_module, "run_plan", _ran), \
                    mock.patch.object(sweep_module, "run_chunked", _ran), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn()
            raise _Ran
        except _Ran:
            if "-v" in sys.argv:
                print(f"accepted: {kind} {name}")
            return "accepted"
        except Exception as exc:  # noqa: BLE001
            msg = str(exc)
            named = (name, "lr", "beta") if name in ("grid", "schedules") else (name,)  # an axis names itself
            ok = isinstance(exc, optsim.OptsimError) and "\n" not in msg and any(n in msg for n in named)
            if not ok and "-v" in sys.argv:
                print(f"unclear: {kind} {name}: {type(exc).__name__}: {msg[:300]}")
            return "clear" if ok else "unclear"

    q = problems.Quadratic(curvatures=[1.0, 2.0])
    for kind, payload, name in cases:
        if kind == "component":
            role, cname, pname, value = payload
            cls = registry.components(role)[cname]
            v = verdict(kind, lambda: cls(**{pname: value}), pname)
        elif kind in ("keyword", "sweep"):
            kw = dict(payload) if kind == "sweep" else {payload[0]: payload[1]}
            for k, val in list(kw.items()):
                if isinstance(val, str) and val.startswith("@"):
                    kw[k] = val.replace("@FILE", str(tmp / "afile")).replace("@DIR", str(tmp / "store"))
            kw.setdefault("steps", 10)
            v = verdict(kind, lambda: optsim.sweep(q, optimizers.Adam(), **kw), name)
        else:
            from optsim.cli import main

            args = [a for a in payload]
            for key, val in subst.items():
                args = [a.replace(key, val) for a in args]
            err = io.StringIO()

            def run():
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    try:
                        rc = main(args)
                    except SystemExit as e:
                        rc = e.code
                if rc == 0:
                    raise _Ran
                text = err.getvalue()
                if rc == 2 and text.count("\n") == 1 and name in text:
                    raise optsim.OptsimError(text.strip())
                raise RuntimeError(text)

            v = verdict(kind, run, name)
        tally.setdefault(kind, Counter())[v] += 1
    total = Counter()
    print(f"{'kind':10s} {'cases':>6s} {'clear':>6s} {'accepted':>9s} {'unclear':>8s}")
    for kind, c in tally.items():
        total.update(c)
        print(f"{kind:10s} {sum(c.values()):6d} {c['clear']:6d} {c['accepted']:9d} {c['unclear']:8d}")
    print(f"{'all':10s} {sum(total.values()):6d} {total['clear']:6d} {total['accepted']:9d} {total['unclear']:8d}")
    pct = 100 * total["clear"] / max(1, sum(total.values()))
    print(f"clear: {pct:.1f}%")


if __name__ == "__main__":
    cmd, target = sys.argv[1], sys.argv[2]
    dump(target) if cmd == "dump" else judge(target)
