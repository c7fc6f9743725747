"""Run research studies, save their results, check their verdicts and draw their figures.

This is the research layer's runner; the library (``optsim``) never imports it (the old
address ``optsim.studies_runner`` forwards here on first use).  Studies and figures are the
``studies`` and ``figures`` packages, found by import (``pip install -e .`` from the
repository installs them with the library); an explicit ``root`` argument or
``$OPTSIM_ROOT`` names a tree of files instead.

A *study* is a module ``studies/<name>.py`` (or a package ``studies/<name>/``) with

- ``NAME``, ``TITLE``, ``QUESTION``, ``HYPOTHESIS``: strings;
- ``SCALES = {"tiny": {...}, "quick": {...}, "paper": {...}}``: its parameters per scale
  ("tiny": seconds, for smoke tests; "quick", the default: minutes on two cores; "paper":
  the published scale);
- ``run(scale="quick") -> dict[str, xarray.Dataset]``: computes, writes nothing;
- ``verdict(results) -> list[dict]`` with keys ``claim``, ``source``, ``expected``,
  ``measured`` (strings) and ``reproduced`` (bool); a row judged with a Monte-Carlo-aware
  criterion (``studies/_criteria.py``) adds ``criterion``, ``statistic``, ``interval``,
  ``uncertainty``, ``threshold`` and ``status`` (``"reproduced"``, ``"not reproduced"`` or
  ``"inconclusive"``: within the Monte-Carlo error of that scale), all kept in ``verdict.json``;
- ``FIGURES``: the names of its figure modules.

A *figure* is a module ``figures/<figname>.py`` with ``NAME``, ``STUDY`` (the study's
``NAME``), a docstring, and ``draw(results) -> matplotlib.figure.Figure``, which only reads
the results.  A figure may also define ``animate(results) -> (Figure, Animation)`` (from
:func:`optsim.plotting.animate_paths`), written as GIF (and MP4 when ffmpeg is present).

The *lecture gallery* is the set of studies with a ``GALLERY`` dict (``lecture``: the
lecture's number, ``title``, ``source``: author, course and module, ``file``: the name of
its text, which the gallery does not show: a lecture is named by its author, course and
title).  Their figures carry ``LECTURE``, ``SLIDE`` (where in the lecture) and ``CLAIM``
(one sentence: what the lecture shows), and their verdict rows may name the ``figure``
they belong to.  :func:`gallery` runs them, draws every figure and animation, and
writes ``GALLERY.md``: each figure with its lecture, slide, claim and whether the
reproduction shows it.

:func:`run_study` saves results to ``results/<name>/<scale>/<key>.nc`` (under the working
directory, or under an explicit root) with a ``verdict.json`` next to them, and reuses them
(instead of recomputing) while the study's parameters at that scale and its source file are
unchanged.  :func:`draw_figures` writes ``figures/out/<figname>.png`` and ``.pdf`` (plus a
JSON sidecar with provenance); :func:`reproduce` does everything.  The command line exposes
them as ``optsim study``, ``optsim figures`` and ``optsim reproduce`` (see
:func:`add_parsers`), and ``python figures/<figname>.py`` draws one figure from saved
results (:func:`figure_main`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import sys
import time
from pathlib import Path

from optsim._components import OptsimError
from optsim.io import atomic_path, to_jsonable

__all__ = [
    "StudyError",
    "find_root",
    "list_studies",
    "load_study",
    "load_figure",
    "study_hash",
    "results_dir",
    "load_results",
    "run_study",
    "draw_figures",
    "reproduce",
    "gallery",
    "gallery_page",
    "format_verdict",
    "add_parsers",
    "dispatch",
    "figure_main",
]

SCALES = ("tiny", "quick", "paper")
_REQUIRED = ("NAME", "TITLE", "QUESTION", "HYPOTHESIS", "SCALES", "run", "verdict", "FIGURES")
_SINGULAR = {"studies": "study", "figures": "figure"}
_VERDICT_KEYS = ("claim", "source", "expected", "measured", "reproduced")


class StudyError(OptsimError):
    """A study or figure that cannot be found, run or drawn (the message says what to do)."""


# -- locating and importing ----------------------------------------------------------------


def find_root(root=None) -> Path:
    """A tree of study and figure files: ``root`` if given, else ``$OPTSIM_ROOT``, else the first
    directory at or above the working directory that holds both ``studies/`` and ``figures/``.

    The runner itself no longer walks up from the working directory: without ``root`` and
    ``$OPTSIM_ROOT`` it imports the ``studies`` and ``figures`` packages (see :func:`_tree`).
    """
    if root is not None:
        root = Path(root).resolve()
        if not (root / "studies").is_dir():
            raise StudyError(f"{root} has no studies/ directory")
        return root
    env = os.environ.get("OPTSIM_ROOT")
    if env:
        return find_root(env)
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "studies").is_dir() and (d / "figures").is_dir():
            return d
    raise StudyError(
        f"no studies/ and figures/ directories at or above {here}; run from the repository "
        "root or set OPTSIM_ROOT"
    )


class _Tree:
    """Where studies and figures come from and where their results and images go.

    ``packaged``: the studies and figures are the importable ``studies`` and ``figures``
    packages (imported by name); otherwise they are the files under ``repo`` (an explicit
    ``root`` or ``$OPTSIM_ROOT``).  ``out`` holds ``results/`` and ``figures/out/``: the
    working directory for the packages, ``repo`` for an explicit tree.  ``repo`` is also
    where ``--publish`` writes ``docs/gallery/`` and ``figures/GALLERY.md``.
    """

    def __init__(self, repo, out, packaged):
        self.repo, self.out, self.packaged = Path(repo), Path(out), packaged

    def __repr__(self):
        return f"_Tree(repo={self.repo}, out={self.out}, packaged={self.packaged})"


def _package(kind):
    try:
        return importlib.import_module(kind)
    except ModuleNotFoundError as exc:
        if exc.name != kind:
            raise
        raise StudyError(f"the {kind} package is not importable; install the repository with "
                         "`pip install -e .` from its root, or set OPTSIM_ROOT to it") from None


def _tree(root=None) -> _Tree:
    """``root`` (a path, or ``$OPTSIM_ROOT``) as an explicit tree of files, else the packages."""
    if isinstance(root, _Tree):
        return root
    if root is not None or os.environ.get("OPTSIM_ROOT"):
        repo = find_root(root)
        return _Tree(repo, repo, packaged=False)
    repo = Path(_package("studies").__file__).resolve().parents[1]
    return _Tree(repo, Path.cwd(), packaged=True)


def _module_file(root, kind, name):
    base = Path(root) / kind
    for f in (base / f"{name}.py", base / name / "__init__.py"):
        if f.is_file():
            return f
    return None


def _names(root, kind):
    if root.packaged:
        pkg = _package(kind)
        return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith(("_", ".")))
    base = root.repo / kind
    if not base.is_dir():
        return []
    out = []
    for p in sorted(base.iterdir()):
        if p.name.startswith(("_", ".")):
            continue
        if p.suffix == ".py":
            out.append(p.stem)
        elif p.is_dir() and (p / "__init__.py").is_file():
            out.append(p.name)
    return out


def _import(root, kind, name):
    if root.packaged:
        known = _names(root, kind)
        if name not in known:
            where = Path(_package(kind).__file__).parent
            raise StudyError(f"no {_SINGULAR[kind]} {name!r} in {where} (known: {', '.join(known) or 'none'})")
        return importlib.import_module(f"{kind}.{name}")
    f = _module_file(root.repo, kind, name)
    if f is None:
        known = ", ".join(_names(root, kind)) or "none"
        raise StudyError(f"no {_SINGULAR[kind]} {name!r} in {root.repo / kind} (known: {known})")
    root_s = str(root.repo)
    if root_s not in sys.path:
        sys.path.insert(0, root_s)  # studies and figures may import each other absolutely
    tag = hashlib.sha1(root_s.encode()).hexdigest()[:8]
    modname = f"_optsim_{kind}_{tag}_{name}"
    mtime = f.stat().st_mtime_ns
    cached = sys.modules.get(modname)
    if cached is not None and getattr(cached, "__optsim_mtime__", None) == mtime:
        return cached
    spec = importlib.util.spec_from_file_location(
        modname, f, submodule_search_locations=[str(f.parent)] if f.name == "__init__.py" else None
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception:
        sys.modules.pop(modname, None)
        raise
    mod.__optsim_mtime__ = mtime
    return mod


def load_study(name, root=None):
    """The study module ``studies/<name>``, checked for the study interface."""
    root = _tree(root)
    mod = _import(root, "studies", name)
    missing = [a for a in _REQUIRED if not hasattr(mod, a)]
    if missing:
        raise StudyError(f"study {name!r} lacks {', '.join(missing)}")
    return mod


def load_figure(figname, root=None):
    """The figure module ``figures/<figname>``, checked for ``NAME``, ``STUDY`` and ``draw``."""
    root = _tree(root)
    mod = _import(root, "figures", figname)
    missing = [a for a in ("NAME", "STUDY", "draw") if not hasattr(mod, a)]
    if missing:
        raise StudyError(f"figure {figname!r} lacks {', '.join(missing)}")
    return mod


def list_studies(root=None) -> list[dict]:
    """Every study under ``root``: name, title, question, figures and the scales with saved results."""
    root = _tree(root)
    out = []
    for name in _names(root, "studies"):
        mod = load_study(name, root)
        saved = [s for s in mod.SCALES if (results_dir(name, s, root) / "verdict.json").is_file()]
        out.append({"name": name, "title": mod.TITLE, "question": mod.QUESTION,
                    "scales": list(mod.SCALES), "figures": list(mod.FIGURES), "saved": saved})
    return out


def format_study_list(studies) -> str:
    """The list from :func:`list_studies` as text for the terminal."""
    lines = []
    for s in studies:
        saved = ", ".join(s["saved"]) or "none"
        lines.append(f"{s['name']}: {s['title']}")
        lines.append(f"    question: {s['question']}")
        lines.append(f"    figures: {', '.join(s['figures'])}; saved results: {saved}")
    return "\n".join(lines)


# -- results ----------------------------------------------------------------------------------


def _jsonable(x):
    """A study's parameters as JSON (any other object as its ``repr``)."""
    return to_jsonable(x, default=repr)


