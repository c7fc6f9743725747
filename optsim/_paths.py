"""Checking output paths before any work: a result, a figure or a sweep directory that could
not be written is refused up front, not found out after every trajectory has run.

A path is usable when it can be created or replaced: it is not a directory where a file is
meant (nor a file where a directory is meant), no regular file stands where one of its
parent directories should be, and the nearest existing directory above it is writable.
Nothing is created here.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._components import ParameterError, ParameterTypeError

__all__ = ["check_directory", "check_file"]


def _as_path(value, name):
    if isinstance(value, (bytes, bool)) or not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ParameterTypeError(f"{name}={value!r} is not allowed; {name} must be a path (a str or os.PathLike)")
    return Path(value)


def _nearest_existing(path):
    """The closest of ``path`` and its parents that exists (as anything)."""
    for p in (path, *path.parents):
        if os.path.lexists(p):
            return p
    return Path(path.anchor or ".")


def _check_creatable(path, name, what):
    """``path`` does not exist: the directories above it must be creatable."""
    base = _nearest_existing(path.absolute())
    if not base.is_dir():
        raise ParameterError(f"{name}={str(path)!r}: {base} is a file, so the {what} cannot be created under it")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ParameterError(f"{name}={str(path)!r}: the directory {base} is not writable, so the {what} "
                             f"cannot be created")


def check_directory(value, name="out_dir"):
    """``value`` as a Path, refused in one line unless it is, or can become, a writable directory."""
    path = _as_path(value, name)
    if os.path.lexists(path):
        if not path.is_dir():
            raise ParameterError(f"{name}={str(path)!r} is a file, not a directory; give a directory for the sweep")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ParameterError(f"{name}={str(path)!r}: the directory is not writable")
        return path
    _check_creatable(path, name, "directory")
    return path


def check_file(value, name="output"):
    """``value`` as a Path, refused in one line unless a file can be written (or replaced) there.

    Files are written atomically (a temporary file beside it, then renamed), so the directory
    that holds it must be writable too.
    """
    path = _as_path(value, name)
    if path.is_dir():
        raise ParameterError(f"{name}={str(path)!r} is a directory; give a file name, such as "
                             f"{str(path / 'result.nc')!r}")
    parent = path.absolute().parent
    if os.path.lexists(path):
        if not os.access(path, os.W_OK):
            raise ParameterError(f"{name}={str(path)!r}: the file exists and is not writable")
    if os.path.lexists(parent):
        if not parent.is_dir():
            raise ParameterError(f"{name}={str(path)!r}: {parent} is a file, so the file cannot be created under it")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ParameterError(f"{name}={str(path)!r}: the directory {parent} is not writable")
        return path
    _check_creatable(parent, name, "file")
    return path
