"""What :func:`optsim.explore` embeds in its page: decimated steps, quantized curves, contours.

Part of :mod:`optsim.explore`.  Every array travels as base64 text in one of two encodings:

``float32``
    little-endian IEEE single precision (NaN and infinities as they are);
``log16`` / ``lin16``
    16-bit codes, little-endian.  Codes ``0 .. 65531`` span ``[lo, hi]`` evenly, in
    :math:`\\log_{10}` of the value (``log16``, chosen when every finite non-zero value is
    positive) or in the value itself (``lin16``); ``65532`` is an exact 0, ``65533`` is
    ``-inf``, ``65534`` is ``+inf`` and ``65535`` is NaN.  A value is off by at most half a
    code: a relative error of :math:`10^{(hi - lo) / (2 \\cdot 65531)} - 1` for ``log16``
    (under 4e-4 for 20 decades), an absolute error of :math:`(hi - lo) / (2 \\cdot 65531)`
    for ``lin16``.
"""

from __future__ import annotations

import base64
import io as _io
import json

import numpy as np

__all__ = []

CODES = 65531
ZERO, NEG_INF, POS_INF, NAN = 65532, 65533, 65534, 65535
#: dimensions a curve may carry besides the grid's, never offered as a control
RECORD_DIMS = ("param", "slot", "stat", "threshold", "quantile")
#: a value past this is a diverged run's (quantiles of an infinity are computed on this bound)
_HUGE = 1e300


# -- encoding ---------------------------------------------------------------------------------


def encode(a, encoding="auto16"):
    """``a`` as ``{"enc", "lo", "hi", "shape", "b64"}`` (see the module docstring)."""
    a = np.asarray(a, dtype=float)
    out = {"shape": list(a.shape)}
    if encoding == "float32":
        out.update(enc="f32", lo=0.0, hi=0.0)
        raw = a.astype("<f4").tobytes()
    else:
        fin = a[np.isfinite(a)]
        nz = fin[fin != 0]
        log = nz.size > 0 and bool(np.all(nz > 0))
        t = np.log10(nz) if log else fin
        lo, hi = (float(t.min()), float(t.max())) if t.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        codes = np.full(a.shape, NAN, dtype="<u2")
        with np.errstate(divide="ignore", invalid="ignore"):
            tv = np.log10(a) if log else a
            q = np.rint((tv - lo) / (hi - lo) * CODES)
        ok = np.isfinite(a) & ((a != 0) if log else True)
        codes[ok] = np.clip(q[ok], 0, CODES).astype("<u2")
        if log:
            codes[a == 0] = ZERO
        codes[a == np.inf] = POS_INF
        codes[a == -np.inf] = NEG_INF
        out.update(enc="log16" if log else "lin16", lo=lo, hi=hi)
        raw = codes.tobytes()
    out["b64"] = base64.b64encode(raw).decode("ascii")
    return out


def decode(blob):
    """The array :func:`encode` wrote (what the page's ``decode`` computes, in NumPy)."""
    raw = base64.b64decode(blob["b64"])
    shape = tuple(blob["shape"])
    if blob["enc"] == "f32":
        return np.frombuffer(raw, dtype="<f4").astype(float).reshape(shape)
    c = np.frombuffer(raw, dtype="<u2").reshape(shape)
    lo, hi = blob["lo"], blob["hi"]
    v = lo + c.astype(float) / CODES * (hi - lo)
    if blob["enc"] == "log16":
        v = 10.0 ** v
    v = np.where(c == ZERO, 0.0, v)
    v = np.where(c == POS_INF, np.inf, v)
    v = np.where(c == NEG_INF, -np.inf, v)
    return np.where(c == NAN, np.nan, v)


def error_bound(blob):
    """(relative, absolute) bound of :func:`decode`'s error for ``blob`` (one of them is 0)."""
    if blob["enc"] == "f32":
        return 2.0 ** -24, 0.0
    half = (blob["hi"] - blob["lo"]) / (2 * CODES)
    if blob["enc"] == "log16":
        return float(10.0 ** half - 1.0) * (1 + 1e-9), 0.0
    return 0.0, half * (1 + 1e-9) + 1e-300


# -- steps and curves --------------------------------------------------------------------------