def study_hash(mod, scale) -> str:
    """Hash of the study's parameters at ``scale`` and of its source file."""
    h = hashlib.sha256()
    h.update(json.dumps(_jsonable(mod.SCALES[scale]), sort_keys=True).encode())
    h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:16]


def results_dir(name, scale="quick", root=None) -> Path:
    return _tree(root).out / "results" / name / scale


def _check_scale(mod, scale):
    if scale not in mod.SCALES:
        raise StudyError(f"study {mod.NAME!r} has no scale {scale!r}; scales: {', '.join(mod.SCALES)}")


def _check_verdict(name, rows):
    if not isinstance(rows, list):
        raise StudyError(f"study {name!r}: verdict() must return a list of dicts")
    for r in rows:
        missing = [k for k in _VERDICT_KEYS if k not in r]
        if missing:
            raise StudyError(f"study {name!r}: a verdict row lacks {', '.join(missing)}")
    out = []
    for r in rows:
        status = r.get("status")
        if status is not None and status not in _STATUSES:
            raise StudyError(f"study {name!r}: a verdict row has status={status!r}, not one of "
                             f"{', '.join(map(repr, _STATUSES))}")
        if status is not None and bool(r["reproduced"]) != (status == "reproduced"):
            raise StudyError(f"study {name!r}: a verdict row has status={status!r} but reproduced={r['reproduced']!r}")
        out.append({**r, "reproduced": bool(r["reproduced"])})
    return out


