"""Plotting helpers: small ``plot_x(ax, ...) -> ax`` functions and one style sheet.

Every helper draws on an ``Axes`` it is given (matplotlib's object-oriented API) and
returns it; :func:`summary_figure` only lays panels out.  The look lives in
``optsim.mplstyle``, applied with :func:`use_style`.  :func:`save_figure` writes PNG and
PDF with the result's provenance in their metadata and in a JSON sidecar::

    with optsim.plotting.use_style():
        fig = Figure()
        ax = fig.subplots()
        optsim.plotting.plot_band(ax, ds["loss"].sel(lr=1e-2, method="nearest"))
    optsim.plotting.save_figure(fig, "figures/out/adam_band", ds=ds)

Nothing here imports ``matplotlib.pyplot``: figures are plain
:class:`matplotlib.figure.Figure` objects rendered with the Agg backend, so plotting
works on machines without a display and never touches global figure state.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from ._plotstyle import STYLE, new_figure, use_style
from ._surfaces import (  # noqa: F401 - optsim.plotting is where they are found
    _COLOR_ALIASES, _FALLBACK, OPTIMIZER_COLORS, _color_key, _contour_levels, _fast_gif, animate_paths,
    optimizer_color, plot_contours, plot_path, save_animation,
)

__all__ = [
    "STYLE",
    "use_style",
    "new_figure",
    "plot_band",
    "EXACT_LABEL",
    "plot_loss_curves",
    "plot_loss_vs_lr",
    "summary_figure",
    "provenance",
    "save_figure",
    "OPTIMIZER_COLORS",
    "optimizer_color",
    "plot_contours",
    "plot_path",
    "animate_paths",
    "save_animation",
]


_LABELS = {
    "loss": "loss",
    "test_loss": "test loss",
    "grad_norm": "gradient norm",
    "dist": "distance to optimum",
    "final_loss": "final loss",
    "min_loss": "lowest loss",
    "lr": "learning rate",
    "step": "step",
}
_RESERVED = ("replicate", "step", "threshold", "param", "slot", "stat", "quantile")


def _label(name):
    return _LABELS.get(name, name.replace("_", " "))


def _log_ok(values):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return v.size > 0 and bool(np.all(v > 0))


def _finite(a):
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


EXACT_LABEL = "exact mean"
"""The legend entry of the exact expected curve drawn over a band (:func:`plot_band`)."""


def _exact_for(da, spec, x):
    """The exact expectation matching the selection ``da`` of a sweep, or None."""
    if spec is None or x != "step" or da.name not in ("loss",):
        return None
    from .expected import expected_curve

    try:
        curve = expected_curve(spec, var=da.name)
    except Exception:  # noqa: BLE001 - an overlay never stops a figure
        return None
    if curve is None:
        return None
    for d in [d for d in curve.dims if d != "step"]:
        if d not in da.coords:  # a zipped axis: match its coordinates' values
            names = [c for c in curve.coords if curve[c].dims == (d,) and c != d]
            if not names or any(c not in da.coords or da[c].ndim != 0 for c in names):
                return None
            hit = np.ones(curve.sizes[d], dtype=bool)
            for c in names:
                hit &= np.isclose(curve[c].values.astype(float), float(da[c].values), rtol=1e-12, atol=0.0)
            if hit.sum() != 1:
                return None
            curve = curve.isel({d: int(np.flatnonzero(hit)[0])})
            continue
        if da[d].ndim != 0:
            return None
        v = da[d].values.item()
        try:
            curve = curve.sel({d: v})
        except (KeyError, ValueError):
            if isinstance(v, str):
                return None
            curve = curve.sel({d: v}, method="nearest")
    steps = np.asarray(da[x].values)
    if not np.isin(steps, curve["step"].values).all():
        return None
    values = curve.sel(step=steps).values
    return values if np.isfinite(values).any() else None


def _draw_exact(ax, xs, values, color):
    labelled = any(line.get_label() == EXACT_LABEL for line in ax.get_lines())
    ax.plot(xs, _finite(values), linestyle="--", linewidth=0.8, color=color, zorder=4,
            label="_nolegend_" if labelled else EXACT_LABEL)


def plot_band(ax, da, x="step", dim="replicate", q=(0.1, 0.5, 0.9), label=None, color=None, alpha=0.2,
              exact=True, spec=None, **line_kw):
    """Median of ``da`` over ``dim`` as a line along ``x``, with the outer quantiles as a band.

    ``da`` must have exactly the dimensions ``x`` and ``dim`` (select or reduce the others
    first).  ``q`` is (lower, middle, upper).  The y-axis becomes logarithmic when every
    finite value is positive.

    With ``exact`` (default) and a sweep spec (``spec``: the Dataset, its spec dict or JSON
    text; or ``da.attrs['optsim_spec']``), the exact expectation of the loss
    (:func:`optsim.expected.expected_curve`) is drawn over the band as a thin dashed line
    labelled "exact mean", wherever the sweep's problem, noise and rule have one; the grid
    point is read from ``da``'s scalar coordinates.  ``exact=False`` leaves it out.
    """
    extra = [d for d in da.dims if d not in (x, dim)]
    if extra:
        raise ValueError(f"plot_band: select or reduce the dimensions {extra} first (e.g. da.sel({extra[0]}=...))")
    if len(q) != 3:
        raise ValueError(f"plot_band: q must be (lower, middle, upper), got {q!r}")
    with np.errstate(invalid="ignore"):  # quantiles that straddle inf (diverged runs)
        band = da.quantile(list(q), dim=dim, skipna=True) if dim in da.dims else None
    xs = da[x].values
    if band is None:
        mid = lo = hi = da.values
    else:
        band = band.transpose("quantile", x)
        lo, mid, hi = (band.isel(quantile=i).values for i in range(3))
    (line,) = ax.plot(xs, _finite(mid), color=color, label=label, **line_kw)
    if band is not None:
        ax.fill_between(xs, _finite(lo), _finite(hi), color=line.get_color(), alpha=alpha, linewidth=0)
    if exact:
        curve = _exact_for(da, spec if spec is not None else da.attrs.get("optsim_spec"), x)
        if curve is not None:
            _draw_exact(ax, xs, curve, line.get_color())
    if _log_ok(da.values):
        ax.set_yscale("log")
    ax.set(xlabel=_label(x), ylabel=_label(da.name or ""))
    return ax


def _pick(n, k):
    """At most k indices spread evenly over range(n), ends included."""
    if n <= k:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, k)})


def plot_loss_curves(ax, da, by="lr", dim="replicate", max_curves=8, cmap="viridis", colorbar=True, alpha=0.15,
                     exact=True, spec=None):
    """Quantile bands of the curves in ``da`` for up to ``max_curves`` values of ``by``.

    Colours follow ``by`` through ``cmap`` (log-scaled when ``by`` is positive) with a
    colorbar.  ``da`` must have dims ``by``, ``dim`` and ``step`` only.  ``exact`` and
    ``spec`` as in :func:`plot_band` (the exact curves, dashed, where there are some).
    """
    import matplotlib as mpl
    import matplotlib.cm
    from matplotlib.colors import LogNorm, Normalize

    values = np.asarray(da[by].values, dtype=float)
    lognorm = bool(np.all(values > 0)) and values.size > 1 and values.max() / values.min() > 20
    norm = (LogNorm if lognorm else Normalize)(vmin=values.min(), vmax=values.max() if values.size > 1 else values.min() + 1)
    cm = mpl.colormaps[cmap]
    for i in _pick(values.size, max_curves):
        plot_band(ax, da.isel({by: i}), x="step", dim=dim, color=cm(norm(values[i])), alpha=alpha, exact=exact,
                  spec=spec)
    if any(line.get_label() == EXACT_LABEL for line in ax.get_lines()):
        ax.legend()
    if colorbar:
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=cm)
        ax.figure.colorbar(sm, ax=ax, label=_label(by), pad=0.01)
    return ax


def plot_loss_vs_lr(ax, ds, metric="final_loss", dim="lr", over="replicate", q=(0.1, 0.5, 0.9), label=None,
                    color=None, alpha=0.2, mark_best=True):
    """``metric`` (median and quantile band over replicates) against ``dim``, log-log where possible.

    ``ds`` may be a Dataset (``metric`` is taken from it) or a DataArray; apart from
    ``dim`` and ``over`` it must have no dimensions left.  With ``mark_best`` the value
    of ``dim`` with the lowest median is marked.
    """
    da = ds[metric] if hasattr(ds, "data_vars") else ds
    if "step" in da.dims:
        da = da.isel(step=-1)
    plot_band(ax, da, x=dim, dim=over, q=q, label=label, color=color, alpha=alpha, marker=".", markersize=3)
    xs = np.asarray(da[dim].values, dtype=float)
    if xs.size > 1 and np.all(xs > 0) and xs.max() / xs.min() > 20:
        ax.set_xscale("log")
    if mark_best:
        with np.errstate(invalid="ignore"):
            med = _finite(da.median(over).values if over in da.dims else da.values)
        if np.any(np.isfinite(med)):
            i = int(np.nanargmin(med))
            ax.plot([xs[i]], [med[i]], marker="*", markersize=9, color=ax.lines[-1].get_color(),
                    markeredgecolor="k", markeredgewidth=0.5, linestyle="none", zorder=5)
    ax.set(xlabel=_label(dim), ylabel=_label(da.name or metric))
    return ax


def _series(da, keep):
    """[(label, selection dict)] over every dimension of ``da`` not in ``keep``."""
    dims = [d for d in da.dims if d not in keep]
    out = []
    for combo in itertools.product(*[range(da.sizes[d]) for d in dims]):
        sel = dict(zip(dims, combo))
        parts = []
        for d, i in sel.items():
            if d in da.coords and da[d].dims == (d,):
                v = da[d].values[i]
                parts.append(str(v) if d == "optimizer" else f"{d}={_fmt(v)}")
            else:
                names = [c for c in da.coords if da[c].dims == (d,)]
                parts.append(", ".join(f"{c}={_fmt(da[c].values[i])}" for c in names) or f"{d}[{i}]")
        out.append((", ".join(parts), sel))
    return out


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.3g}"
    return str(v)


def _x_dim(da):
    if "lr" in da.dims:
        return "lr"
    for d in da.dims:
        if d in _RESERVED or d == "optimizer" or d not in da.coords:
            continue
        if np.issubdtype(da[d].dtype, np.number) and da.sizes[d] > 1:
            return d
    return None


def summary_figure(ds, var="loss", max_series=8, title=None, exact=True):
    """The overview figure of a sweep: loss curves with quantile bands (and final loss against lr).

    Left: the recorded ``var`` curves (median and 10-90% band over replicates), coloured by
    learning rate when there is one method, or one per method at its best learning rate,
    with the exact expected loss dashed over them where the sweep's problem, noise and rule
    have an exact recursion (``exact=False`` leaves it out; :func:`plot_band`).
    Right (when the grid has a numeric axis, ``lr`` first): final loss against that axis.
    """
    from .analysis import best_lr

    if "reduced_over" in ds.attrs:
        return _summary_reduced(ds, var, max_series, title, exact)
    final = ds["final_loss"]
    xdim = _x_dim(final)
    series = _series(final, keep=(xdim, "replicate"))
    if len(series) > max_series:
        series = series[:max_series]
    has_curves = var in ds
    ncols = int(has_curves) + int(xdim is not None)
    with use_style():
        fig, axes = new_figure(1, max(ncols, 1))
        axes = list(np.atleast_1d(axes))
        k = 0
        if has_curves:
            ax = axes[k]
            k += 1
            curves = ds[var]
            spec = ds.attrs.get("optsim_spec") if exact else None
            if xdim is not None and len(series) == 1:
                plot_loss_curves(ax, curves.isel(series[0][1]), by=xdim, exact=exact, spec=spec)
                ax.set_title(f"{_label(var)}: median and 10-90% band")
            else:
                for j, (label, sel) in enumerate(series):
                    sub = curves.isel(sel)
                    text = label
                    if xdim is not None:
                        best = best_lr(ds.isel(sel), dim=xdim)
                        v = float(best[f"best_{xdim}"])
                        sub = sub.sel({xdim: v})
                        text = f"{label} ({xdim}={v:.3g})" if label else f"{xdim}={v:.3g}"
                    plot_band(ax, sub, label=text or None, color=f"C{j}", exact=exact, spec=spec)
                if any(lbl for lbl, _ in series) or xdim is not None or any(
                        line.get_label() == EXACT_LABEL for line in ax.get_lines()):
                    ax.legend()
                ax.set_title(f"{_label(var)}" + (f" at the best {_label(xdim)}" if xdim else "")
                             + ": median and 10-90% band")
            ax.set(xlabel="step", ylabel=_label(var))
        if xdim is not None:
            ax = axes[k]
            for j, (label, sel) in enumerate(series):
                plot_loss_vs_lr(ax, ds.isel(sel), dim=xdim, label=label or None, color=f"C{j}")
            if any(lbl for lbl, _ in series):
                ax.legend()
            ax.set_title(f"final loss against {_label(xdim)} (star: best median)")
        if title:
            fig.suptitle(title)
    return fig


def _center_band(ds, base):
    """(middle, lower, upper, what) of a reduced result's statistics of ``base``."""
    q = ds.get(f"{base}_quantile")
    if q is not None and q.sizes["quantile"] >= 3:
        levels = list(q["quantile"].values)
        lo, hi = q.isel(quantile=0), q.isel(quantile=-1)
        mid = q.sel(quantile=0.5) if 0.5 in levels else (ds[f"{base}_mean"] if f"{base}_mean" in ds else q.isel(quantile=len(levels) // 2))
        what = ("median" if 0.5 in levels else "mean") + f" and {levels[0]:g}-{levels[-1]:g} quantile band"
        return mid, lo, hi, what
    if f"{base}_mean" in ds:
        m = ds[f"{base}_mean"]
        if f"{base}_std" in ds:
            return m, m - ds[f"{base}_std"], m + ds[f"{base}_std"], "mean +- one standard deviation"
        return m, None, None, "mean"
    mid = q.isel(quantile=0)
    return mid, None, None, f"quantile {float(q['quantile'][0]):g}"


def _reduced_exact(ds, var, sel, s2, steps):
    """The exact curve of one line of a reduced sweep's overview, or None."""
    if var != "loss" or "optsim_spec" not in ds.attrs:
        return None
    from .expected import expected_curve

    try:
        curve = expected_curve(ds, var=var)
        if curve is None:
            return None
        curve = curve.isel({d: i for d, i in {**sel, **s2}.items() if d in curve.dims})
        if curve.dims != ("step",) or not np.isin(steps, curve["step"].values).all():
            return None
        values = curve.sel(step=steps).values
    except Exception:  # noqa: BLE001 - an overlay never stops a figure
        return None
    return values if np.isfinite(values).any() else None


def _summary_reduced(ds, var, max_series, title, exact=True):
    """:func:`summary_figure` for a sweep reduced over replicates (``reduce=...``)."""
    has_curves = any(f"{var}_{s}" in ds for s in ("mean", "quantile"))
    fmid, flo, fhi, fwhat = _center_band(ds, "final_loss")
    xdim = _x_dim(fmid)
    series = _series(fmid, keep=(xdim,))[:max_series]
    with use_style():
        fig, axes = new_figure(1, max(1, int(has_curves) + int(xdim is not None)))
        axes = list(np.atleast_1d(axes))
        k = 0
        if has_curves:
            ax = axes[k]
            k += 1
            mid, lo, hi, what = _center_band(ds, var)
            for j, (label, sel) in enumerate(series):
                m = mid.isel(sel)
                picks = [(label, {})]
                if xdim is not None:
                    if len(series) == 1:  # one method: a spread of values of the grid axis
                        idx = _pick(m.sizes[xdim], 8)
                    else:  # several: each at its best value
                        fin = _finite(fmid.isel(sel).values)
                        idx = [int(np.nanargmin(fin))] if np.isfinite(fin).any() else [0]
                    picks = [(f"{label} {xdim}={_fmt(m[xdim].values[i])}".strip(), {xdim: i}) for i in idx]
                for jj, (text, s2) in enumerate(picks):
                    color = f"C{j}" if len(series) > 1 else f"C{jj % 8}"
                    (line,) = ax.plot(m["step"].values, _finite(m.isel(s2).values), color=color, label=text or None)
                    curve = _reduced_exact(ds, var, sel, s2, m["step"].values) if exact else None
                    if curve is not None:
                        _draw_exact(ax, m["step"].values, curve, line.get_color())
                    if lo is not None:
                        ax.fill_between(m["step"].values, _finite(lo.isel(sel).isel(s2).values),
                                        _finite(hi.isel(sel).isel(s2).values), color=line.get_color(), alpha=0.2,
                                        linewidth=0)
            if _log_ok(mid.values):
                ax.set_yscale("log")
            ax.set(xlabel="step", ylabel=_label(var), title=f"{_label(var)}: {what} over replicates")
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize="x-small")
        if xdim is not None:
            ax = axes[k]
            for j, (label, sel) in enumerate(series):
                m = fmid.isel(sel)
                (line,) = ax.plot(m[xdim].values, _finite(m.values), marker="o", markersize=3, color=f"C{j}",
                                  label=label or None)
                if flo is not None:
                    ax.fill_between(m[xdim].values, _finite(flo.isel(sel).values), _finite(fhi.isel(sel).values),
                                    color=line.get_color(), alpha=0.2, linewidth=0)
            if _log_ok(fmid.values):
                ax.set_yscale("log")
            if _log_ok(fmid[xdim].values):
                ax.set_xscale("log")
            ax.set(xlabel=_label(xdim), ylabel="final loss", title=f"final loss: {fwhat}")
            if any(lbl for lbl, _ in series):
                ax.legend(fontsize="x-small")
        if title:
            fig.suptitle(title)
    return fig


def provenance(ds=None) -> dict:
    """What a figure records about the data behind it: spec hash, versions, git revision."""
    from . import _provenance

    info = {"optsim_version": _provenance.__version__, "figure_git_revision": _provenance.git_revision()}
    if ds is not None:
        for key in ("spec_hash", "optsim_version", "git_revision", "numba_version", "seed"):
            if key in ds.attrs:
                value = ds.attrs[key]
                info[key] = value.item() if hasattr(value, "item") else value
        if "optsim_spec" in ds.attrs:
            try:
                info["spec"] = json.loads(ds.attrs["optsim_spec"])
            except (TypeError, ValueError):
                pass
    return info


def save_figure(fig, path, ds=None, formats=("png", "pdf")):
    """Write ``fig`` as PNG and PDF (``path`` with or without a suffix) plus a JSON sidecar.

    The provenance of ``ds`` (spec hash, optsim version, git revision) goes into the PNG
    text chunks, the PDF's Subject/Keywords and ``<path>.json``.  Returns the paths written.
    """
    path = Path(path)
    if path.suffix.lower() in (".png", ".pdf", ".svg", ".json"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    info = provenance(ds)
    short = {k: v for k, v in info.items() if k != "spec"}
    summary = ", ".join(f"{k}={v}" for k, v in short.items())
    software = f"optsim {info['optsim_version']}"
    written = []
    for fmt in formats:
        out = path.with_suffix("." + fmt)
        if fmt == "png":
            meta = {"Software": software, "Description": summary, "Source": json.dumps(short, sort_keys=True)}
        elif fmt == "pdf":
            meta = {"Creator": software, "Subject": summary,
                    "Keywords": " ".join(f"{k}={v}" for k, v in short.items())}
        else:
            meta = None
        with use_style():
            fig.savefig(out, format=fmt, metadata=meta)
        written.append(out)
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps({"files": [p.name for p in written], **info}, indent=2, sort_keys=True, default=str))
    written.append(sidecar)
    return written
