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
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ._components import OptsimError
from .io import atomic_path, to_jsonable

__all__ = ["ChunkStore", "StoreError", "SweepInterrupted", "auto_chunk_size", "missing_chunks", "TARGET_CHUNK_WORK"]

#: trajectory-steps x dimension per chunk: about one to a few seconds on one core
TARGET_CHUNK_WORK = 1e7

_CHUNK = re.compile(r"^(\d+)_(\d+)_(\d+)\.npz$")


class StoreError(OptsimError):
    """An output directory that cannot be used for this sweep (other spec, not empty...)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep with ``out_dir``: finished chunks are kept; resume later."""


def auto_chunk_size(plan, target=TARGET_CHUNK_WORK):
    """Trajectories per chunk so that a chunk is about ``target`` trajectory-steps x dimension."""
    work = plan.steps * max(1, int(plan.dim))
    return max(1, int(target // work))


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
                f"out_dir {self.path} is not empty and is not an optsim sweep directory (no spec.json); "
                f"use an empty or new directory"
            )
        elif existing is not None and not resume and (self._chunk_files() or self.result_path.exists()):
            raise StoreError(
                f"out_dir {self.path} already holds results of this sweep (spec hash {spec_hash}); "
                f"pass resume=True (--resume) to compute only the missing chunks, or overwrite=True "
                f"(--overwrite) to start again"
            )
        self.chunk_dir.mkdir(exist_ok=True)
        for tmp in self.chunk_dir.glob(".*.tmp"):  # left by a killed writer
            tmp.unlink(missing_ok=True)
        if existing != spec_hash or overwrite:
            text = json.dumps({"spec_hash": spec_hash, "spec": to_jsonable(spec)}, sort_keys=True, indent=1)
            with atomic_path(self.spec_path) as tmp:
                Path(tmp).write_text(text)

    # -- reading ----------------------------------------------------------------------
    def _read_hash(self):
        if not self.spec_path.exists():
            return None
        try:
            return json.loads(self.spec_path.read_text())["spec_hash"]
        except (ValueError, KeyError) as exc:
            raise StoreError(f"{self.spec_path} is not an optsim spec file ({exc})") from None

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
            p.unlink()
        for p in (self.result_path, self.spec_path):
            p.unlink(missing_ok=True)

    def finished(self):
        """Sorted (group, start, stop) of every chunk on disk."""
        return [key for key, _ in self._chunk_files()]

    def read(self, gi, start, stop):
        with np.load(self.chunk_dir / f"{gi}_{start}_{stop}.npz") as z:
            return {name: z[name] for name in z.files}

    def load_into(self, plan, out):
        """Copy every finished chunk into ``out`` (the plan's flat arrays); return the ranges."""
        done = []
        for gi, start, stop in self.finished():
            if gi >= len(plan.groups) or stop > plan.groups[gi].size or start >= stop:
                raise StoreError(f"chunk {gi}_{start}_{stop} in {self.chunk_dir} does not fit this sweep")
            plan.scatter(out, gi, start, stop, self.read(gi, start, stop))
            done.append((gi, start, stop))
        return done

    # -- writing ----------------------------------------------------------------------
    def write(self, gi, start, stop, part):
        with atomic_path(self.chunk_dir / f"{gi}_{start}_{stop}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **part)


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
