"""Chunked, resumable sweep results on disk.

A sweep run with ``out_dir=PATH`` keeps, in that directory::

    spec.json                     the sweep's spec and its hash (written first)
    chunks/<g>_<start>_<stop>.npz the outputs of trajectories start:stop of kernel group g
    result.nc                     the assembled Dataset (written last, with optsim.save)

Every file is written atomically (a temporary file, then ``os.replace``), so a sweep
killed at any moment leaves only finished chunks behind.  ``resume=True`` computes only
the trajectories that no chunk file covers; because a trajectory's result depends only on
its own key and rows, the assembled result is bit-identical to an uninterrupted run
whatever the chunk sizes were.

Each chunk file carries its identity (spec hash, group, trajectory range, the names,
shapes and dtypes of its arrays) and a SHA-256 checksum (:mod:`optsim._chunkfile`).  On
resume every chunk is checked; one that fails any check is never used: it is reported in
one line (a warning of the ``optsim.store`` logger), set aside as ``<name>.bad-<n>`` in
``chunks/`` (never deleted) and recomputed.  A chunk file without an identity record
(written by an optsim from before the record existed) cannot be verified, so it is set
aside and recomputed in the same way.  A missing ``spec.json`` is re-created when the
chunk files carry this sweep's spec hash; chunks that carry another hash are refused.

Several processes may run or resume the same sweep in one directory at once (on one or
several hosts).  Each writes its chunks through its own temporary file
(``.<name>.<host>-<pid>-<random>.tmp``) and ``os.replace``; two processes that compute the
same chunk write identical bytes, so whichever lands last is the same file.  A process
removes another's temporary file only when it is provably stale: its pid is not alive on
this host and it was not modified for a minute (files of other hosts, or not named this
way: a day).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import socket
import time
from pathlib import Path

import numpy as np

from . import _chunkfile
from ._components import OptsimError
from .io import atomic_path, to_jsonable

__all__ = ["ChunkStore", "StoreError", "DamagedChunkError", "SweepInterrupted", "auto_chunk_size",
           "missing_chunks", "TARGET_CHUNK_WORK", "checkpoints", "current_checkpoints"]

#: trajectory-steps x dimension per chunk: about one to a few seconds on one core
TARGET_CHUNK_WORK = 1e7

_CHUNK = re.compile(r"^(\d+)_(\d+)_(\d+)\.npz$")
_HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"
_TEMP = re.compile(r"^\.\d+_\d+_\d+\.npz\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[a-z0-9_]+\.tmp$")
#: seconds without change after which a temporary file of a dead process of this host is stale
STALE_OWN = 60.0
#: the same for temporary files of other hosts or of unknown writers
STALE_OTHER = 86400.0

log = logging.getLogger("optsim.store")


_CHECKPOINTS = contextvars.ContextVar("optsim_checkpoints", default=None)


@contextlib.contextmanager
def checkpoints(directory):
    """Make every ``optsim.sweep`` in the block resumable, without naming an ``out_dir``.

    A sweep run inside the block with no ``out_dir`` of its own keeps its finished chunks
    in ``directory/<spec hash>/`` (a chunk store as above) and resumes from them: running
    the same code again after an interruption computes only the chunks that are missing.
    The results are bit-identical to an unchunked run.  Blocks nest (the innermost wins);
    ``checkpoints(None)`` turns the behaviour off inside a block.  The research runner
    runs every study inside one (``results/<study>/<scale>/_sweeps``).
    """
    token = _CHECKPOINTS.set(None if directory is None else Path(directory))
    try:
        yield
    finally:
        _CHECKPOINTS.reset(token)


def current_checkpoints():
    """The directory set by :func:`checkpoints`, or None."""
    return _CHECKPOINTS.get()


class StoreError(OptsimError):
    """An output directory that cannot be used for this sweep (other spec, not empty...)."""


class DamagedChunkError(StoreError):
    """A chunk file that fails a check (:meth:`ChunkStore.read`); ``reason`` says which."""

    def __init__(self, path, reason):
        super().__init__(f"chunk file {path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep with ``out_dir``: finished chunks are kept; resume later."""