def decimate(n, max_steps):
    """At most ``max_steps`` indices into ``range(n)``, first and last kept: half spread evenly,
    half geometrically (so that a logarithmic step axis keeps its early steps)."""
    if n <= max_steps:
        return np.arange(n)
    lin = np.linspace(0, n - 1, max(2, max_steps // 2)).round()
    geo = np.geomspace(1, n - 1, max(2, max_steps - lin.size)).round()
    idx = np.unique(np.concatenate([[0, n - 1], lin, geo]).astype(int))
    return idx


def quantiles(values, axis, q):
    """``np.nanquantile`` along ``axis``, with diverged (infinite) runs counted as the largest."""
    v = np.clip(np.asarray(values, dtype=float), -_HUGE, _HUGE)
    with np.errstate(invalid="ignore"), _quiet():
        out = np.nanquantile(v, q, axis=axis)
    out = np.where(out >= _HUGE * 1e-10, np.inf, out)
    return np.where(out <= -_HUGE * 1e-10, -np.inf, out)


class _quiet:
    """Silence NumPy's "All-NaN slice" warning (a cell where every replicate is NaN stays NaN)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def curve_payload(da, controls, x, rep, q, steps, max_replicates, encoding):
    """One variable's bands (quantiles over replicates) and a few replicates, on the kept steps."""
    dims = [d for d in da.dims if d in controls]
    extra = [d for d in da.dims if d not in dims and d not in (x, rep, "quantile")]
    if extra:
        raise ValueError(f"explore: variable {da.name!r} has dimensions {extra} that are not controls")
    da = da.isel({x: steps})
    out = {"name": da.name, "label": str(da.attrs.get("long_name") or str(da.name).replace("_", " ")), "dims": dims}
    if "quantile" in da.dims:  # a reduced result's own quantiles
        qs = list(np.asarray(da["quantile"].values, dtype=float))
        mid = qs.index(0.5) if 0.5 in qs else len(qs) // 2
        band = da.isel(quantile=[0, mid, len(qs) - 1]).transpose(*dims, "quantile", x).values
        out.update(bands=encode(band, encoding), nrep=0, replicates=0, q=[qs[0], qs[mid], qs[-1]])
        return out
    if rep in da.dims:
        vals = da.transpose(*dims, rep, x).values
        band = np.moveaxis(quantiles(vals, -2, q), 0, -2)  # (*dims, 3, steps)
        k = min(max_replicates, vals.shape[-2])
        out.update(bands=encode(band, encoding), nrep=int(vals.shape[-2]), replicates=k, q=list(q))
        if k:
            out["reps"] = encode(vals[..., :k, :], encoding)
    else:
        vals = da.transpose(*dims, x).values[..., None, :]
        out.update(bands=encode(np.repeat(vals, 3, axis=-2), encoding), nrep=1, replicates=0, q=list(q))
    return out


def best_cell(payload):
    """{dim: index} of the cell with the lowest final median (the page's starting view)."""
    mid = decode(payload["bands"])[..., 1, -1]
    if mid.ndim == 0:
        return {}
    score = np.where(np.isfinite(mid), mid, np.inf)
    if not np.isfinite(score).any():
        return {}
    idx = np.unravel_index(int(np.argmin(score)), score.shape)
    return {d: int(i) for d, i in zip(payload["dims"], idx)}


# -- 2-D trajectories and contours ---------------------------------------------------------------


def path_values(da, controls, x, rep, steps, max_paths):
    """(dims, coordinate names, positions (*dims, paths, steps, 2)) of the first ``max_paths``
    replicates on the kept steps."""
    dims = [d for d in da.dims if d in controls]
    da = da.isel({x: steps})
    if rep in da.dims:
        da = da.isel({rep: slice(0, max_paths)}).transpose(*dims, rep, x, "param")
    else:
        da = da.expand_dims(rep, axis=-1).transpose(*dims, rep, x, "param")
    names = [str(v) for v in da["param"].values] if "param" in da.coords else ["x", "y"]
    return dims, names, np.asarray(da.values, dtype=float)


def window(vals, contours, optimum=None):
    """The (x0, x1, y0, y1) drawn: the contours' box, else the starts, the minimum (when known)
    and the bulk of the iterates near them (a diverging run does not stretch the window)."""
    if contours is not None:
        return contours["box"]
    xy = vals[np.all(np.isfinite(vals), axis=-1)]
    if xy.size == 0:
        return [-1.0, 1.0, -1.0, 1.0]
    anchor = vals[..., 0, :].reshape(-1, 2)
    if optimum is not None:
        anchor = np.vstack([anchor, np.asarray(optimum, dtype=float)[None, :2]])
    anchor = anchor[np.all(np.isfinite(anchor), axis=-1)]
    if anchor.size:
        a0, a1 = anchor.min(axis=0), anchor.max(axis=0)
        typical = float(np.max(np.median(np.abs(xy - 0.5 * (a0 + a1)), axis=0)))  # how far iterates go
        reach = 3.0 * max(float(np.max(a1 - a0)), typical)
        if reach > 0:
            near = np.all((xy >= a0 - reach) & (xy <= a1 + reach), axis=-1)
            xy = xy[near] if near.any() else anchor
    lo, hi = np.percentile(xy, 1, axis=0), np.percentile(xy, 99, axis=0)
    if anchor.size:
        lo, hi = np.minimum(lo, anchor.min(axis=0)), np.maximum(hi, anchor.max(axis=0))
    pad = np.maximum(0.06 * (hi - lo), 1e-6 * np.maximum(1.0, np.abs(hi)))
    return [float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])]


