"""Saving and loading results (NetCDF-4 through h5netcdf)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["save", "load", "spec_of", "atomic_path", "to_jsonable"]

_JSON_SCALARS = (str, int, float, bool, type(None))


def save(ds, path):
    """Write a result Dataset to ``path`` (NetCDF-4), atomically: a crash leaves no half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = ds.copy()
    for name, var in encoded.variables.items():
        if var.dtype == bool:
            encoded[name] = var.astype("u1")
            encoded[name].attrs["optsim_dtype"] = "bool"
    with atomic_path(path) as tmp:
        encoded.to_netcdf(tmp, engine="h5netcdf")
    return path


@contextlib.contextmanager
def atomic_path(path, prefix=".", suffix=None):
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one step.

    A crash or an exception leaves either the old file or none, never a half-written one.
    The file gets the permissions the umask gives (``mkstemp`` would make it private).
    The temporary name is ``prefix``, random characters and ``suffix`` (default: ``path``'s
    suffix and ``.tmp``); it is unique, so concurrent writers of one ``path`` never share it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix + ".tmp" if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load(path):
    """Read a result Dataset written by :func:`save` (never recomputes anything)."""
    import xarray as xr

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no optsim result at {path}")
    ds = xr.load_dataset(path, engine="h5netcdf")
    for name in list(ds.variables):
        if ds[name].attrs.get("optsim_dtype") == "bool":
            attrs = {k: v for k, v in ds[name].attrs.items() if k != "optsim_dtype"}
            ds[name] = ds[name].astype(bool)
            ds[name].attrs = attrs
    return ds


def spec_of(ds) -> dict:
    """The sweep spec stored in a result's attributes."""
    return json.loads(ds.attrs["optsim_spec"])


def to_jsonable(obj, default=None):
    """``obj`` with its containers and NumPy values made plain JSON types (for ``json.dumps``).

    Dicts get string keys, in sorted order; lists and tuples become lists; NumPy scalars
    become Python scalars and arrays nested lists.  A non-finite Python float becomes its
    ``repr`` (``"inf"``, ``"nan"``), so that a spec is strict JSON.  Any other object is
    returned as it is, or, with ``default``, replaced by ``default(obj)`` (e.g. ``repr``).

    Sweep specs and their hashes (:func:`optsim.sweep`, the chunk store) and the studies'
    parameters and hashes are all written through this one function.
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v, default) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, default) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if default is None or isinstance(obj, _JSON_SCALARS):
        return obj
    return default(obj)