def auto_chunk_size(plan, target=TARGET_CHUNK_WORK):
    """Trajectories per chunk so that a chunk is about ``target`` trajectory-steps x dimension."""
    work = plan.steps * max(1, int(plan.dim))
    return max(1, int(target // work))


def _alive(pid):
    """Whether process ``pid`` of this host may be running (True when it cannot be told)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True


def _identity(path):
    """Which file ``path`` is now: (device, inode) (OSError when there is none)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _fields(target, gi, start, stop):
    """{name: (shape, dtype)} a chunk start:stop of group gi of ``target`` must hold, or the
    reason it does not fit (a Plan: raw outputs; a Reducer: statistics of whole cells)."""
    from .reduce import Reducer

    groups = target.groups
    if gi >= len(groups) or not 0 <= start < stop <= groups[gi].size:
        size = groups[gi].size if gi < len(groups) else None
        raise _chunkfile.DamagedChunk(
            f"does not fit this sweep (it has {len(groups)} groups" +
            ("" if size is None else f", group {gi} has {size} trajectories") + ")")
    if isinstance(target, Reducer):
        r = target.replicates
        if start % r or (stop - start) % r:
            raise _chunkfile.DamagedChunk(f"does not hold whole cells of {r} replicates")
    return target.output_shapes(stop - start)


class ChunkStore:
    """The directory of one sweep: its spec, its finished chunks and its result."""

    def __init__(self, path, spec, spec_hash, *, resume=False, overwrite=False):
        self.path = Path(path)
        self.spec_hash = spec_hash
        self.chunk_dir = self.path / "chunks"
        self.spec_path = self.path / "spec.json"
        self.result_path = self.path / "result.nc"
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"out_dir {self.path} is a file, not a directory")
        self.path.mkdir(parents=True, exist_ok=True)
        existing = self._read_hash()
        recovered = False
        if existing is None and not overwrite and self._chunk_files():
            existing = recovered = self._recover_hash()
        ours = {"spec.json", "chunks", "result.nc"}
        others = [p.name for p in self.path.iterdir() if p.name not in ours and not p.name.startswith(".")]
        if overwrite:
            self._clear()
        elif existing is not None and existing != spec_hash:
            raise StoreError(
                f"out_dir {self.path} holds a sweep with spec hash {existing}, but this sweep's spec "
                f"hash is {spec_hash}; results of different sweeps are never mixed. Use another "
                f"out_dir, or overwrite=True (--overwrite) to discard the old chunks."
            )
        elif existing is None and (others or self._chunk_files()):
            raise StoreError(
                f"out_dir {self.path} is not empty and is not an optsim sweep directory (no spec.json"
                + (", and no chunk file carries a readable spec hash" if self._chunk_files() else "")
                + "); use an empty or new directory"
            )
        elif existing is not None and not resume and (self._chunk_files() or self.result_path.exists()):
            raise StoreError(
                f"out_dir {self.path} already holds results of this sweep (spec hash {spec_hash}); "
                f"pass resume=True (--resume) to compute only the missing chunks, or overwrite=True "
                f"(--overwrite) to start again"
            )
        self.chunk_dir.mkdir(exist_ok=True)
        self._remove_stale_temps()
        if existing != spec_hash or overwrite or recovered:
            text = json.dumps({"spec_hash": spec_hash, "spec": to_jsonable(spec)}, sort_keys=True, indent=1)
            with atomic_path(self.spec_path) as tmp:
                Path(tmp).write_text(text)
        if recovered and not overwrite:
            log.warning("optsim: %s was missing; re-created it from this sweep's spec, whose hash %s "
                        "the chunk files in %s carry", self.spec_path, spec_hash, self.chunk_dir)

    # -- reading ----------------------------------------------------------------------
    def _read_hash(self):
        if not self.spec_path.exists():
            return None
        try:
            h = json.loads(self.spec_path.read_text())["spec_hash"]
            if not isinstance(h, str):
                raise ValueError(f"spec_hash is {h!r}, not a string")
            return h
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise StoreError(
                f"{self.spec_path} is not an optsim spec file ({type(exc).__name__}: {exc}); if the "
                f"directory is this sweep's, move that file away and resume: the spec is re-created "
                f"from the chunk files' spec hash"
            ) from None

    def _recover_hash(self):
        """With no spec.json: the spec hash the chunk files carry (refused when they carry
        another sweep's), or None when none carries a readable one."""
        found = {}
        for _, p in self._chunk_files():
            h = _chunkfile.spec_hash_of(p)
            if h is not None:
                found.setdefault(h, []).append(p.name)
        foreign = sorted(h for h in found if h != self.spec_hash)
        if foreign:
            names = found[foreign[0]]
            raise StoreError(
                f"out_dir {self.path} has no spec.json, and its chunk files carry spec hash "
                f"{', '.join(foreign)} ({len(names)} file(s), e.g. {names[0]}), but this sweep's "
                f"spec hash is {self.spec_hash}; results of different sweeps are never mixed. Use "
                f"another out_dir, or overwrite=True (--overwrite) to discard the old chunks."
            )
        return self.spec_hash if found else None

    def _chunk_files(self):
        if not self.chunk_dir.is_dir():
            return []
        out = []
        for p in self.chunk_dir.iterdir():
            m = _CHUNK.match(p.name)
            if m:
                out.append((tuple(int(x) for x in m.groups()), p))
        return sorted(out)

    def _clear(self):
        for _, p in self._chunk_files():
            p.unlink(missing_ok=True)
        for p in (self.result_path, self.spec_path):
            p.unlink(missing_ok=True)

    def _remove_stale_temps(self):
        """Remove the temporary chunk files whose writer is provably gone (see the module doc)."""
        now = time.time()
        for p in self.chunk_dir.glob(".*.tmp"):
            m = _TEMP.match(p.name)
            try:
                age = now - p.stat().st_mtime
            except OSError:
                continue  # just renamed into place, or removed by its writer
            if m and m["host"] == _HOST:
                stale = age > STALE_OWN and int(m["pid"]) != os.getpid() and not _alive(int(m["pid"]))
            else:
                stale = age > STALE_OTHER
            if stale:
                p.unlink(missing_ok=True)

    def finished(self):
        """Sorted (group, start, stop) of every chunk on disk (checked only when read)."""
        return [key for key, _ in self._chunk_files()]

    def read(self, gi, start, stop, target=None):
        """The arrays of chunk ``gi_start_stop``, checked (with ``target``, a Plan or Reducer:
        also its array names, shapes and dtypes); :class:`DamagedChunkError` if any check fails."""
        path = self.chunk_dir / f"{gi}_{start}_{stop}.npz"
        try:
            fields = None if target is None else _fields(target, gi, start, stop)
            return _chunkfile.read_checked(path, self.spec_hash, gi, start, stop, fields)
        except _chunkfile.DamagedChunk as exc:
            raise DamagedChunkError(path, exc.reason) from None

    def load_into(self, plan, out):
        """Copy every finished chunk that passes the checks into ``out`` (the flat arrays of
        ``plan``, a Plan or a Reducer); return their ranges.  Each one that fails is reported,
        set aside and left out (so it is recomputed)."""
        done = []
        for (gi, start, stop), path in self._chunk_files():
            try:
                seen = _identity(path)
            except FileNotFoundError:
                continue  # set aside by another process meanwhile
            except OSError:
                seen = None
            try:
                part = self.read(gi, start, stop, plan)
            except DamagedChunkError as exc:
                self._set_aside(path, exc.reason, seen)
                continue
            plan.scatter(out, gi, start, stop, part)
            done.append((gi, start, stop))
        return done

    def _set_aside(self, path, reason, seen):
        """Rename the failed chunk file ``path`` (as :func:`_identity` ``seen`` it before it was
        read) to ``<name>.bad-<n>``, the first n free, and say so in one line.  If another
        process set it aside or replaced it meanwhile, leave that to it."""
        for n in range(1, 1_000_000):
            new = path.with_name(f"{path.name}.bad-{n}")
            try:
                os.link(path, new)  # never replaces an existing file
            except FileExistsError:
                continue
            except FileNotFoundError:
                return None  # set aside by another process meanwhile
            except OSError:  # no hard links on this file system
                if new.exists():
                    continue
                try:
                    os.replace(path, new)
                except FileNotFoundError:
                    return None
            else:
                if seen is not None and _identity(new) != seen:  # another process wrote a new chunk there meanwhile
                    new.unlink(missing_ok=True)
                    return None
                try:
                    path.unlink()
                except FileNotFoundError:  # another process set it aside at the same moment
                    new.unlink(missing_ok=True)
                    return None
            log.warning("optsim: chunk file %s is damaged: %s; set aside as %s, recomputing it",
                        path, reason, new.name)
            return new
        raise StoreError(f"cannot set aside the damaged chunk file {path}: too many set aside already")

    # -- writing ----------------------------------------------------------------------
    def write(self, gi, start, stop, part):
        """Write chunk ``gi_start_stop`` (arrays ``part``) with its identity record, atomically."""
        path = self.chunk_dir / f"{gi}_{start}_{stop}.npz"
        with atomic_path(path, prefix=f".{path.name}.{_HOST}-{os.getpid()}-", suffix=".tmp") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **_chunkfile.encode(self.spec_hash, gi, start, stop, part))


def missing_chunks(plan, done, chunk_size):
    """(group, start, stop) ranges, at most ``chunk_size`` long, covering what ``done`` does not."""
    covered = {}
    for gi, start, stop in done:
        covered.setdefault(gi, []).append((start, stop))
    todo = []
    for gi, g in enumerate(plan.groups):
        pos = 0
        gaps = []
        for a, b in sorted(covered.get(gi, [])):
            if a > pos:
                gaps.append((pos, a))
            pos = max(pos, b)
        if pos < g.size:
            gaps.append((pos, g.size))
        for a, b in gaps:
            for s in range(a, b, chunk_size):
                todo.append((gi, s, min(s + chunk_size, b)))
    return todo