def path_payload(dims, names, vals, box, encoding):
    """The trajectories, one coordinate per array.  16-bit codes span the window drawn and one
    window's width either side (a step of 3e-5 of the window); a point beyond that is sent as an
    infinity, so that the line leaves the window there."""
    out = {"dims": dims, "names": names, "count": int(vals.shape[-3]), "box": [float(b) for b in box]}
    for k, (lo, hi) in enumerate(((box[0], box[1]), (box[2], box[3]))):
        v = vals[..., k]
        if encoding == "float32":
            out["xy"[k]] = encode(v, "float32")
            continue
        w = hi - lo
        lo, hi = lo - w, hi + w
        v = np.where(np.isfinite(v) & ((v < lo) | (v > hi)), np.inf, v)
        codes = np.full(v.shape, NAN, dtype="<u2")
        fin = np.isfinite(v)
        codes[fin] = np.clip(np.rint((v[fin] - lo) / (hi - lo) * CODES), 0, CODES).astype("<u2")
        codes[v == np.inf] = POS_INF
        codes[v == -np.inf] = NEG_INF
        out["xy"[k]] = {"enc": "lin16", "lo": float(lo), "hi": float(hi), "shape": list(v.shape),
                        "b64": base64.b64encode(codes.tobytes()).decode("ascii")}
    return out


def surface_of(ds, surface, paths):
    """The loss surface to draw under the trajectories: given, saved in ``ds``, or computed from the
    problem in the sweep's spec on the trajectories' bounding box; None when none can be had."""
    if surface is not None:
        return surface, _optimum(ds, None)
    if "surface" in ds.data_vars and ds["surface"].ndim == 2:
        return ds["surface"], _optimum(ds, None)
    try:
        from . import registry
        from .analysis import loss_surface
        from .io import spec_of

        spec = spec_of(ds)
        problem_spec = spec["problem"]
        gridded = {n for g in spec.get("grid", {}).values() for n in g.get("names", [])}
        if gridded & set(problem_spec):  # the surface changes along the grid: no single contour plot
            return None, None
        problem = registry.build("problem", problem_spec)
        if problem.dimension() != 2:
            return None, None
    except Exception:  # noqa: BLE001 - not a sweep, or a problem that cannot be rebuilt: no contours
        return None, None
    opt = _optimum(ds, problem)
    x0, x1, y0, y1 = window(paths, None, opt)
    return loss_surface(problem, (x0, x1), (y0, y1), n=121), opt


def _optimum(ds, problem):
    opt = ds.attrs.get("optimum")
    if opt is None and problem is not None:
        try:
            opt = problem.optimum()
        except Exception:  # noqa: BLE001 - a problem without a known minimiser
            opt = None
    if opt is None:
        return None
    opt = np.asarray(opt, dtype=float).ravel()
    return opt[:2] if opt.size >= 2 and np.all(np.isfinite(opt[:2])) else None


def contour_payload(surface, levels, optimum):
    """Contour lines (16-bit coordinates in the window) and a shaded background (a PNG)."""
    import contourpy
    import matplotlib as mpl
    from PIL import Image

    from ._surfaces import _contour_levels

    ydim, xdim = surface.dims
    xs = np.asarray(surface[xdim].values, dtype=float)
    ys = np.asarray(surface[ydim].values, dtype=float)
    z = np.asarray(surface.values, dtype=float)
    lv, is_log = _contour_levels(z, levels, None)
    gen = contourpy.contour_generator(xs, ys, np.where(np.isfinite(z), z, np.nan))
    pts, lines = [], []
    for k, level in enumerate(lv):
        for seg in gen.lines(float(level)):
            seg = np.asarray(seg, dtype=float)
            if len(seg) >= 2:
                lines.append([k, sum(len(p) for p in pts), len(seg)])
                pts.append(seg)
    allp = np.concatenate(pts) if pts else np.zeros((0, 2))
    box = [float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])]
    norm = np.empty_like(allp)
    norm[:, 0] = (allp[:, 0] - box[0]) / (box[1] - box[0])
    norm[:, 1] = (allp[:, 1] - box[2]) / (box[3] - box[2])
    codes = np.clip(np.rint(norm * CODES), 0, CODES).astype("<u2")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log10(np.clip(z, lv[0], lv[-1])) if is_log else np.clip(z, lv[0], lv[-1])
        a, b = (np.log10(lv[0]), np.log10(lv[-1])) if is_log else (lv[0], lv[-1])
        t = (t - a) / (b - a) if b > a else np.zeros_like(z)
    rgba = mpl.colormaps["Blues_r"](np.nan_to_num(t, nan=1.0))
    rgba[..., 3] = 0.55
    img = Image.fromarray((rgba[::-1] * 255).round().astype(np.uint8), mode="RGBA")
    buf = _io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return {
        "box": box, "xname": str(xdim), "yname": str(ydim), "log": bool(is_log),
        "levels": [float(v) for v in lv], "lines": lines,
        "points": base64.b64encode(codes.tobytes()).decode("ascii"),
        "image": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
        "optimum": None if optimum is None else [float(optimum[0]), float(optimum[1])],
    }


def to_json(payload):
    """JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")
