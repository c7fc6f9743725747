"""Versions and git revision recorded in every result and figure."""

import functools
import os
import platform
import subprocess

from ._version import __version__


@functools.lru_cache(maxsize=1)
def git_revision():
    """The git revision of the optsim source tree (with '+dirty' if modified), or 'unknown'."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(
            ["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5,
        )
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def attrs():
    import numba
    import numpy
    import xarray

    return {
        "optsim_version": __version__,
        "numba_version": numba.__version__,
        "numpy_version": numpy.__version__,
        "xarray_version": xarray.__version__,
        "python_version": platform.python_version(),
        "git_revision": git_revision(),
    }