def _read_manifest(d):
    try:
        return json.loads((d / "verdict.json").read_text())
    except (OSError, ValueError):
        return None


def load_results(name, scale="quick", root=None):
    """The saved results of a study at ``scale`` (never computes); raises naming the command to run."""
    from optsim.io import load

    root = _tree(root)
    d = results_dir(name, scale, root)
    manifest = _read_manifest(d)
    cmd = f"optsim study {name}" + ("" if scale == "quick" else f" --scale {scale}")
    if manifest is None:
        raise StudyError(f"no results for study {name!r} at scale {scale!r} in {d}; run `{cmd}` first")
    results = {}
    for key in manifest["keys"]:
        f = d / f"{key}.nc"
        if not f.is_file():
            raise StudyError(f"results of study {name!r} are incomplete ({f} is missing); run `{cmd} --force`")
        results[key] = load(f)
    return results


def _reusable(mod, name, scale, root):
    d = results_dir(name, scale, root)
    manifest = _read_manifest(d)
    if manifest is None or manifest.get("study_hash") != study_hash(mod, scale):
        return None
    try:
        results = load_results(name, scale, root)
    except (StudyError, OSError, ValueError):
        return None
    if any(ds.attrs.get("study_hash") != manifest["study_hash"] for ds in results.values()):
        return None
    return results


_STATUSES = ("reproduced", "not reproduced", "inconclusive")
_MARKS = {"reproduced": "REPRODUCED", "not reproduced": "NOT REPRODUCED",
          "inconclusive": "INCONCLUSIVE AT THIS SCALE (within Monte-Carlo error; a larger scale narrows it)"}


