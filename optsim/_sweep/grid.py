"""The grid's axes (product and zipped) and the recorded steps."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._components import ParameterError
from .keywords import _check_int


class _Axis:
    def __init__(self, dim, names, values):
        self.dim = dim
        self.names = names  # parameter names set by this axis
        self.values = values  # list of tuples, one per position, aligned with names


def _axes(grid):
    axes = []
    if grid is None:
        return axes
    if not isinstance(grid, Mapping):
        raise ParameterError(f"grid must be a dict {{name: values}}, got {type(grid).__name__}")
    for key, values in grid.items():
        if isinstance(key, str) and "," in key:
            key = tuple(k.strip() for k in key.split(","))
        if isinstance(key, tuple):
            names = key
            vals = [tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else (v,) for v in values]
            for v in vals:
                if len(v) != len(names):
                    raise ParameterError(
                        f"grid axis {key!r}: every entry must give {len(names)} values ({', '.join(names)}), got {v!r}"
                    )
            dim = "_".join(names)
        else:
            names = (key,)
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
                raise ParameterError(f"grid axis {key!r} must be a sequence of values, got {values!r}")
            vals = [(v.item() if isinstance(v, np.generic) else v,) for v in values]
            dim = key
        if len(vals) == 0:
            raise ParameterError(f"grid axis {key!r} has no values")
        axes.append(_Axis(dim, names, vals))
    dims = [a.dim for a in axes]
    if len(set(dims)) != len(dims):
        raise ParameterError(f"grid axes repeat a name: {dims}")
    return axes


def _grid_lengths(grid):
    """``[(values, names)]`` per axis of ``grid``, counted without expanding it (None for a
    grid :func:`_axes` refuses)."""
    if grid is None:
        return []
    if not isinstance(grid, Mapping):
        return None
    out = []
    for key, values in grid.items():
        if isinstance(values, (str, bytes)):
            return None
        try:
            n = len(values)
        except TypeError:
            return None
        names = len(key.split(",")) if isinstance(key, str) else len(key) if isinstance(key, tuple) else 1
        out.append((n, names))
    return out


def _record_count(steps, record_every, record_steps):
    """How many steps :func:`_record_steps` records, counted without making them."""
    if record_steps is not None:
        return int(_record_steps(steps, record_every, record_steps).shape[0])
    if record_every is None:
        record_every = max(1, steps // 100)
    record_every = _check_int("record_every", record_every, 1)
    return steps // record_every + 1 + (1 if steps % record_every else 0)


def _record_steps(steps, record_every, record_steps):
    if record_steps is not None:
        rs = np.unique(np.asarray(record_steps, dtype=np.int64))
        if rs.size == 0 or rs[0] < 0 or rs[-1] > steps:
            raise ParameterError(f"record_steps must lie in [0, steps={steps}], got {list(record_steps)[:5]}...")
        return rs
    if record_every is None:
        record_every = max(1, steps // 100)
    record_every = _check_int("record_every", record_every, 1)
    rs = np.arange(0, steps + 1, record_every, dtype=np.int64)
    if rs[-1] != steps:
        rs = np.append(rs, steps)
    return rs
