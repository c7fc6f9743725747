"""An interactive page for any sweep: one self-contained HTML file that works offline.

:func:`explore` writes a page with a control for every grid dimension (a slider for a
numeric axis, a menu for names such as the optimizer or for a zipped axis), the recorded
variable, the median curve and its quantile band over replicates, a few individual
replicates on request and logarithmic axes; for a two-dimensional problem (a ``params``
record with two coordinates) the trajectories on the loss contours, with a step slider
that animates them.  The script and style are written into the page and the data with
them: nothing is fetched, no server is needed, the file opens from disk.

Steps are decimated (``max_steps``) and curves quantized to 16 bits on a logarithmic or
linear scale (``encoding="auto16"``; see :mod:`optsim._explore_data` for the error bound)
or kept as float32, so that a page stays in the tens to hundreds of kilobytes.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path

import numpy as np

from . import _explore_data as _data
from ._components import ParameterError, ParameterTypeError

__all__ = ["explore", "ENCODINGS"]

#: how curves travel in the page: 16-bit codes (log- or linear-scaled) or float32
ENCODINGS = ("auto16", "float32")
_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#B8A000",
            "#7B3294", "#8C564B")


def _check_int(name, value, low, high):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ParameterTypeError(f"explore: {name}={value!r} is not allowed; {name} must be an integer in "
                                 f"[{low}, {high}]")
    if not low <= int(value) <= high:
        raise ParameterError(f"explore: {name}={value!r} is not allowed; {name} must be in [{low}, {high}]")
    return int(value)


def _eligible(ds, x, rep):
    """The data variables that are curves along ``x`` (their other dims: grid, replicate, quantile)."""
    out = []
    for name, da in ds.data_vars.items():
        if x not in da.dims or name == "params":
            continue
        if any(d in _data.RECORD_DIMS and d != "quantile" for d in da.dims):
            continue
        if not np.issubdtype(da.dtype, np.number) or np.issubdtype(da.dtype, np.complexfloating):
            continue
        out.append(name)
    return out


def _validate(ds, path, var, variables, x, replicate_dim, quantiles, max_steps, max_replicates, max_paths,
              encoding, surface, levels, compare, title):
    import xarray as xr

    from ._paths import check_file

    if not isinstance(ds, xr.Dataset):
        raise ParameterTypeError(f"explore: ds={type(ds).__name__} is not allowed; ds must be an xarray.Dataset "
                                 f"(a sweep's result, or optsim.load(path))")
    path = check_file(path, "path")
    if not isinstance(x, str) or x not in ds.dims:
        raise ParameterError(f"explore: x={x!r} is not allowed; x must be a dimension of ds, one of "
                             f"{sorted(map(str, ds.dims))}")
    eligible = _eligible(ds, x, replicate_dim)
    if not eligible:
        raise ParameterError(f"explore: ds has no variable recorded along {x!r} (record=('loss', ...) in the "
                             f"sweep); its variables are {sorted(map(str, ds.data_vars))}")
    if variables is None:
        variables = eligible
    elif isinstance(variables, str) or not all(isinstance(v, str) for v in variables) or not variables:
        raise ParameterTypeError(f"explore: variables={variables!r} is not allowed; variables must be a "
                                 f"non-empty list of names from {eligible}")
    bad = [v for v in variables if v not in eligible]
    if bad:
        raise ParameterError(f"explore: variables={list(variables)!r} is not allowed; {bad[0]!r} is not a curve "
                             f"along {x!r}; choose from {eligible}")
    variables = list(dict.fromkeys(variables))
    if var is None:
        var = "loss" if "loss" in variables else variables[0]
    if var not in variables:
        raise ParameterError(f"explore: var={var!r} is not allowed; var must be one of {variables}")
    try:
        q = tuple(float(v) for v in quantiles)
    except (TypeError, ValueError):
        raise ParameterTypeError(f"explore: quantiles={quantiles!r} is not allowed; quantiles must be "
                                 f"(lower, middle, upper) in [0, 1]") from None
    if len(q) != 3 or not all(0.0 <= v <= 1.0 for v in q) or not q[0] < q[1] < q[2]:
        raise ParameterError(f"explore: quantiles={quantiles!r} is not allowed; quantiles must be "
                             f"(lower, middle, upper), increasing, in [0, 1]")
    _check_int("max_steps", max_steps, 2, 100_000)
    _check_int("max_replicates", max_replicates, 0, 64)
    _check_int("max_paths", max_paths, 0, 64)
    _check_int("levels", levels, 2, 100)
    if encoding not in ENCODINGS:
        raise ParameterError(f"explore: encoding={encoding!r} is not allowed; encoding must be one of "
                             f"{', '.join(ENCODINGS)}")
    if surface is not None and (not isinstance(surface, xr.DataArray) or surface.ndim != 2):
        raise ParameterError(f"explore: surface must be a 2-D DataArray (optsim.analysis.loss_surface), got "
                             f"{type(surface).__name__}{getattr(surface, 'dims', '')}")
    if title is not None and not isinstance(title, str):
        raise ParameterTypeError(f"explore: title={title!r} is not allowed; title must be a str")
    controls = _control_dims(ds, variables, x, replicate_dim)
    if compare is not None and compare not in controls:
        raise ParameterError(f"explore: compare={compare!r} is not allowed; compare must be None or one of the "
                             f"grid dimensions {controls}")
    return path, var, variables, q, controls


def _control_dims(ds, variables, x, rep):
    dims = []
    for v in variables:
        for d in ds[v].dims:
            if d not in (x, rep, "quantile") and d not in dims:
                dims.append(d)
    return dims


def _fmt(v):
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def _control(ds, dim):
    """How the page offers ``dim``: labels, numeric values (for a slider) and colours."""
    from ._surfaces import optimizer_color

    n = int(ds.sizes[dim])
    numeric = None
    if dim in ds.coords and ds[dim].dims == (dim,):
        vals = ds[dim].values
        labels = [_fmt(v) for v in vals]
        if np.issubdtype(vals.dtype, np.number) and not np.issubdtype(vals.dtype, np.bool_):
            numeric = [float(v) for v in vals]
    else:
        names = [c for c in ds.coords if ds[c].dims == (dim,)]
        labels = [", ".join(f"{c}={_fmt(ds[c].values[i])}" for c in names) or f"{dim}[{i}]" for i in range(n)]
    label = str(dim).replace("_", " ")
    if not (dim in ds.coords and ds[dim].dims == (dim,)):
        names = [c for c in ds.coords if ds[c].dims == (dim,)]
        label = ", ".join(map(str, names)) or label  # a zipped axis: the names it pairs
    kind = "slider" if numeric is not None and n > 1 and all(np.isfinite(numeric)) else "select"
    if dim == "optimizer":
        colors = [optimizer_color(lbl) for lbl in labels]
        if len(set(colors)) < len(colors):  # variants of one optimizer: tell them apart
            colors = [_PALETTE[i % len(_PALETTE)] for i in range(n)]
    elif kind == "slider":
        import matplotlib as mpl

        cm = mpl.colormaps["viridis"]
        colors = [mpl.colors.to_hex(cm(0.9 * i / max(n - 1, 1))) for i in range(n)]
    else:
        colors = [_PALETTE[i % len(_PALETTE)] for i in range(n)]
    log = numeric is not None and n > 2 and min(numeric) > 0 and max(numeric) / min(numeric) > 20
    return {"dim": str(dim), "label": label, "labels": labels, "kind": kind,
            "values": numeric if kind == "slider" else None, "log": bool(log), "colors": colors}


def _start(ds, start, controls):
    """{dim: index} of ``start`` ({dim: value or label}), refused in one line when it names no setting."""
    if start is None:
        return {}
    if not isinstance(start, dict):
        raise ParameterTypeError(f"explore: start={start!r} is not allowed; start must be a dict "
                                 f"{{dimension: value}} over {controls}")
    out = {}
    for dim, value in start.items():
        if dim not in controls:
            raise ParameterError(f"explore: start={start!r} is not allowed; {dim!r} is not one of the grid "
                                 f"dimensions {controls}")
        c = _control(ds, dim)
        if isinstance(value, str) and value in c["labels"]:
            out[dim] = c["labels"].index(value)
        elif c["values"] is not None and isinstance(value, (int, float, np.number)) and not isinstance(value, bool) \
                and np.isfinite(value):
            out[dim] = int(np.argmin(np.abs(np.asarray(c["values"]) - float(value))))
        else:
            raise ParameterError(f"explore: start={start!r} is not allowed; {dim}={value!r} is none of "
                                 f"{c['labels']}")
    return out


def _asset(name):
    return resources.files("optsim").joinpath("_explore").joinpath(name).read_text(encoding="utf-8")


def explore(ds, path, *, var=None, variables=None, x="step", replicate_dim="replicate", quantiles=(0.1, 0.5, 0.9),
            max_steps=300, max_replicates=5, max_paths=5, encoding="auto16", surface=None, levels=18,
            compare=None, start=None, title=None):
    """Write an interactive explorer of the sweep ``ds`` to ``path`` (one offline HTML file).

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep's result (:func:`optsim.sweep`, :func:`optsim.load`) or any Dataset of curves
        along ``x``, with or without a ``replicate_dim``.
    path : str or os.PathLike
        The HTML file to write (atomically).
    var : str, optional
        The variable shown first (default ``"loss"`` when recorded).
    variables : list of str, optional
        The variables offered (default: every curve along ``x``, ``params`` aside).
    x : str
        The dimension along the horizontal axis (default ``"step"``).
    replicate_dim : str
        The dimension the quantile bands are taken over (default ``"replicate"``).
    quantiles : (float, float, float)
        (lower, middle, upper) quantiles over replicates: the band and the line.
    max_steps : int
        At most this many points of ``x`` are kept (first and last included; half spread
        evenly, half geometrically).
    max_replicates : int
        Individual replicates embedded per grid cell (shown on request).
    max_paths : int
        Trajectories embedded per grid cell for a 2-D problem (``params`` with 2 coordinates).
    encoding : {"auto16", "float32"}
        16-bit codes on a log scale (positive data) or a linear one, or float32.
    surface : xarray.DataArray, optional
        The 2-D loss surface under the trajectories; default ``ds["surface"]`` when saved with
        the sweep, else computed from the problem in the sweep's spec.
    levels : int
        Number of contour levels.
    compare : str, optional
        The grid dimension whose values are overlaid first (default: ``optimizer`` when
        there are several); the page can change it.
    start : dict, optional
        ``{dimension: value}`` of the view the page opens on (a coordinate value, the nearest
        for a numeric axis, or the label shown in the page); the other dimensions start at
        the setting with the lowest final median of ``var``.
    title : str, optional
        The page's title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from . import __version__
    from .io import atomic_path

    path, var, variables, q, controls = _validate(
        ds, path, var, variables, x, replicate_dim, quantiles, max_steps, max_replicates, max_paths, encoding,
        surface, levels, compare, title)
    steps = _data.decimate(int(ds.sizes[x]), int(max_steps))
    xs = np.asarray(ds[x].values if x in ds.coords else np.arange(ds.sizes[x]), dtype=float)[steps]
    curves = [_data.curve_payload(ds[v], controls, x, replicate_dim, q, steps, int(max_replicates), encoding)
              for v in variables]
    start_at = dict(_data.best_cell(curves[variables.index(var)]), **_start(ds, start, controls))
    if compare is None and "optimizer" in controls and ds.sizes["optimizer"] > 1:
        compare = "optimizer"
    payload = {
        "title": title or str(ds.attrs.get("title", "optsim explorer")),
        "x": {"name": x, "values": [float(v) for v in xs], "total": int(ds.sizes[x])},
        "controls": [_control(ds, d) for d in controls],
        "variables": curves, "var": var, "start": start_at, "compare": compare,
        "trajectories": None, "contours": None,
        "meta": {k: str(ds.attrs[k]) for k in ("spec_hash", "optsim_version", "git_revision", "seed") if k in ds.attrs},
        "version": __version__,
    }
    if "params" in ds.data_vars and x in ds["params"].dims and ds.sizes.get("param") == 2 and max_paths > 0:
        dims, names, vals = _data.path_values(ds["params"], controls, x, replicate_dim, steps, int(max_paths))
        surf, opt = _data.surface_of(ds, surface, vals)
        if surf is not None:
            payload["contours"] = _data.contour_payload(surf, int(levels), opt)
        box = _data.window(vals, payload["contours"], _data._optimum(ds, None))
        payload["trajectories"] = _data.path_payload(dims, names, vals, box, encoding)
    page = _page(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    return path


def _page(payload):
    title = html.escape(payload["title"])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"optsim {html.escape(payload['version'])}\">\n"
        f"<title>{title}</title>\n<style>\n{_asset('explore.css')}</style>\n</head>\n<body>\n"
        f"<header><h1>{title}</h1><p id=\"subtitle\"></p></header>\n"
        "<main><section id=\"controls\" aria-label=\"controls\"></section>\n"
        "<section id=\"plots\"><figure id=\"curves-fig\"><svg id=\"curves\" role=\"img\"></svg>"
        "<figcaption id=\"curves-caption\"></figcaption></figure>\n"
        "<figure id=\"paths-fig\" hidden><svg id=\"paths\" role=\"img\"></svg>"
        "<figcaption id=\"paths-caption\"></figcaption></figure></section></main>\n"
        "<footer id=\"footer\"></footer>\n"
        f"<script type=\"application/json\" id=\"optsim-data\">{_data.to_json(payload)}</script>\n"
        f"<script>\n{_asset('explore.js')}</script>\n</body>\n</html>\n"
    )