def format_verdict(rows) -> str:
    """A verdict as a plain-text table."""
    if not rows:
        return "(no claims)"
    lines = []
    for i, r in enumerate(rows, 1):
        status = r.get("status", "reproduced" if r["reproduced"] else "not reproduced")
        lines.append(f"[{i}] {_MARKS[status]}: {r['claim']}")
        lines.append(f"    source:   {r['source']}")
        lines.append(f"    expected: {r['expected']}")
        lines.append(f"    measured: {r['measured']}")
        if "criterion" in r:
            lo, hi = r["interval"]
            lines.append(f"    judged:   {r['criterion']}: statistic {r['statistic']:.4g}, interval "
                         f"[{lo:.4g}, {hi:.4g}], threshold {r['threshold']:.4g}")
        if r.get("note"):
            lines.append(f"    note:     {r['note']}")
    return "\n".join(lines)


def _call_run(mod, scale, client):
    kwargs = {}
    if client is not None:
        if "client" in inspect.signature(mod.run).parameters:
            kwargs["client"] = client
    return mod.run(scale, **kwargs)


def _compute(mod, name, scale, client, d, resumable, say):
    """``mod.run(scale)``, with every sweep in it resumable from ``d/_sweeps`` when ``resumable``."""
    import contextlib
    import shutil

    from optsim.store import SweepInterrupted, checkpoints

    partial = d / PARTIAL
    if resumable and partial.is_dir() and any(partial.iterdir()):
        say(f"resuming: the finished chunks of an interrupted run are in {partial}")
    try:
        with checkpoints(partial) if resumable else contextlib.nullcontext():
            results = _call_run(mod, scale, client)
    except SweepInterrupted:
        cmd = f"optsim study {name}" + ("" if scale == "quick" else f" --scale {scale}")
        raise SweepInterrupted(f"interrupted; the finished chunks of study {name!r} are kept in {partial}. "
                               f"Run `{cmd}` again to compute only the rest.") from None
    if resumable:
        shutil.rmtree(partial, ignore_errors=True)
    return results


#: where a study's sweeps keep their finished chunks until the study's results are saved
PARTIAL = "_sweeps"
#: the resource use kept in verdict.json: CPU seconds of the run (every thread), and the
#: process's peak resident memory when the run ended (in one ``optsim study`` process: the study's)
_USAGE = ("cpu_seconds", "peak_rss_mb")


def _peak_rss_mb():
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def run_study(name, scale="quick", root=None, force=False, client=None, quiet=False, resumable=True,
              rejudge=False):
    """Run study ``name`` at ``scale`` (or reuse its saved results) and print its verdict.

    Results go to ``<root>/results/<name>/<scale>/<key>.nc`` with ``verdict.json``; they
    are reused when they were made with the same ``SCALES[scale]`` and study source
    (unless ``force``).  ``client`` is passed on to the study's ``run`` when that accepts
    a ``client`` argument (every ``optsim.sweep`` in it also runs on the default client of
    :func:`optsim.distributed.default_client`, as ``--dask`` sets).

    ``resumable``: every ``optsim.sweep`` the study runs keeps its finished chunks in
    ``results/<name>/<scale>/_sweeps/`` (:func:`optsim.store.checkpoints`), so a run that is
    interrupted or fails loses nothing already computed: the same command computes only the
    rest.  The directory is removed once the results are saved.  Parts of a study that do
    not go through ``sweep`` (a loop over kernels of its own) are recomputed.

    ``rejudge``: judge the saved results with the study's current ``verdict()`` without
    computing, even when they were made by an earlier source of the study (the manifest
    then keeps the results' hash and records the verdict's as ``verdict_hash``), e.g. after
    a criterion changed and the results took hours.  Returns the results dict.
    """
    from optsim.io import save

    root = _tree(root)
    mod = load_study(name, root)
    _check_scale(mod, scale)
    say = (lambda *a: None) if quiet else print
    say(f"{mod.NAME}: {mod.TITLE}  [scale {scale}]")
    say(f"question:   {mod.QUESTION}")
    say(f"hypothesis: {mod.HYPOTHESIS}")
    d = results_dir(name, scale, root)
    digest = study_hash(mod, scale)
    verdict_hash, params = digest, _jsonable(mod.SCALES[scale])
    if rejudge:
        if force:
            raise StudyError("force=True and rejudge=True conflict: force recomputes, rejudge never computes")
        results = load_results(name, scale, root)
        old = _read_manifest(d)
        digest, params = old["study_hash"], old.get("scale_parameters", params)
        say(f"re-judging the saved results in {d} with the current verdict()" + (
            "" if digest == verdict_hash else
            f"; they were computed by an earlier source of the study (hash {digest}, now {verdict_hash})"))
        reused = True
    else:
        results = None if force else _reusable(mod, name, scale, root)
        reused = results is not None
        if reused:
            old = _read_manifest(d)
            seconds = old.get("run_seconds")
            say(f"reusing saved results in {d} (computed in {seconds:.1f} s)" if seconds is not None
                else f"reusing saved results in {d}")
    if reused:
        seconds = old.get("run_seconds")
        usage = {k: old[k] for k in _USAGE if k in old}
    else:
        t0, c0 = time.perf_counter(), time.process_time()
        results = _compute(mod, name, scale, client, d, resumable, say)
        seconds = time.perf_counter() - t0
        usage = {"cpu_seconds": time.process_time() - c0, "peak_rss_mb": _peak_rss_mb()}
        if not isinstance(results, dict) or not results:
            raise StudyError(f"study {name!r}: run() must return a non-empty dict of xarray Datasets")
        d.mkdir(parents=True, exist_ok=True)
        for key, ds in results.items():
            ds.attrs.update({"study": mod.NAME, "study_scale": scale, "study_hash": digest})
            save(ds, d / f"{key}.nc")
        say(f"computed in {seconds:.1f} s; saved to {d}")
    rows = _check_verdict(name, mod.verdict(results))
    manifest = {
        "study": mod.NAME, "title": mod.TITLE, "scale": scale, "study_hash": digest,
        "scale_parameters": params, "keys": list(results),
        "run_seconds": seconds, **usage, "reproduced": sum(r["reproduced"] for r in rows), "claims": len(rows),
        "inconclusive": sum(r.get("status") == "inconclusive" for r in rows), "verdict": rows,
    }
    if verdict_hash != digest:
        manifest["verdict_hash"] = verdict_hash
    with atomic_path(d / "verdict.json") as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=2, default=str))
    say(format_verdict(rows))
    say(f"{manifest['reproduced']}/{len(rows)} claims reproduced" + (" (saved results)" if reused else ""))
    return results


