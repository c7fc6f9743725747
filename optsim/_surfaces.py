"""Optimizer trajectories on loss surfaces: one colour per optimizer, contours, paths, animations.

Part of :mod:`optsim.plotting` (which re-exports every name here).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._plotstyle import new_figure, use_style

__all__ = ["OPTIMIZER_COLORS", "optimizer_color", "plot_contours", "plot_path", "animate_paths", "save_animation"]


#: One colour per optimizer, the same in every figure (keys as in ``optsim list``, plus the
#: lectures' names "gd" and "momentum").  Colour-blind-safe hues first for the common ones.
OPTIMIZER_COLORS = {
    "gd": "#000000",
    "sgd": "#000000",
    "momentum": "#0072B2",
    "nag": "#56B4E9",
    "adagrad": "#009E73",
    "rmsprop": "#E69F00",
    "adadelta": "#8C564B",
    "adam": "#D55E00",
    "adamw": "#A0522D",
    "amsgrad": "#CC79A7",
    "adamax": "#7B3294",
    "maxprop": "#7B3294",
    "nadam": "#666666",
    "radam": "#B8A000",
    "adabound": "#17BECF",
    "swats": "#1F3A93",
    "lion": "#E7298A",
}
_COLOR_ALIASES = {"vanilla": "gd", "sgdm": "momentum", "heavyball": "momentum", "nesterov": "nag",
                  "mgd": "momentum", "ngd": "nag"}
_FALLBACK = ("#4D4D4D", "#999933", "#882255", "#44AA99", "#332288", "#AA4499")


def _color_key(name):
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def optimizer_color(name) -> str:
    """The colour of optimizer ``name`` in every optsim figure.

    ``name`` may be a registry key (``"adam"``), a class name (``"RMSprop"``), a lecture's
    name (``"GD"``, ``"momentum"``, ``"NAG"``) or a label that starts with one (``"Adam, no
    bias correction"`` is Adam's colour: tell variants apart by line style).  Unknown names
    get a fixed colour from their spelling.
    """
    key = _color_key(name)
    key = _COLOR_ALIASES.get(key, key)
    if key in OPTIMIZER_COLORS:
        return OPTIMIZER_COLORS[key]
    words = [_color_key(w) for w in str(name).replace("-", " ").replace(",", " ").replace("(", " ").split()]
    for w in words:
        w = _COLOR_ALIASES.get(w, w)
        if w in OPTIMIZER_COLORS:
            return OPTIMIZER_COLORS[w]
    for k in sorted(OPTIMIZER_COLORS, key=len, reverse=True):
        if key.startswith(k):
            return OPTIMIZER_COLORS[k]
    return _FALLBACK[sum(map(ord, key)) % len(_FALLBACK)]


def _contour_levels(z, levels, log):
    z = np.asarray(z, dtype=float)
    fin = z[np.isfinite(z)]
    lo, hi = float(fin.min()), float(fin.max())
    pos = fin[fin > 0]
    if lo >= 0 and pos.size:  # a surface that touches 0 at its minimum: start at its lowest percentile
        lo = max(float(pos.min()), float(np.percentile(pos, 0.5)))
    if log is None:
        log = lo > 0 and hi / lo > 100.0
    if log:
        if lo <= 0:
            raise ValueError("plot_contours: log=True needs a positive surface")
        return np.geomspace(lo * (1 + 1e-9), hi, levels), True
    return np.linspace(lo, hi, levels), False


def plot_contours(ax, surface, levels=20, log=None, optimum=None, filled=True, cmap="Blues_r", colorbar=False):
    """Contours of a loss surface (a 2-D DataArray from :func:`optsim.analysis.loss_surface`).

    Levels are spaced logarithmically when ``log`` is true, or by default when the loss is
    positive and spans more than two decades, so that the valley floor keeps its contours.
    ``optimum`` ``(x, y)`` is marked with a star.  Axis labels are the surface's coordinate
    names.  Returns ``ax``.
    """
    from matplotlib.colors import LogNorm

    if surface.ndim != 2:
        raise ValueError(f"plot_contours: the surface must be 2-D, got dimensions {surface.dims}")
    ydim, xdim = surface.dims
    xs, ys = surface[xdim].values, surface[ydim].values
    z = np.asarray(surface.values, dtype=float)
    lv, is_log = _contour_levels(z, levels, log)
    norm = LogNorm(lv[0], lv[-1]) if is_log else None
    if filled:
        cs = ax.contourf(xs, ys, z, levels=lv, cmap=cmap, norm=norm, alpha=0.55, extend="both")
        if colorbar:
            from matplotlib.ticker import LogFormatterSciNotation, LogLocator

            ticks = dict(ticks=LogLocator(), format=LogFormatterSciNotation()) if is_log else {}
            ax.figure.colorbar(cs, ax=ax, label="loss" + (" (log levels)" if is_log else ""), **ticks)
    ax.contour(xs, ys, z, levels=lv, colors="0.35", linewidths=0.4, norm=norm)
    if optimum is not None:
        ax.plot(*np.asarray(optimum, dtype=float)[:2], marker="*", markersize=13, color="gold",
                markeredgecolor="k", markeredgewidth=0.8, linestyle="none", zorder=6, label="minimum")
    ax.set(xlabel=xdim, ylabel=ydim, xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]))
    ax.grid(False)
    return ax


def plot_path(ax, xy, label=None, color=None, start=True, end=True, markers=False, **line_kw):
    """One trajectory ``xy`` (shape ``(steps, 2)``) as a line with its start and end marked.

    The start is an open circle, the end a filled one, both in the line's colour; with
    ``markers=True`` every iterate gets a small dot (for short runs).  ``color`` defaults
    to :func:`optimizer_color` of ``label``.  Returns ``ax``.
    """
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"plot_path: xy must have shape (steps, 2), got {xy.shape}")
    if color is None and label is not None:
        color = optimizer_color(label)
    ok = np.all(np.isfinite(xy), axis=1)
    xy = xy[ok]
    line_kw.setdefault("linewidth", 1.4)
    (line,) = ax.plot(xy[:, 0], xy[:, 1], color=color, label=label,
                      marker="." if markers else None, markersize=3, **line_kw)
    c = line.get_color()
    if start and len(xy):
        ax.plot(*xy[0], marker="o", markersize=6, mfc="white", mec=c, mew=1.4, zorder=5)
    if end and len(xy):
        ax.plot(*xy[-1], marker="o", markersize=5, color=c, mec="k", mew=0.5, zorder=5)
    return ax


def animate_paths(surface, paths, frames=60, interval=80, optimum=None, title=None, figsize=(5.0, 4.2),
                  levels=20, log=None, colors=None, styles=None):
    """An animation of trajectories drawn step by step on a loss surface.

    ``paths`` maps a label to an array of shape ``(steps, 2)``; all advance together over
    ``frames`` frames (the longest path sets the pace).  ``colors`` and ``styles`` map
    labels to colours and line styles (default: :func:`optimizer_color`, solid).  Returns
    ``(fig, animation)``; write it with :func:`save_animation`.
    """
    from matplotlib.animation import FuncAnimation

    with use_style():
        fig, ax = new_figure(figsize=figsize)
        plot_contours(ax, surface, levels=levels, log=log, optimum=optimum)
        arrays = {k: np.asarray(v, dtype=float) for k, v in paths.items()}
        n = max(len(a) for a in arrays.values())
        lines, heads = {}, {}
        for k, a in arrays.items():
            c = (colors or {}).get(k) or optimizer_color(k)
            ls = (styles or {}).get(k, "-")
            ax.plot(*a[0], marker="o", markersize=6, mfc="white", mec=c, mew=1.4, zorder=5)
            (lines[k],) = ax.plot([], [], color=c, linestyle=ls, label=k, linewidth=1.4)
            (heads[k],) = ax.plot([], [], marker="o", markersize=5, color=c, mec="k", mew=0.5, zorder=6)
        ax.legend(loc="best", fontsize="x-small")
        label = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", fontsize=8)
        if title:
            ax.set_title(title)
        counts = np.unique(np.linspace(1, n, max(2, int(frames))).round().astype(int))

        def update(i):
            m = counts[i]
            for k, a in arrays.items():
                seg = a[: min(m, len(a))]
                seg = seg[np.all(np.isfinite(seg), axis=1)]
                lines[k].set_data(seg[:, 0], seg[:, 1])
                if len(seg):
                    heads[k].set_data([seg[-1, 0]], [seg[-1, 1]])
            label.set_text(f"step {m - 1}")
            return [*lines.values(), *heads.values(), label]

        anim = FuncAnimation(fig, update, frames=len(counts), interval=interval, blit=False)
        # the contours do not move: save_animation draws them once and only the paths per frame
        anim._optsim_fast = (update, len(counts), [*lines.values(), *heads.values(), label])
    return fig, anim


def _fast_gif(anim, path, fps, dpi):
    """Write a GIF of an :func:`animate_paths` animation, drawing the static background once."""
    from PIL import Image

    update, n, moving = anim._optsim_fast
    fig = anim._fig
    fig.set_dpi(dpi)
    canvas = fig.canvas
    for a in moving:
        a.set_animated(True)
    update(n - 1)  # lay the figure out with every artist in place
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    frames = []
    for i in range(n):
        canvas.restore_region(background)
        for a in update(i):
            fig.draw_artist(a)
        rgba = np.asarray(canvas.buffer_rgba())
        frames.append(Image.fromarray(rgba[..., :3].copy()).quantize(colors=255, dither=Image.Dither.NONE))
    for a in moving:
        a.set_animated(False)
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=int(1000 / fps),
                   loop=0, disposal=1)


def save_animation(anim, path, fps=12, dpi=100, mp4=None):
    """Write an animation as GIF (always, with Pillow) and MP4 (when ffmpeg is available).

    ``mp4=None`` writes MP4 only if matplotlib finds ffmpeg; ``True`` requires it; ``False``
    skips it.  Files are written atomically.  Returns the paths written.
    """
    from matplotlib import animation

    from .io import atomic_path

    path = Path(path)
    if path.suffix.lower() in (".gif", ".mp4", ".png", ".pdf"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    have_ffmpeg = animation.writers.is_available("ffmpeg")
    if mp4 and not have_ffmpeg:
        raise RuntimeError("save_animation: mp4=True needs ffmpeg on PATH (matplotlib could not find it)")
    written = []
    if getattr(anim, "_optsim_fast", None) is not None and not ((mp4 is None and have_ffmpeg) or mp4):
        out = path.with_suffix(".gif")
        with atomic_path(out) as tmp, use_style():
            _fast_gif(anim, tmp, fps, dpi)
        return [out]
    targets = [(".gif", animation.PillowWriter(fps=fps))]
    if (mp4 is None and have_ffmpeg) or mp4:
        targets.append((".mp4", animation.FFMpegWriter(fps=fps)))
    for suffix, writer in targets:
        out = path.with_suffix(suffix)
        with atomic_path(out) as tmp, use_style():
            anim.save(str(tmp) + suffix, writer=writer, dpi=dpi)
            os.replace(str(tmp) + suffix, tmp)
        written.append(out)
    return written
