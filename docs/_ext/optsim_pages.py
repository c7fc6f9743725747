"""Pages of the documentation site written from the code when a build starts.

Every page here is generated, never copied by hand, so it follows the code: the component
tables (``optsim list --markdown``), the table of conventions (each variant option of each
component, with what its docstring says it reproduces), one page per research study and
per lecture of the gallery (from the study and figure modules, with the verdicts of the
last run at the quick scale, kept in ``docs/verdicts/``), the API reference (every name in
the public modules' ``__all__``), the performance tables (``benchmarks/results/``) and the
explorers' page.  The files go to ``docs/generated/`` (not tracked); the functions are
importable on their own, which is how ``tests/test_docs.py`` checks them.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
GENERATED = DOCS / "generated"
VERDICTS = DOCS / "verdicts"

#: the public modules of the API reference, in the order of the page
API_MODULES = (
    ("optsim", "The package: sweeps, saving and loading, declarations"),
    ("optsim.optimizers", "Optimizers"),
    ("optsim.schedules", "Schedules"),
    ("optsim.problems", "Problems"),
    ("optsim.noise", "Noise models"),
    ("optsim.analysis", "Analysis of results"),
    ("optsim.plotting", "Plotting"),
    ("optsim.theory", "Closed forms"),
    ("optsim.io", "Result files"),
    ("optsim.config", "TOML configurations"),
    ("optsim.store", "Resumable sweeps: the chunk store"),
    ("optsim.distributed", "Dask"),
    ("optsim.reduce", "Reduction over replicates"),
    ("optsim.rng", "Random streams"),
    ("optsim.registry", "The registry"),
    ("optsim.datasets", "Datasets"),
    ("optsim.studies_runner", "The studies' runner"),
)


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` unless it already holds it (so Sphinx rereads only what changed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def heading(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _cell(text: str) -> str:
    """A list-table cell: continuation lines indented under the bullet."""
    if text == "":
        return ".."  # an empty comment: a blank cell
    lines = str(text).strip().splitlines() or ["-"]
    return "\n".join([lines[0]] + ["       " + ln for ln in lines[1:]])


def list_table(header, rows, widths=None) -> str:
    out = [".. list-table::", "   :header-rows: 1", "   :class: optsim-table"]
    if widths:
        out.append("   :widths: " + " ".join(str(w) for w in widths))
    out.append("")
    for row in [header] + list(rows):
        for i, c in enumerate(row):
            out.append(("   * - " if i == 0 else "     - ") + _cell(c))
    return "\n".join(out) + "\n"


def literal(text: str) -> str:
    """Plain text safe inside reStructuredText (stars, backquotes and pipes escaped)."""
    return re.sub(r"([*`|_\\])", r"\\\1", str(text))


# -- components and their conventions ------------------------------------------------------

def component_tables() -> str:
    """The Markdown tables of ``optsim list --markdown``."""
    from optsim import registry
    from optsim.cli import markdown_tables

    return markdown_tables(registry.ROLES)


def option_notes(cls) -> dict:
    """{option name: the docstring's bullet about it} from the class docstring's option list."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    notes = {}
    bullets, current = [], None
    for line in doc.splitlines():
        if re.match(r"^- ", line):
            current = [line[2:]]
            bullets.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            current.append(line.strip())
        else:
            current = None
    for b in bullets:
        text = " ".join(b)
        head = text.split(":", 1)[0] if ":" in text else text
        for name in re.findall(r"``(\w+)``", head):
            notes.setdefault(name, text)
    return notes


def conventions_page() -> str:
    """Each variant option (a choice or a flag) of each component, its values (default first)
    and what the component's docstring says each reproduces."""
    from optsim import registry

    roles = {"optimizer": "Optimizers", "schedule": "Schedules", "problem": "Problems", "noise": "Noise models"}
    modules = {"optimizer": "optsim.optimizers", "schedule": "optsim.schedules",
               "problem": "optsim.problems", "noise": "optsim.noise"}
    out = [heading("Conventions and what each option reproduces"),
           "Every convention that changes the numbers is a named option; the default is the form of",
           "the reference implementation (PyTorch's, where it has one).  This page is written from the",
           "registry (the options, their values and defaults) and from each class's docstring (the",
           "bullet that describes the option: which library, paper or lecture each value reproduces).",
           "The full update of each rule, in maths, is on its page of the :doc:`/generated/api`.", ""]
    for role, title in roles.items():
        rows = []
        for name, cls in sorted(registry.components(role).items()):
            notes = option_notes(cls)
            first = True
            for p in cls.params:
                if p.kind == "choice":
                    values = " / ".join(f"``{c}``" for c in [p.default] + [c for c in p.choices if c != p.default])
                elif p.kind == "bool":
                    values = f"``{p.default}`` / ``{not p.default}``"
                else:
                    continue
                note = notes.get(p.name) or literal(p.doc or "")
                rows.append([f":class:`{name} <{modules[role]}.{cls.__name__}>`" if first else "",
                             f"``{p.name}``", values, note])
                first = False
        out += [heading(title, "-"), ""]
        if rows:
            out += [list_table(["component", "option", "values (default first)", "what it reproduces"],
                               rows, widths=[13, 17, 17, 53]), ""]
        else:
            out += ["No options that change the numbers.", ""]
    return "\n".join(out)


# -- studies and lectures -------------------------------------------------------------------

def _runner():
    from studies import _runner

    return _runner


def saved_verdict(name: str, scale: str = "quick"):
    """The committed verdict of study ``name`` at the quick (or paper) scale, or None."""
    path = (VERDICTS if scale == "quick" else VERDICTS / scale) / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _counts(v) -> str:
    """A verdict's "a of b", with its inconclusive claims; "-" when none is saved."""
    if v is None:
        return "-"
    unsure = sum(1 for x in v["verdict"] if x.get("status") == "inconclusive")
    return f"{v['reproduced']} of {v['claims']}" + (f" ({unsure} inconclusive)" if unsure else "")


def _usage(v) -> str:
    """The computing time, CPU time and peak memory a saved verdict records."""
    parts = [f"computing time {v['run_seconds']:.0f} s"]
    if v.get("cpu_seconds") is not None:
        parts.append(f"{v['cpu_seconds']:.0f} s of CPU")
    if v.get("peak_rss_mb") is not None:
        parts.append(f"peak memory {v['peak_rss_mb']:.0f} MB")
    return ", ".join(parts)


def _paper_block(mod, name, kind) -> list[str]:
    """The verdict at the paper scale, beside the quick one: the same claims, each with its status."""
    paper = saved_verdict(name, "paper")
    out = [f".. _{kind}-{name}-paper:", "", heading("Verdict at the paper scale", "-"), ""]
    if paper is None:
        return out + [f"No paper-scale verdict is saved: run ``optsim study {name} --scale paper`` and "
                      "``python docs/verdicts/update.py``.", ""]
    r = _runner()
    fresh = paper.get("verdict_hash", paper["study_hash"]) == r.study_hash(mod, "paper")
    out += [f"{_counts(paper)} claims reproduced at the ``paper`` scale ({_usage(paper)}; "
            + ("judged by the study's current file" if fresh else
               "**judged by an earlier version of the study file**") + ").", ""]
    quick = {x["claim"]: x for x in (saved_verdict(name) or {"verdict": []})["verdict"]}
    rows = []
    for x, cells in zip(paper["verdict"], _verdict_rows(paper["verdict"], with_source=False)):
        q = quick.get(x["claim"])
        rows.append([cells[0], cells[2], "-" if q is None else _verdict_rows([q], with_source=False)[0][3],
                     cells[3]])
    return out + [list_table(["claim", "measured at paper", "verdict at quick", "verdict at paper"], rows,
                             widths=[34, 36, 15, 15]), ""]


def research_studies():
    r = _runner()
    return [s["name"] for s in r.list_studies() if not hasattr(r.load_study(s["name"]), "GALLERY")]


def lecture_studies():
    r = _runner()
    return [s["name"] for s in r.list_studies() if hasattr(r.load_study(s["name"]), "GALLERY")]


def _verdict_rows(rows, with_source=True):
    table = []
    for r in rows:
        status = r.get("status", "reproduced" if r["reproduced"] else "not reproduced")
        mark = {"reproduced": "reproduced", "not reproduced": "**not reproduced**",
                "inconclusive": "*inconclusive* at this scale (within its Monte-Carlo error)"}[status]
        row = [literal(r["claim"])]
        if with_source:
            row.append(literal(r["source"]))
        table.append(row + [literal(r["expected"]), literal(r["measured"]), mark])
    return table


def _verdict_summary(mod, verdict, name) -> str:
    r = _runner()
    fresh = verdict["study_hash"] == r.study_hash(mod, "quick")
    unsure = sum(1 for x in verdict["verdict"] if x.get("status") == "inconclusive")
    return (f"{verdict['reproduced']} of {verdict['claims']} claims reproduced at the ``quick`` scale "
            + (f"({unsure} inconclusive within its Monte-Carlo error) " if unsure else "")
            + f"(computing time {verdict['run_seconds']:.0f} s; study hash ``{verdict['study_hash']}``, "
            + ("that of the study's current file" if fresh else
               f"**an earlier version of the study file**: rerun ``optsim study {name}`` and "
               f"``python docs/verdicts/update.py``") + ").")


def _figure_block(figname, image_dirs=("img", "gallery")) -> list[str]:
    fmod = _runner().load_figure(figname)
    doc = inspect.cleandoc(fmod.__doc__ or figname)
    first, _, rest = doc.partition("\n\n")  # the title is the first sentence of the first paragraph
    first = " ".join(first.split())
    title, dot, more = first.partition(". ")
    if dot:
        rest = more + "\n\n" + rest
    out = [heading(title.rstrip("."), "~"), ""]
    if rest.strip():
        out += [literal(rest.strip()), ""]
    for d in image_dirs:
        if (DOCS / d / f"{figname}.png").is_file():
            out += [f".. image:: /{d}/{figname}.png", f"   :alt: {figname}", "   :width: 100%", ""]
            break
    else:
        out += [f"The image is drawn by ``optsim figures {fmod.STUDY}`` (``figures/out/{figname}.png``).", ""]
    return out


def study_page(name: str) -> str:
    r = _runner()
    mod = r.load_study(name)
    out = [f".. _study-{name}:", "", heading(mod.TITLE), "",
           f"Study ``{name}`` (``studies/{name}.py``).  Run it, or reuse its saved results, with",
           "", ".. code-block:: bash", "", f"   optsim study {name}            # the quick scale",
           f"   optsim study {name} --scale paper", f"   optsim figures {name}", "",
           heading("Question", "-"), "", literal(mod.QUESTION), "",
           heading("Hypothesis", "-"), "", literal(mod.HYPOTHESIS), ""]
    verdict = saved_verdict(name)
    if verdict is not None:
        paper = saved_verdict(name, "paper")
        out += [f"**Verdict**: {verdict['reproduced']} of {verdict['claims']} claims reproduced at the quick "
                f"scale (:ref:`the table <study-{name}-verdict>`)"
                + ("" if paper is None else f"; {_counts(paper)} at the paper scale "
                   f"(:ref:`the table <study-{name}-paper>`)") + ".", ""]
    out += [heading("Figures", "-"), ""]
    for figname in mod.FIGURES:
        out += _figure_block(figname)
    out += [f".. _study-{name}-verdict:", "", heading("Verdict at the quick scale", "-"), ""]
    if verdict is None:
        out += [f"No verdict is saved for this study: run ``optsim study {name}`` and "
                "``python docs/verdicts/update.py``.", ""]
    else:
        out += [_verdict_summary(mod, verdict, name), "",
                list_table(["claim", "source", "expected", "measured", "verdict"],
                           _verdict_rows(verdict["verdict"]), widths=[26, 14, 25, 25, 10]), ""]
    out += _paper_block(mod, name, "study")
    out += [heading("Scales", "-"), "",
            "``tiny`` runs in seconds (the tests), ``quick`` (the default) in minutes on two cores,",
            "``paper`` at the published scale.  Lists of more than six numbers are shown by their range.", ""]
    out += [list_table(["scale", "parameters"], [[f"``{s}``", literal(compact(r._jsonable(p)))]
                                                 for s, p in mod.SCALES.items()], widths=[10, 90]), ""]
    return "\n".join(out)


def compact(value) -> str:
    """A study's parameters in a line a reader can scan: long lists of numbers by their range."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {compact(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        nums = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(value) > 6 and len(nums) == len(value):
            return f"{len(value)} values from {min(nums):.3g} to {max(nums):.3g}"
        return "[" + ", ".join(compact(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def lecture_page(name: str) -> str:
    r = _runner()
    mod = r.load_study(name)
    g = mod.GALLERY
    out = [f".. _lecture-{name}:", "", heading(f"Lecture {g['lecture']}: {g['title']}"), "",
           f"*{literal(g['source'])}*", "",
           f"Each figure below is drawn by ``optsim gallery {name}`` from the results of the study",
           f"``{name}`` (``studies/{name}.py``) and shown with the part of the lecture it reproduces,",
           "what the lecture claims there, and whether the simulation shows it, with the measured numbers.", ""]
    verdict = saved_verdict(name)
    rows = verdict["verdict"] if verdict else []
    if verdict is not None:
        out += [_verdict_summary(mod, verdict, name), ""]
    for figname in mod.FIGURES:
        fmod = r.load_figure(figname)
        out += _figure_block(figname, image_dirs=("gallery", "img"))
        out += [f"**Reproduces**: lecture {getattr(fmod, 'LECTURE', g['lecture'])}, "
                f"{literal(getattr(fmod, 'SLIDE', 'see the lecture'))}", ""]
        if hasattr(fmod, "CLAIM"):
            out += [f"**The lecture claims**: {literal(fmod.CLAIM)}", ""]
        mine = [x for x in rows if x.get("figure") == figname]
        if mine:
            out += [list_table(["claim", "expected", "measured", "verdict"], _verdict_rows(mine, False),
                               widths=[30, 30, 30, 10]), ""]
        if (DOCS / "gallery" / f"{figname}.gif").is_file():
            out += ["The animation:", "", f".. image:: /gallery/{figname}.gif", f"   :alt: {figname} animation",
                    "   :width: 80%", ""]
    loose = [x for x in rows if x.get("figure") not in mod.FIGURES]
    if loose:
        out += [heading("Other checks", "~"), "",
                list_table(["claim", "source", "expected", "measured", "verdict"], _verdict_rows(loose),
                           widths=[26, 14, 25, 25, 10]), ""]
    if verdict is None:
        out += [f"No verdict is saved: run ``optsim gallery {name}`` and ``python docs/verdicts/update.py``.", ""]
    out += _paper_block(mod, name, "lecture")
    return "\n".join(out)


def _index(title, intro, names, folder, rows) -> str:
    out = [heading(title), "", *intro, "", list_table(*rows), "", ".. toctree::", "   :hidden:", ""]
    out += [f"   {folder}/{n}" for n in names]
    return "\n".join(out) + "\n"


def studies_index() -> str:
    r = _runner()
    names = research_studies()
    rows = []
    for n in names:
        mod = r.load_study(n)
        v = saved_verdict(n)
        rows.append([f":doc:`{n} <studies/{n}>`", literal(mod.QUESTION), _counts(v), _counts(saved_verdict(n, "paper"))])
    intro = ["A study asks one research question of the simulator, with its grid in code, and checks its",
             "answer against the published claim: each page gives the question, the hypothesis, the",
             "figures and the verdict tables of the last runs at the ``quick`` and ``paper`` scales.",
             "``optsim reproduce`` runs every study and draws every figure.  How a study is written:",
             ":doc:`/GUIDE`."]
    return _index("Studies", intro, names, "studies",
                  (["study", "question", "reproduced (quick)", "reproduced (paper)"], rows, [14, 56, 15, 15]))


def lectures_index() -> str:
    r = _runner()
    names = lecture_studies()
    rows = []
    for n in names:
        g = r.load_study(n).GALLERY
        v = saved_verdict(n)
        rows.append([f":doc:`Lecture {g['lecture']} <lectures/{n}>`", literal(g["title"]), literal(g["source"]),
                     str(len(r.load_study(n).FIGURES)), _counts(v), _counts(saved_verdict(n, "paper"))])
    intro = ["The gallery regenerates the figures and worked examples of five lectures on optimizers,",
             "each figure from one script and each run from saved results, so that lecturers and students",
             "can rerun, vary and check them (``optsim gallery``).  Where a lecture's own numbers are wrong",
             "the page shows the correct value and says so.  Colours are fixed per optimizer in every",
             "figure; open circles mark starts, filled circles ends, stars the minimum.  The figures of",
             "tiny sweeps made while the site is built are in the :doc:`/generated/gallery/index`."]
    return _index("Lecture gallery", intro, names, "lectures",
                  (["lecture", "title", "author, course and title", "figures", "reproduced (quick)",
                    "reproduced (paper)"], rows, [10, 22, 32, 8, 14, 14]))


# -- the API reference ----------------------------------------------------------------------

def public_names(modname: str) -> list[str]:
    """The names of ``modname.__all__`` that are not modules (those have their own section)."""
    import importlib
    import types

    mod = importlib.import_module(modname)
    return [n for n in getattr(mod, "__all__", []) if not isinstance(getattr(mod, n), types.ModuleType)]


def api_page() -> str:
    import importlib

    out = [heading("API reference"), "",
           "Every public name of optsim, by module: each module's ``__all__``.  The optimizers' pages",
           "give the update in maths, the map from the symbols to the arguments, the state rows and the",
           "references; the options and what each reproduces are gathered in",
           ":doc:`/generated/conventions`.", ""]
    for modname, title in API_MODULES:
        mod = importlib.import_module(modname)
        summary = inspect.cleandoc(mod.__doc__ or "").split("\n\n")[0]
        names = [n for n in public_names(modname) if n != "__version__"]
        out += [heading(f"{title}: ``{modname}``", "-"), "", f".. module:: {modname}", "   :no-index:", "",
                summary if modname != "optsim" else "", "",
                f".. currentmodule:: {modname}", "", ".. autosummary::", "   :toctree: api", "   :nosignatures:", ""]
        out += [f"   {n}" for n in names] + [""]
    return "\n".join(out)


# -- performance ----------------------------------------------------------------------------

def _fmt_ratio(x):
    return "-" if x is None else (f"{x:.3g}x")


def benchmark_summary(paths) -> str:
    """One table of optsim's rate and its ratio to each peer, a row per workload, each from the
    first report in ``paths`` (JSON reports of ``bench_peers.py``) that has it."""
    peers = [("numpy", "x NumPy"), ("jax", "x JAX + optax"), ("torch", "x PyTorch (batched)"),
             ("torch_optim", "x torch.optim"), ("python", "x plain Python"), ("c", "x C loop")]
    rows = {}
    for path in paths:
        for wname, w in json.loads(Path(path).read_text())["workloads"].items():
            if wname not in rows and w["impls"].get("optsim", {}).get("status") == "ok":
                rows[wname] = (Path(path).name, w)
    present = [(k, t) for k, t in peers if any(w["impls"].get(k, {}).get("status") == "ok" for _, w in rows.values())]
    header = ("| workload | optsim rate | " + " | ".join(t for _, t in present)
              + " | optsim / C, rounds | first call | warm start | report |")
    lines = [header, "|---|---:|" + "---:|" * len(present) + "---:|---:|---:|---|"]
    for wname, (source, w) in rows.items():
        o = w["impls"]["optsim"]
        cells = []
        for k, _ in present:
            p = w["impls"].get(k, {})
            cells.append(_fmt_ratio(o["rate"] / p["rate"]) if p.get("status") == "ok" and p.get("rate") else "-")
        rounds = ", ".join(f"{x:.2f}" for x in o.get("round_ratios", [])) or "-"
        start = w.get("optsim_startup") or {}
        first = (start.get("cold") or {}).get("wall_s")
        warm = (start.get("warm") or {}).get("wall_s")
        lines.append(f"| {wname} | {o['rate']:.3g} {w['workload'].get('unit', '')}/s | " + " | ".join(cells)
                     + f" | {rounds} | {'-' if first is None else f'{first:.1f} s'} | "
                     + f"{'-' if warm is None else f'{warm:.1f} s'} | `{source}` |")
    return "\n".join(lines)


def performance_summary() -> str:
    """The summary table of the full-scale benchmark reports: ``bench_peers_rounds.json`` first,
    then any other full-scale report for the workloads it does not have."""
    results = ROOT / "benchmarks" / "results"
    reports = sorted((p for p in results.glob("bench_peers*.json") if "quick" not in p.stem),
                     key=lambda p: (p.stem != "bench_peers_rounds", p.stem))
    if not reports:
        return "No benchmark report is committed (`benchmarks/results/bench_peers*.json`)."
    return "Ratios > 1: optsim is faster.\n\n" + benchmark_summary(reports)


def performance_reports() -> str:
    """Every committed Markdown report of the benchmarks, in full."""
    out = []
    for md in sorted((ROOT / "benchmarks" / "results").glob("*.md")):  # paths relative to docs/performance.md
        out += [f"#### {md.stem.replace('_', ' ')}", "", f"`benchmarks/results/{md.name}`:", "",
                f"```{{include}} ../benchmarks/results/{md.name}", ":heading-offset: 2", "```", ""]
    return "\n".join(out)


# -- explorers ------------------------------------------------------------------------------

def explorers_page(extra: Path) -> str:
    """Build the explorers with ``docs/explorers/build.py`` (``build(outdir) -> paths``) when it
    exists, into the site's ``explorers/`` folder, and list them."""
    script = DOCS / "explorers" / "build.py"
    out = [heading("Explorers"), "",
           "An explorer is one self-contained HTML page of a sweep, with a control for every grid",
           "dimension, median curves with quantile bands over replicates, and, for 2-D problems, the",
           "trajectories on the loss contours.  It works offline and fetches nothing.", ""]
    if not script.is_file():
        return "\n".join(out + ["The explorers are not built in this version of optsim.", ""])
    spec = importlib.util.spec_from_file_location("optsim_docs_explorers", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dest = extra / "explorers"
    dest.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in module.build(dest)]
    if not paths:
        return "\n".join(out + ["The explorers' script built no page.", ""])
    out += ["Open an explorer (each opens on its own, in this browser):", ""]
    described = getattr(module, "EXPLORERS", {})
    for p in paths:
        rel = p.resolve().relative_to(extra.resolve()).as_posix()
        about = " ".join((getattr(described.get(p.stem), "__doc__", None) or "").split())
        out.append(f"- `{p.stem.replace('_', ' ')} <../{rel}>`__" + (f": {about}" if about else ""))
    return "\n".join(out + [""])


# -- offline maths --------------------------------------------------------------------------

def copy_mathjax(static: Path) -> Path:
    """Copy MathJax 3 (CommonHTML output, TeX input and their fonts and extensions) from the
    ``django-static-mathjax`` package into ``static/mathjax``."""
    import mathjax

    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    dest = static / "mathjax"
    if (dest / "tex-chtml.js").is_file():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "tex-chtml.js", dest / "tex-chtml.js")
    for sub in ("input", "output/chtml", "ui", "a11y", "adaptors"):
        shutil.copytree(src / sub, dest / sub, dirs_exist_ok=True)
    if (src.parent / "LICENSE").is_file():  # Apache-2.0, shipped with the copy
        shutil.copy2(src.parent / "LICENSE", dest / "LICENSE")
    return dest


# -- the Sphinx hook ------------------------------------------------------------------------

def generate(app=None, config=None) -> list[Path]:
    """Write every generated page under ``docs/generated``; returns their paths."""
    GENERATED.mkdir(exist_ok=True)
    extra = GENERATED / "extra"
    extra.mkdir(exist_ok=True)
    copy_mathjax(GENERATED / "static")
    written = [
        write(GENERATED / "component_tables.md", component_tables() + "\n"),
        write(GENERATED / "conventions.rst", conventions_page()),
        write(GENERATED / "api.rst", api_page()),
        write(GENERATED / "performance_summary.md", performance_summary() + "\n"),
        write(GENERATED / "performance_reports.md", performance_reports()),
        write(GENERATED / "studies.rst", studies_index()),
        write(GENERATED / "lectures.rst", lectures_index()),
        write(GENERATED / "explorers.rst", explorers_page(extra)),
    ]
    for n in research_studies():
        written.append(write(GENERATED / "studies" / f"{n}.rst", study_page(n)))
    for n in lecture_studies():
        written.append(write(GENERATED / "lectures" / f"{n}.rst", lecture_page(n)))
    return written


def setup(app):
    app.connect("config-inited", generate, priority=100)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