# -- figures ------------------------------------------------------------------------------------


def _figures_of(root, name):
    """[(figure name, study name)] selected by ``name``: a study, a figure, or everything (None)."""
    studies = _names(root, "studies")
    if name is None:
        return [(f, s) for s in studies for f in load_study(s, root).FIGURES]
    if name in studies:
        return [(f, name) for f in load_study(name, root).FIGURES]
    if name in _names(root, "figures"):
        return [(name, load_figure(name, root).STUDY)]
    raise StudyError(f"{name!r} is neither a study ({', '.join(studies) or 'none'}) nor a figure")


def draw_figures(name=None, scale="quick", root=None, quiet=False, animations=False) -> list[Path]:
    """Draw the figures of study (or figure) ``name``, or of every study with saved results.

    Each goes to ``<root>/figures/out/<figname>.png`` and ``.pdf`` with a JSON sidecar.
    A named study or figure without saved results raises :class:`StudyError` naming the
    command that makes them; with ``name=None`` studies without results are skipped (and
    an error is raised only if none has results).  With ``animations``, figures that
    define ``animate`` are also written as ``<figname>.gif`` (and ``.mp4`` with ffmpeg).
    """
    from optsim.plotting import save_animation, save_figure

    root = _tree(root)
    say = (lambda *a: None) if quiet else print
    out_dir = root.out / "figures" / "out"
    written, cache, missing = [], {}, []
    for figname, study in _figures_of(root, name):
        if study not in cache:
            try:
                cache[study] = load_results(study, scale, root)
            except StudyError as exc:
                if name is not None:
                    raise
                cache[study] = None
                missing.append(str(exc))
        results = cache[study]
        if results is None:
            continue
        mod = load_figure(figname, root)
        fig = mod.draw(results)
        ds = next(iter(results.values()))
        paths = save_figure(fig, out_dir / figname, ds=ds)
        sidecar = out_dir / f"{figname}.json"
        info = json.loads(sidecar.read_text())
        info.update({"figure": figname, "study": study, "study_scale": scale,
                     "study_hash": ds.attrs.get("study_hash")})
        sidecar.write_text(json.dumps(info, indent=2, sort_keys=True, default=str))
        written.extend(p for p in paths if p.suffix in (".png", ".pdf"))
        say(f"{figname}: {out_dir / figname}.png, .pdf")
        if animations and hasattr(mod, "animate"):
            _fig, anim = mod.animate(results)
            moving = save_animation(anim, out_dir / figname)
            written.extend(moving)
            say(f"{figname}: " + ", ".join(str(m) for m in moving))
    for m in missing:
        say(f"skipped: {m}")
    if not written and missing:
        raise StudyError("no study has saved results; " + missing[0].split("; ", 1)[-1])
    return written


