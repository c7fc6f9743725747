"""The ``optsim`` command line.

::

    optsim list [ROLE]                         registered components and their parameters
    optsim sweep CONFIG.toml -o OUT.nc         run a sweep, save it, draw its overview figure
    optsim plot OUT.nc [--figure FIG.png]      redraw the overview figure of a saved result
    optsim explore OUT.nc [-o PAGE.html]       an interactive HTML explorer of a saved result
    optsim study [NAME] [--scale S] [--force]  run a research study (or reuse its results)
    optsim figures [NAME] [--scale S]          draw the studies' figures from saved results
    optsim reproduce [--scale S] [--force]     every study, then every figure
    optsim gallery [LECTURE] [--publish]       the lecture figures, animations and GALLERY.md
    optsim --version

Bad input gives a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from ._version import __version__

__all__ = ["main"]

_ROLE_ALIASES = {
    "optimizer": "optimizer", "optimizers": "optimizer",
    "schedule": "schedule", "schedules": "schedule",
    "problem": "problem", "problems": "problem",
    "noise": "noise", "noises": "noise",
}


class _Fail(Exception):
    """A user error already phrased for the terminal."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), like optsim's own."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _parser():
    p = _Parser(
        prog="optsim",
        description="Study optimizers by simulation: thousands of trajectories in parallel.",
    )
    p.add_argument("--version", action="version", version=f"optsim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    pl = sub.add_parser("list", help="registered optimizers, schedules, problems and noise models")
    pl.add_argument("role", nargs="?", metavar="ROLE",
                    help="optimizer, schedule, problem or noise (default: all)")
    pl.add_argument("--markdown", action="store_true",
                    help="one Markdown table per role: name, variant options, other defaults")

    ps = sub.add_parser("sweep", help="run the sweep described by a TOML configuration")
    ps.add_argument("config", metavar="CONFIG.toml", help="the sweep configuration (see README)")
    ps.add_argument("-o", "--output", metavar="OUT.nc",
                    help="where to save the result (default: results/<config name>.nc)")
    ps.add_argument("--figure", metavar="FIG.png",
                    help="overview figure; PNG and PDF are written (default: next to OUT, same name)")
    ps.add_argument("--no-figure", action="store_true", help="do not draw the overview figure")
    _add_run_options(ps)
    ps.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override a configuration value (TOML syntax), e.g. --set run.steps=100")

    pp = sub.add_parser("plot", help="draw the overview figure of a saved result")
    pp.add_argument("result", metavar="OUT.nc")
    pp.add_argument("--figure", metavar="FIG.png", help="default: next to the result, same name")

    pe = sub.add_parser("explore", help="write an interactive HTML explorer of a saved result (works offline)")
    pe.add_argument("result", metavar="RESULT.nc")
    pe.add_argument("-o", "--output", metavar="PAGE.html", help="default: next to the result, same name")
    pe.add_argument("--var", help="the variable shown first (default: loss)")
    pe.add_argument("--max-steps", type=int, default=300, metavar="N", help="points kept along the steps (default 300)")
    pe.add_argument("--replicates", type=int, default=5, metavar="K",
                    help="individual replicates embedded per setting (default 5)")
    pe.add_argument("--encoding", default="auto16", metavar="E",
                    help="auto16 (16-bit, log-scaled where positive; default) or float32")
    pe.add_argument("--title", help="the page's title (default: the result's file name)")

    research = _research()
    if research is not None:
        research.add_parsers(sub)
    else:
        for name in _RESEARCH_COMMANDS:
            pr = sub.add_parser(name, help="(needs the research layer: pip install -e . in a clone)")
            pr.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return p


_RESEARCH_COMMANDS = ("study", "figures", "reproduce", "gallery")


def _research():
    """The research layer's runner (``studies._runner``), imported only when the command line
    is built, never when ``optsim`` is imported; None when the research layer is absent."""
    from .studies_runner import research_layer

    try:
        return research_layer()
    except ModuleNotFoundError as exc:
        if exc.name != "studies":
            raise
        return None


def _add_run_options(ps):
    """The options of ``optsim sweep`` that are sweep keywords, from the keyword table."""
    from ._sweep.keywords import KEYWORDS

    for entry in KEYWORDS:
        if not entry.cli:
            continue
        target = ps.add_mutually_exclusive_group() if len(entry.cli) > 1 else ps
        for flags, options in entry.cli:
            target.add_argument(*flags, dest=entry.name, **options)


def _run_options(args):
    """{keyword: value} of the sweep keywords given on the command line."""
    from ._sweep.keywords import KEYWORDS

    return {e.name: getattr(args, e.name) for e in KEYWORDS
            if e.cli and getattr(args, e.name) is not None and getattr(args, e.name) != ""}


def main(argv=None):
    """Entry point of the ``optsim`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "sweep":
            return _cmd_sweep(args)
        if args.command == "plot":
            return _cmd_plot(args)
        if args.command == "explore":
            return _cmd_explore(args)
        if args.command in _RESEARCH_COMMANDS:
            research = _research()
            if research is None:
                raise _Fail(f"`optsim {args.command}` runs the research studies, which are not installed: "
                            "run `pip install -e .` in a clone of the optsim repository")
            return research.dispatch(args)
    except BrokenPipeError:  # e.g. `optsim list | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt as exc:
        # a chunked sweep says what it kept and how to resume
        print(f"optsim: interrupted{': ' + str(exc) if str(exc) else ''}", file=sys.stderr)
        return 130
    except _Fail as exc:
        print(f"optsim: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - input errors get one line, not a traceback
        from ._components import OptsimError

        if isinstance(exc, (OptsimError, FileNotFoundError, PermissionError, IsADirectoryError)):
            msg = " ".join(str(exc).split())
            print(f"optsim: error: {msg}", file=sys.stderr)
            return 2
        raise
    return 0


# -- list -------------------------------------------------------------------------------


def _first_line(cls):
    """The first paragraph of the class docstring, on one line."""
    doc = (cls.__doc__ or "").strip()
    para = doc.split("\n\n")[0] if doc else ""
    return " ".join(para.split())


def _default_text(p):
    v = p.default
    if v is None:
        return "None"
    if isinstance(v, str):
        return repr(v)
    return str(v)


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    widths[-1] = 0
    lines = []
    for r in [header] + rows:
        lines.append("    " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return lines


def _param_table(params):
    """The parameter table of ``optsim list`` (no lines without parameters)."""
    rows = [[p.name, _default_text(p), p.range_text(), p.doc + ("" if p.dynamic else " [static]")] for p in params]
    return _table(rows, ["parameter", "default", "allowed", "meaning"]) if rows else []


def describe(role, name, cls):
    """The lines ``optsim list`` prints for one component."""
    lines = [f"  {name}  ({cls.__module__}.{cls.__name__})"]
    first = _first_line(cls)
    if first:
        lines += ["    " + t for t in textwrap.wrap(first, 88)]
    lines += _param_table(cls.params)
    for key, child_role in getattr(cls, "children_roles", {}).items():
        lines.append(f"    {key}: a {child_role} (a nested table with its own name)")
    for key, targets in getattr(cls, "aliases", {}).items():
        lines.append(f"    {key}: sets {', '.join(targets)} from a list")
    for key, targets in getattr(cls, "broadcast_aliases", {}).items():
        lines.append(f"    {key}: sets {', '.join(targets)} to one value")
    return lines


def _cautious_names():
    """How ``optsim list`` names the cautious forms of the registered optimizers."""
    from .registry import CAUTIOUS_PREFIX

    return f"{CAUTIOUS_PREFIX}<name>", f"{CAUTIOUS_PREFIX}exact_<name>"


def describe_cautious():
    """The lines ``optsim list`` prints for the cautious forms (:func:`optsim.optimizers.Cautious`),
    which the registry makes on first use from any registered optimizer's name."""
    from .optimizers.cautious import CAUTIOUS_PARAMS

    text = ("Cautious (Liang et al. 2024) form of any optimizer above: the coordinates of its step "
            "that disagree in sign with the observed gradient (cautious_exact_: with the noise-free "
            "gradient, which only a simulator knows) are set to zero and the rest rescaled. Its "
            "parameters: the optimizer's, then")
    lines = [f"  {', '.join(_cautious_names())}  (optsim.optimizers.Cautious)"]
    lines += ["    " + t for t in textwrap.wrap(text, 88)]
    return lines + _param_table(CAUTIOUS_PARAMS)


def _markdown_cells(params):
    """``(variants, others)`` of the component tables: choice and bool parameters with their
    options (default first), the other parameters with their defaults."""
    variants, others = [], []
    for p in params:
        if p.kind == "choice":
            first = [p.default] + [c for c in p.choices if c != p.default]
            variants.append(f"`{p.name}`: " + " / ".join(f"`{c}`" for c in first))
        elif p.kind == "bool":
            variants.append(f"`{p.name}` ({p.default})")
        else:
            others.append(f"`{p.name}`={_default_text(p)}")
    return variants, others


def markdown_tables(roles):
    """Markdown tables of the registered components: variant options and other defaults."""
    from . import registry

    out = []
    for role in roles:
        table = registry.components(role)
        plural = "noise models" if role == "noise" else role + "s"
        out += [f"**{plural.capitalize()}** ({len(table)})", "",
                "| name | class | variant options (default first) | other parameters (defaults) |",
                "|---|---|---|---|"]
        for name in sorted(table):
            cls = table[name]
            variants, others = _markdown_cells(cls.params)
            for key in getattr(cls, "children_roles", {}):
                others.append(f"`{key}` (a {cls.children_roles[key]})")
            out.append(f"| `{name}` | {cls.__name__} | {'; '.join(variants) or '-'} | {', '.join(others) or '-'} |")
        if role == "optimizer":
            from .optimizers.cautious import CAUTIOUS_PARAMS

            variants, others = _markdown_cells(CAUTIOUS_PARAMS)
            names = ", ".join(f"`{n}`" for n in _cautious_names())
            others = ", ".join(["the optimizer's", *others])
            out.append(f"| {names} | Cautious (of any optimizer above) | {'; '.join(variants) or '-'} | {others} |")
        out.append("")
    return "\n".join(out).rstrip()


def _cmd_list(args):
    from . import registry

    if args.role is None:
        roles = registry.ROLES
    else:
        role = _ROLE_ALIASES.get(args.role.lower())
        if role is None:
            from ._components import closest

            raise _Fail(f"unknown role {args.role!r}{closest(args.role, list(_ROLE_ALIASES))}; "
                        f"choose from {', '.join(registry.ROLES)}")
        roles = (role,)
    if args.markdown:
        print(markdown_tables(roles))
        return 0
    out = []
    for role in roles:
        table = registry.components(role)
        scheduled = registry.schedulable() if role == "optimizer" else {}
        plural = "noise models" if role == "noise" else role + "s"
        out.append(f"{plural.upper()} ({len(table)})")
        for name in sorted(table):
            out += describe(role, name, table[name])
            if role == "optimizer":
                names = ", ".join(scheduled[name]) or "none"
                out += ["    " + t for t in textwrap.wrap(
                    f"can follow a schedule besides lr (schedules=, [schedules.<name>]): {names}", 88)]
            out.append("")
        if role == "optimizer":
            out += describe_cautious() + [""]
    print("\n".join(out).rstrip())
    return 0


# -- sweep ------------------------------------------------------------------------------


def _human(seconds):
    if seconds < 60:
        return f"{seconds:.2f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def _cmd_sweep(args):
    from . import io
    from .config import load_config
    from .sweep import sweep

    config = Path(args.config)
    if args.resume and args.overwrite:
        raise _Fail("--resume and --overwrite conflict: --resume keeps the finished chunks, --overwrite "
                    "discards them; give one of them")
    kwargs = load_config(config, overrides=args.set)
    if args.threads is not None:
        import numba

        if args.threads < 1 or args.threads > numba.config.NUMBA_NUM_THREADS:
            raise _Fail(f"--threads={args.threads} is not allowed; it must be in [1, {numba.config.NUMBA_NUM_THREADS}]")
        kwargs["threads"] = args.threads
    out = Path(args.output) if args.output else Path("results") / (config.stem + ".nc")
    if out.is_dir():
        raise _Fail(f"-o {out} is a directory; give a file name such as {out / (config.stem + '.nc')}")
    if out.suffix == "":
        out = out.with_suffix(".nc")
    if out.exists() and out.is_dir():
        raise _Fail(f"-o {out} is a directory; give a file name such as {out / (config.stem + '.nc')}")
    # every path written is checked now, not after the trajectories have run
    _check_writable(out, "-o")
    if not args.no_figure:
        for target in _figure_paths(out, args.figure):
            _check_writable(target, "--figure" if args.figure else "the figure (next to -o)")
    quiet = args.progress is False
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    kwargs.update(_run_options(args))  # given options override the configuration's [run] table
    kwargs["progress"] = bool(progress)

    t0 = time.perf_counter()
    ds = sweep(**kwargs)
    wall = time.perf_counter() - t0
    io.save(ds, out)
    written = [out]
    if not args.no_figure:
        written += _figure(ds, out, args.figure, title=_title(config))
    if not quiet:
        reps = int(ds.attrs.get("replicates", 1)) if "reduced_over" in ds.attrs else 1
        final = ds["final_loss"] if "final_loss" in ds else ds["diverged_fraction"]
        n_traj = final.size * reps
        steps = _spec_steps(ds)
        rate = n_traj * steps / wall if wall > 0 else float("inf")
        n_div = int(round(float(ds["diverged"].sum()) if "diverged" in ds else float(ds["diverged_fraction"].sum()) * reps))
        print(f"optsim sweep {config}")
        sizes = dict(final.sizes, **({"replicate": reps} if reps > 1 else {}))
        print(f"  trajectories  {n_traj:,} ({', '.join(f'{d}={n}' for d, n in sizes.items())})"
              + ("; reduced over replicates" if "reduced_over" in ds.attrs else ""))
        print(f"  steps         {steps:,} per trajectory, {ds.sizes.get('step', 0)} recorded")
        print(f"  wall time     {_human(wall)} (includes compilation when the kernel is not cached yet)")
        print(f"  rate          {rate:,.3g} trajectory-steps/s")
        print(f"  diverged      {n_div:,} of {n_traj:,}")
        print(f"  spec hash     {ds.attrs.get('spec_hash', '?')}")
        for p in written:
            print(f"  wrote         {p}")
    return 0


def _title(config):
    from .config import tomllib

    try:
        title = tomllib.loads(config.read_text()).get("title")
    except Exception:  # noqa: BLE001 - the title is cosmetic
        title = None
    return title if isinstance(title, str) and title else config.stem


def _spec_steps(ds):
    from .io import spec_of

    return spec_of(ds)["steps"]


def _check_writable(path, option):
    from ._components import OptsimError
    from ._paths import check_file

    try:
        check_file(path, option)
    except OptsimError as exc:
        raise _Fail(str(exc)) from None


def _figure_paths(out, figure):
    """The files :func:`_figure` writes (PNG, PDF and the JSON sidecar)."""
    target = Path(figure) if figure else out.with_suffix("")
    if target.suffix.lower() in (".png", ".pdf", ".svg", ".json"):
        target = target.with_suffix("")
    return [target.with_suffix(s) for s in (".png", ".pdf", ".json")]


def _figure(ds, out, figure, title=None):
    from .plotting import save_figure, summary_figure

    target = Path(figure) if figure else out.with_suffix("")
    fig = summary_figure(ds, title=title)
    return save_figure(fig, target, ds=ds)


def _cmd_plot(args):
    from . import io

    path = Path(args.result)
    if not path.exists():
        raise _Fail(f"no result at {path}; run: optsim sweep CONFIG.toml -o {path}")
    for target in _figure_paths(path, args.figure):
        _check_writable(target, "--figure" if args.figure else "the figure (next to the result)")
    ds = io.check_result(io.load(path), path)
    for p in _figure(ds, path, args.figure, title=path.stem):
        print(f"wrote {p}")
    return 0


def _cmd_explore(args):
    from . import io
    from .explore import explore

    path = Path(args.result)
    if not path.exists():
        raise _Fail(f"no result at {path}; run: optsim sweep CONFIG.toml -o {path}")
    out = Path(args.output) if args.output else path.with_suffix(".html")
    _check_writable(out, "-o" if args.output else "the page (next to the result)")
    ds = io.check_result(io.load(path), path)
    written = explore(ds, out, var=args.var, max_steps=args.max_steps, max_replicates=args.replicates,
                      encoding=args.encoding, title=args.title or path.stem)
    print(f"wrote {written} ({written.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
