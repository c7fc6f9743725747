"""The cache of generated modules: where they are written, how they are named and loaded,
and the log of everything compiled or loaded.

:mod:`optsim.engine.codegen` (the problem's entry points) and :mod:`optsim.engine._entries`
(the optimizer's and schedule's) write the source of a small module per entry point, name
it by a hash of that source and of the source files it imports (:func:`_source_hash`), and
load it through numba's disk cache (:func:`_load_entry`), or compile it in memory when the
functions it needs have no source file (:func:`_exec_uncached`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

import numba

from ..io import atomic_path

__all__ = ["KERNEL_LOG", "TEMPLATE_VERSION", "cache_dir"]

TEMPLATE_VERSION = "7"

_lock = threading.Lock()
KERNEL_LOG: list[dict] = []
"""Everything this process compiled or loaded from the cache: the loop and each problem's
entry points (kind "kernel"), each optimizer's and schedule's entry points and the records
function (kind "entry points"), as ``{"kernel", "kind", "seconds", "cpu_seconds",
"compiled"}`` (also :data:`optsim.engine.plan.KERNEL_LOG`).  ``seconds`` is wall time;
``cpu_seconds`` is the compiling thread's CPU time, which on a busy or virtual machine
can be much less."""

_loaded: dict[str, object] = {}
_keep: list = []


def _clock():
    return time.perf_counter(), time.thread_time()


def _log(name, kind, since, compiled):
    """Add an entry to KERNEL_LOG: wall and CPU seconds (of this thread) from ``since``."""
    t0, c0 = since
    KERNEL_LOG.append({"kernel": name, "kind": kind, "seconds": time.perf_counter() - t0,
                       "cpu_seconds": time.thread_time() - c0, "compiled": bool(compiled)})
_file_digests: dict[str, tuple[float, str]] = {}


def cache_dir() -> Path:
    """Where generated modules of entry points (and numba's cache of them) are kept."""
    env = os.environ.get("OPTSIM_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "kernels"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "optsim" / "kernels"


def _function_ref(fn):
    py = getattr(fn, "py_func", None)
    if py is None:
        raise TypeError(f"{fn!r} is not a numba-jitted function; decorate it with @numba.njit")
    return py.__module__, py.__qualname__


def _importable(fn):
    """True if ``fn`` can be imported by name from a module with a source file."""
    module_name, qualname = _function_ref(fn)
    mod = sys.modules.get(module_name)
    if module_name == "__main__" or mod is None:
        return False
    f = getattr(mod, "__file__", None)
    return bool(f) and os.path.isfile(f) and getattr(mod, qualname, None) is fn


def _file_digest(path):
    st = os.stat(path)
    hit = _file_digests.get(path)
    if hit and hit[0] == st.st_mtime:
        return hit[1]
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    _file_digests[path] = (st.st_mtime, digest)
    return digest


def _load_entry(module_name, source, name, kind):
    """The address of the C-callable function ``name`` of the generated module (written to
    the cache directory and loaded from numba's cache, or compiled), logged in
    :data:`KERNEL_LOG`; None if the cache directory cannot be written."""
    with _lock:
        since = _clock()
        try:
            compiled = getattr(_load_module(module_name, source), name)
        except OSError:
            return None
        _log(f"optsim_kernels.{module_name}", kind, since, compiled.cache_hits == 0)
        return compiled.address


def _import_lines(refs):
    """Import each function by name (``_alias``, its cached dispatcher) and make an inlined
    copy of it (``alias``) for the generated module."""
    return "\n".join(
        f"from {mod} import {qual} as _{alias}\n{alias} = njit(inline='always')(_{alias}.py_func)"
        for alias, (mod, qual) in sorted(refs.items())
    )


def _source_hash(full, modules):
    """A hash of the generated source, numba's version and the source files it imports."""
    h = hashlib.sha256(full.encode())
    h.update(numba.__version__.encode())
    for mod in sorted(modules):
        h.update(_file_digest(sys.modules[mod].__file__).encode())
    return h.hexdigest()[:24]


def _load_module(name, source):
    """Write ``source`` to the cache directory as module ``name`` (once) and import it."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    if not path.exists():
        with atomic_path(path) as tmp:
            Path(tmp).write_text(source)
    modname = f"optsim_kernels.{name}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module  # numba's cache re-imports the module by name
    spec.loader.exec_module(module)
    return module


def _exec_uncached(src, namespace, label, kind):
    """Compile the entry points of ``src`` in ``namespace``, uncached (functions without a
    source file, or an unwritable cache), log them in :data:`KERNEL_LOG` as ``label`` and
    keep them alive; returns the namespace."""
    since = _clock()
    exec(compile(src, f"<optsim {label.strip('<>')}>", "exec"), namespace)
    _log(label, kind, since, True)
    _keep.append(namespace)  # the compiled functions must outlive every call of the loop
    return namespace