def reproduce(scale="quick", root=None, force=False, quiet=False) -> list[dict]:
    """Run every study at ``scale`` (reusing saved results), draw every figure, print a summary."""
    root = _tree(root)
    say = (lambda *a: None) if quiet else print
    from optsim.engine.plan import KERNEL_LOG, kernel_time

    summary = []
    log_start = len(KERNEL_LOG)
    for name in _names(root, "studies"):
        t0 = time.perf_counter()
        run_study(name, scale, root, force=force, quiet=quiet)
        t_run = time.perf_counter() - t0
        t0 = time.perf_counter()
        figs = draw_figures(name, scale, root, quiet=quiet, animations=True)
        t_fig = time.perf_counter() - t0
        manifest = _read_manifest(results_dir(name, scale, root))
        summary.append({"study": name, "scale": scale, "reproduced": manifest["reproduced"],
                        "claims": manifest["claims"], "run_seconds": t_run,
                        "compute_seconds": manifest["run_seconds"], "figure_seconds": t_fig,
                        "figures": len([f for f in figs if f.suffix == ".png"])})
        say("")
    w = max([len(s["study"]) for s in summary] + [5])
    say(f"{'study':<{w}}  claims reproduced  run (s)  computed (s)  figures  figures (s)")
    for s in summary:
        say(f"{s['study']:<{w}}  {s['reproduced']:>8}/{s['claims']:<8}  {s['run_seconds']:7.1f}  "
            f"{s['compute_seconds']:12.1f}  {s['figures']:7d}  {s['figure_seconds']:11.1f}")
    n_comp, t_comp, n_load, t_load = kernel_time(log_start)
    e_comp, te_comp, e_load, te_load = kernel_time(log_start, kind="entry points")
    cpu = kernel_time(log_start, kind=None, clock="cpu_seconds")[1]
    loop = any(e["compiled"] and e["kernel"] == "optsim.engine._driver" for e in KERNEL_LOG[log_start:])
    say(f"compiled: {'the loop and ' if loop else ''}{n_comp - loop} problems' entry points in {t_comp:.1f} s, "
        f"{e_comp} entry points of optimizers and schedules and the records in {te_comp:.1f} s "
        f"({t_comp + te_comp:.1f} s in all, {cpu:.1f} s of CPU); "
        f"loaded from the cache: {n_load + e_load} in {t_load + te_load:.1f} s")
    if _gallery_studies(root):
        page = write_gallery_page(scale, root)
        say(f"gallery page: {page}")
    return summary


# -- the lecture gallery ------------------------------------------------------------------------------


def _gallery_studies(root):
    return [n for n in _names(root, "studies") if hasattr(load_study(n, root), "GALLERY")]


def _mark(row):
    status = row.get("status", "reproduced" if row["reproduced"] else "not reproduced")
    return {"reproduced": "reproduced", "not reproduced": "**not reproduced**",
            "inconclusive": "*inconclusive*"}[status]


def _counts(manifest):
    """``"a of b"`` claims reproduced, with the inconclusive ones when there are any."""
    unsure = manifest.get("inconclusive") or sum(r.get("status") == "inconclusive" for r in manifest["verdict"])
    return f"{manifest['reproduced']} of {manifest['claims']}" + (f" ({unsure} inconclusive)" if unsure else "")


