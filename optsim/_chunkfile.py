"""One chunk file of the sweep store: its arrays, the record of what they are, and the check.

A chunk file is an ordinary ``.npz`` archive (``numpy.load`` reads it, no pickle): one
``.npy`` member per output array, plus the member ``__optsim_chunk__``, a ``uint8`` array
holding UTF-8 JSON, the chunk's identity record::

    {"format": 1, "spec_hash": "...", "group": g, "start": a, "stop": b,
     "arrays": {name: {"dtype": "<f8", "shape": [n, ...]}, ...}, "sha256": "..."}

``sha256`` is the SHA-256 of the record without its ``sha256`` entry (JSON with sorted keys
and no spaces, as :func:`_canonical` writes it), followed by the bytes of every array in
sorted name order (C order).  It covers the identity as well as the contents, so a file
of another chunk, of another sweep, or with any byte of its data changed fails the check.

Reading the record in plain NumPy::

    with np.load(path) as z:
        record = json.loads(z["__optsim_chunk__"].tobytes())
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

__all__ = ["HEADER", "FORMAT", "DamagedChunk", "encode", "spec_hash_of", "read_checked"]

#: the name of the identity record's member in the archive
HEADER = "__optsim_chunk__"
#: the version of the layout above
FORMAT = 1

_ZIP_MAGIC = b"PK\x03\x04"


class DamagedChunk(Exception):
    """A chunk file that must not be used; ``reason`` says why, in a few words."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _canonical(record):
    body = {k: v for k, v in record.items() if k != "sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _digest(record, arrays):
    h = hashlib.sha256(_canonical(record))
    for name in sorted(arrays):
        h.update(np.ascontiguousarray(arrays[name]).reshape(-1).view(np.uint8))
    return h.hexdigest()


def _describe(arr):
    return {"dtype": arr.dtype.str, "shape": [int(n) for n in arr.shape]}


def encode(spec_hash, gi, start, stop, part):
    """The arrays to pass to ``np.savez``: ``part`` and its identity record."""
    arrays = {name: np.asarray(a) for name, a in part.items()}
    record = {
        "format": FORMAT, "spec_hash": str(spec_hash), "group": int(gi), "start": int(start),
        "stop": int(stop), "arrays": {name: _describe(a) for name, a in arrays.items()},
    }
    record["sha256"] = _digest(record, arrays)
    text = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    return {**arrays, HEADER: np.frombuffer(text, dtype=np.uint8)}


def _open(path):
    """The open NpzFile of ``path``, or DamagedChunk saying why it is not one."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(_ZIP_MAGIC))
    except OSError as exc:
        raise DamagedChunk(f"unreadable ({type(exc).__name__}: {exc.strerror or exc})") from None
    if not magic:
        raise DamagedChunk("empty file")
    if magic != _ZIP_MAGIC:
        raise DamagedChunk("not an .npz archive (garbage bytes)")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:  # BadZipFile, EOFError, ValueError, OSError...: all mean damaged
        raise DamagedChunk(f"unreadable archive ({_one_line(exc)})") from None


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _record(z):
    if HEADER not in z.files:
        raise DamagedChunk(
            "no identity record (written by an optsim before chunk files were checked, or not by "
            "optsim): its contents cannot be verified")
    try:
        record = json.loads(z[HEADER].tobytes())
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except Exception as exc:
        raise DamagedChunk(f"identity record unreadable ({_one_line(exc)})") from None
    if record.get("format") != FORMAT:
        raise DamagedChunk(f"unknown chunk format {record.get('format')!r} (this optsim reads {FORMAT})")
    return record


def spec_hash_of(path):
    """The spec hash a chunk file says it was written for, or None when it cannot be read."""
    try:
        with _open(path) as z:
            h = _record(z).get("spec_hash")
    except Exception:
        return None
    return h if isinstance(h, str) else None


def read_checked(path, spec_hash, gi, start, stop, fields=None):
    """The arrays of the chunk file ``path``, after every check; DamagedChunk otherwise.

    Checks: a readable archive; its identity record; the spec hash and the trajectories
    (``gi``, ``start``, ``stop``) it was written for; with ``fields`` ({name: (shape,
    dtype)}), exactly those arrays with those shapes and dtypes; the checksum.
    """
    with _open(path) as z:
        record = _record(z)
        if record.get("spec_hash") != spec_hash:
            raise DamagedChunk(
                f"written for spec hash {record.get('spec_hash')}, not this sweep's {spec_hash}")
        ident = (record.get("group"), record.get("start"), record.get("stop"))
        if ident != (gi, start, stop):
            raise DamagedChunk(
                "holds trajectories {}_{}_{} (group_start_stop), not the ones its name says".format(*ident))
        names = set(z.files) - {HEADER}
        if fields is not None:
            _check_names(names, set(fields))
        listed = record.get("arrays")
        if not isinstance(listed, dict) or set(listed) != names:
            raise DamagedChunk("its arrays differ from those its identity record lists")
        for name in sorted(names):  # from the .npy headers, before anything is allocated
            dtype, shape = _peek(z, name)
            if fields is not None:
                want_shape, want_dtype = fields[name]
                if dtype != np.dtype(want_dtype):
                    raise DamagedChunk(f"array {name} has dtype {dtype}, expected {np.dtype(want_dtype)}")
                if shape != tuple(want_shape):
                    raise DamagedChunk(f"array {name} has shape {shape}, expected {tuple(want_shape)}")
            if listed[name] != {"dtype": dtype.str, "shape": list(shape)}:
                raise DamagedChunk(f"array {name} is {dtype.str} {list(shape)}, its record says {listed[name]}")
        try:
            arrays = {name: z[name] for name in sorted(names)}
        except Exception as exc:
            raise DamagedChunk(f"unreadable array ({_one_line(exc)})") from None
    if record.get("sha256") != _digest(record, arrays):
        raise DamagedChunk("checksum mismatch (its contents changed after it was written)")
    return arrays


def _peek(z, name):
    """(dtype, shape) of array ``name`` of the open NpzFile ``z``, from its .npy header alone."""
    from numpy.lib import format as npy

    members = z.zip.namelist()
    member = name + ".npy" if name + ".npy" in members else name
    try:
        with z.zip.open(member) as fh:
            version = npy.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = npy.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = npy.read_array_header_2_0(fh)
            else:
                raise ValueError(f".npy format version {version} is not one np.savez writes here")
    except Exception as exc:
        raise DamagedChunk(f"unreadable array {name} ({_one_line(exc)})") from None
    return np.dtype(dtype), tuple(int(n) for n in shape)


def _check_names(names, expected):
    missing, extra = sorted(expected - names), sorted(names - expected)
    if missing:
        raise DamagedChunk(f"missing array(s) {', '.join(missing)}")
    if extra:
        raise DamagedChunk(f"unexpected array(s) {', '.join(extra)}")