def gallery_page(scale="quick", root=None, images=None) -> str:
    """The gallery page (Markdown) from the saved verdicts of the gallery studies.

    ``images`` is the directory prefix of the figure files in the links (default: the page
    sits next to them in ``figures/out``).  Lectures whose results are missing are listed
    with the command that makes them.
    """
    root = _tree(root)
    prefix = "" if images is None else images.rstrip("/") + "/"
    out_dir = root.out / "figures" / "out"
    others = [s for s in SCALES if s not in (scale, "tiny")
              and any(_read_manifest(results_dir(n, s, root)) for n in _gallery_studies(root))]
    shown = [scale, *others]
    lines = [
        "# Lecture gallery",
        "",
        "Figures and worked examples of five lectures on optimizers, regenerated by optsim",
        "from saved results (`optsim gallery`); each lecture is named by its author, course and title.",
        "Each entry names the lecture and the slide it reproduces, says in one sentence what",
        "the lecture claims, and whether the reproduction shows it, with the measured numbers.",
        "Colours are fixed per optimizer across all figures (`optsim.plotting.OPTIMIZER_COLORS`);",
        "open circles mark starts, filled circles ends, stars the minimum.",
        "",
        f"Scale: `{scale}`.  Regenerate with `optsim gallery" + ("" if scale == "quick" else f" --scale {scale}") + "`.",
        "",
        f"The table gives the claims reproduced at each scale with saved results; each check below",
        f"says its verdict at `{scale}`" + ("" if not others else
                                            f" and, where saved, at `{'`, `'.join(others)}`") + ".",
        "",
        "| lecture | figures | " + " | ".join(f"claims reproduced (`{s}`)" for s in shown) + " |",
        "|---|---|" + "---|" * len(shown),
    ]
    for name in _gallery_studies(root):
        mod = load_study(name, root)
        cells = []
        for s in shown:
            manifest = _read_manifest(results_dir(name, s, root))
            cells.append("no saved results" if manifest is None else _counts(manifest))
        lines.append(f"| {mod.GALLERY['lecture']}: {mod.GALLERY['title']} | {len(mod.FIGURES)} | "
                     + " | ".join(cells) + " |")
    lines.append("")
    for name in _gallery_studies(root):
        mod = load_study(name, root)
        g = mod.GALLERY
        lines += [f"## Lecture {g['lecture']}: {g['title']}", "", f"*{g['source']}*", ""]
        manifest = _read_manifest(results_dir(name, scale, root))
        if manifest is None:
            lines += [f"No saved results at scale `{scale}`: run `optsim study {name}"
                      + ("" if scale == "quick" else f" --scale {scale}") + "`.", ""]
            continue
        rows = manifest["verdict"]
        elsewhere = {s: {r["claim"]: r for r in (_read_manifest(results_dir(name, s, root)) or {}).get("verdict", [])}
                     for s in others}

        def mark(r):
            text = f"{_mark(r)} at `{scale}`" if others else _mark(r)
            for s in others:
                if r["claim"] in elsewhere[s]:
                    text += f", {_mark(elsewhere[s][r['claim']])} at `{s}`"
            return text

        for figname in mod.FIGURES:
            fmod = load_figure(figname, root)
            title = (fmod.__doc__ or figname).strip().splitlines()[0].rstrip(".")
            lines += [f"### {title}", ""]
            lines += [f"- **Lecture {getattr(fmod, 'LECTURE', g['lecture'])}**, "
                      f"{getattr(fmod, 'SLIDE', 'see the lecture text')}"]
            if hasattr(fmod, "CLAIM"):
                lines += [f"- **The lecture claims:** {fmod.CLAIM}"]
            mine = [r for r in rows if r.get("figure") == figname]
            for r in mine:
                lines += [f"- {mark(r)}: {r['claim']} Expected {r['expected']}; measured {r['measured']}."]
            lines += ["", f"![{figname}]({prefix}{figname}.png)", ""]
            if (out_dir / f"{figname}.gif").is_file() or hasattr(fmod, "animate"):
                lines += [f"Animation: [{figname}.gif]({prefix}{figname}.gif)", ""]
        loose = [r for r in rows if r.get("figure") not in mod.FIGURES]
        if loose:
            lines += ["### Other checks", ""]
            for r in loose:
                lines += [f"- {mark(r)}: {r['claim']} ({r['source']}) Expected {r['expected']}; "
                          f"measured {r['measured']}."]
            lines += [""]
    return "\n".join(lines)


def _downscaled_png(src, dest, width=1400):
    """A copy of ``src`` at most ``width`` pixels wide (published images stay small)."""
    from PIL import Image

    with Image.open(src) as im:
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
        with atomic_path(dest) as tmp:
            im.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(tmp, format="PNG", optimize=True)


def write_gallery_page(scale="quick", root=None, publish=False) -> Path:
    """Write ``figures/out/GALLERY.md``; with ``publish`` also copy the gallery's PNGs and
    GIFs to ``docs/gallery/`` and write ``figures/GALLERY.md`` linking to them."""
    import shutil

    root = _tree(root)
    out_dir = root.out / "figures" / "out"
    page = out_dir / "GALLERY.md"
    with atomic_path(page) as tmp:
        Path(tmp).write_text(gallery_page(scale, root))
    if publish:
        dest = root.repo / "docs" / "gallery"
        dest.mkdir(parents=True, exist_ok=True)
        for name in _gallery_studies(root):
            for figname in load_study(name, root).FIGURES:
                f = out_dir / f"{figname}.png"
                if f.is_file():
                    _downscaled_png(f, dest / f.name)
                f = out_dir / f"{figname}.gif"
                if f.is_file():
                    shutil.copyfile(f, dest / f.name)
        page = root.repo / "figures" / "GALLERY.md"
        with atomic_path(page) as tmp:
            Path(tmp).write_text(gallery_page(scale, root, images="../docs/gallery"))
    return page


def gallery(scale="quick", root=None, force=False, quiet=False, animations=True, publish=False, name=None):
    """Run the lecture studies (reusing saved results), draw their figures and animations,
    and write the gallery page.  ``name`` limits it to one lecture study.  Returns the page."""
    root = _tree(root)
    say = (lambda *a: None) if quiet else print
    names = _gallery_studies(root)
    if name is not None:
        if name not in names:
            raise StudyError(f"{name!r} is not a gallery study (known: {', '.join(names) or 'none'})")
        names = [name]
    for n in names:
        run_study(n, scale, root, force=force, quiet=quiet)
        draw_figures(n, scale, root, quiet=quiet, animations=animations)
        say("")
    page = write_gallery_page(scale, root, publish=publish)
    say(f"gallery page: {page}")
    return page


# -- command line ---------------------------------------------------------------------------------


def add_parsers(sub):
    """Add ``study``, ``figures`` and ``reproduce`` to an argparse subparsers object."""
    p = sub.add_parser("study", help="run a research study (or reuse its saved results) and print its verdict")
    p.add_argument("name", nargs="?", metavar="NAME", help="the study (omit to list the studies)")
    p.add_argument("--scale", choices=SCALES, default="quick", help="tiny, quick (default) or paper")
    p.add_argument("--force", action="store_true", help="recompute even when saved results are current")
    p.add_argument("--dask", metavar="ADDRESS", help="run the sweeps on a Dask cluster (tcp://host:port or local:N)")
    p.add_argument("--rejudge", action="store_true",
                   help="judge the saved results with the current verdict, without computing (even when "
                        "they come from an earlier source of the study)")
    p.add_argument("--no-resume", action="store_true",
                   help="do not keep the sweeps' finished chunks in results/<name>/<scale>/_sweeps while running")
    p = sub.add_parser("figures", help="draw the figures of the studies with saved results")
    p.add_argument("name", nargs="?", metavar="NAME", help="a study or a figure (default: all)")
    p.add_argument("--scale", choices=SCALES, default="quick", help="whose results to draw (default quick)")
    p = sub.add_parser("reproduce", help="run every study, then draw every figure")
    p.add_argument("--scale", choices=SCALES, default="quick", help="tiny, quick (default) or paper")
    p.add_argument("--force", action="store_true", help="recompute even when saved results are current")
    p.add_argument("--dask", metavar="ADDRESS", help="run the sweeps on a Dask cluster (tcp://host:port or local:N)")
    p = sub.add_parser("gallery", help="reproduce the lecture figures (PNG, PDF, GIF) and write GALLERY.md")
    p.add_argument("name", nargs="?", metavar="LECTURE", help="one lecture study, e.g. lecture_002 (default: all)")
    p.add_argument("--scale", choices=SCALES, default="quick", help="tiny, quick (default) or paper")
    p.add_argument("--force", action="store_true", help="recompute even when saved results are current")
    p.add_argument("--no-animations", action="store_true", help="skip the GIF/MP4 animations")
    p.add_argument("--publish", action="store_true",
                   help="also copy the images to docs/gallery/ and write figures/GALLERY.md")


def dispatch(args) -> int:
    """Carry out a ``study``, ``figures`` or ``reproduce`` command parsed by :func:`add_parsers`."""
    import contextlib

    if args.command == "figures":
        draw_figures(args.name, args.scale)
        return 0
    if args.command == "gallery":
        gallery(args.scale, force=args.force, animations=not args.no_animations, publish=args.publish,
                name=args.name)
        return 0
    cluster = contextlib.nullcontext()
    if getattr(args, "dask", None):
        from optsim.distributed import default_client

        cluster = default_client(args.dask)
    with cluster:
        if args.command == "study":
            if args.name is None:
                print(format_study_list(list_studies()))
            else:
                run_study(args.name, args.scale, force=args.force, rejudge=args.rejudge,
                          resumable=not args.no_resume)
        elif args.command == "reproduce":
            reproduce(args.scale, force=args.force)
        else:
            raise StudyError(f"unknown command {args.command!r}")
    return 0


def figure_main(figname, argv=None) -> int:
    """What ``python figures/<figname>.py [--scale S]`` does: draw that figure from the saved
    results of its study into ``figures/out/`` (as ``optsim figures <figname>``).  Without
    saved results it prints the command that computes them and returns 2."""
    import argparse

    p = argparse.ArgumentParser(prog=f"python figures/{figname}.py",
                                description=f"Draw the figure {figname} from its study's saved results.")
    p.add_argument("--scale", choices=SCALES, default="quick", help="whose results to draw (default quick)")
    args = p.parse_args(argv)
    try:
        draw_figures(figname, args.scale)
    except StudyError as exc:
        print(f"{p.prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0
