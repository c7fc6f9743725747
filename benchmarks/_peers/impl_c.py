"""The C loop (``benchmarks/c/peers.c``), compiled at run time and called through ctypes.

``gcc -O3 -march=native -fopenmp -shared -fPIC``; the shared object goes to a new
temporary directory, so the compile time is this peer's "first call".  See the C file's
header for the kernels' design (OpenMP over blocks of trajectories, structure-of-arrays
blocks vectorized across trajectories, xoshiro256** streams seeded by splitmix64,
256-layer ziggurat normals).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from .workloads import HYPER, MLP_METRICS, RULES, PeerUnavailable

NAME = "c"
LABEL = "C loop (gcc -O3 -march=native, OpenMP)"
SOURCE = Path(__file__).resolve().parent.parent / "c" / "peers.c"
CFLAGS = ["-O3", "-march=native", "-fopenmp", "-shared", "-fPIC"]
BLOCK = 128  # trajectories advanced together (W1, W3)

_lib = None
_tmpdir = None


def unavailable():
    if shutil.which(os.environ.get("CC", "gcc")) is None:
        return "no C compiler (gcc) on PATH"
    if not SOURCE.exists():
        return f"{SOURCE} is missing"
    return None


def compile_library(directory=None):
    """Compile peers.c into ``directory`` (default: a new temporary one); returns (path, seconds)."""
    global _tmpdir
    if directory is None:
        _tmpdir = tempfile.TemporaryDirectory(prefix="bench-peers-c-")
        directory = _tmpdir.name
    out = Path(directory) / "peers.so"
    cmd = [os.environ.get("CC", "gcc"), *CFLAGS, "-o", str(out), str(SOURCE), "-lm"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["?"])[0]
        raise PeerUnavailable(f"{' '.join(cmd[:len(CFLAGS) + 1])} failed: {first}")
    return out, dt


def load(path):
    """Load the shared object and declare the entry points' signatures."""
    lib = ctypes.CDLL(str(path))
    P = ctypes.c_void_p
    i32, i64, u64, f64 = ctypes.c_int, ctypes.c_int64, ctypes.c_uint64, ctypes.c_double
    lib.run_blocks.argtypes = [i32, i32, P, i32, P, i32, P, P, f64, P, i64, P, i32, i32, u64, P]
    lib.run_coords.argtypes = [i32, i32, P, i32, P, P, P, f64, P, i64, P, i32, u64, P]
    lib.run_logreg.argtypes = [i32, i32, P, i32, i32, P, P, P, i32, i32, P, u64, P]
    lib.run_mlp.argtypes = [i32, i32, P, i32, i32, i32, i32, P, P, i32, P, P, i32, i64, P, i32, P, u64, P]
    lib.zig_sample_scalar.argtypes = [u64, i64, P]
    lib.zig_sample_lanes.argtypes = [u64, i32, i32, P]
    lib.set_mlp_tanh.argtypes = [i32]
    for f in (lib.run_blocks, lib.run_coords, lib.run_logreg, lib.run_mlp, lib.set_mlp_tanh, lib.omp_threads):
        f.restype = i32
    lib.zig_sample_scalar.restype = None
    lib.zig_sample_lanes.restype = None
    return lib


def library():
    global _lib
    if _lib is None:
        path, _ = compile_library()
        _lib = load(path)
    return _lib


def threads():
    return library().omp_threads()


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def _hyper():
    return np.array([HYPER["momentum"], HYPER["beta1"], HYPER["beta2"], HYPER["eps"],
                     HYPER["alpha"], HYPER["eps_adagrad"]])


def run(wl, seed=0, lib=None):
    lib = lib or library()
    hyper = _hyper()
    O, L, R, K = wl.shape
    rules = np.array([RULES.index(r) for r in wl.rules], dtype=np.int32)
    lr = np.ascontiguousarray(np.repeat(np.tile(np.asarray(wl.lrs, dtype=float), O), R))
    rec = np.ascontiguousarray(wl.record_steps, dtype=np.int64)
    loss = np.empty((O * L * R, K))
    seed = ctypes.c_uint64(int(seed) + 0x5EED)
    if wl.problem == "mlp":
        return _run_mlp(wl, lib, rules, lr, rec, hyper, seed), {}
    if wl.problem == "logreg":
        if O != 1:
            raise NotImplementedError("the C logistic-regression kernel runs one rule per call")
        X = np.ascontiguousarray(wl.X, dtype=float)
        y = np.ascontiguousarray(wl.y, dtype=float)
        x0 = np.ascontiguousarray(wl.x0, dtype=float)
        rc = lib.run_logreg(int(rules[0]), L * R, _ptr(lr), X.shape[0], X.shape[1], _ptr(X), _ptr(y),
                            _ptr(x0), wl.batch, wl.epochs, _ptr(hyper), seed, _ptr(loss))
    elif wl.d > 64:  # few trajectories of many coordinates (W2): vectorize across coordinates
        if O != 1:
            raise NotImplementedError("the C coordinate kernel runs one rule per call")
        h = np.ascontiguousarray(wl.h, dtype=float)
        scale = np.ascontiguousarray(wl.scale, dtype=float)
        x0 = np.ascontiguousarray(wl.x0, dtype=float)
        rc = lib.run_coords(int(rules[0]), L * R, _ptr(lr), wl.d, _ptr(h), _ptr(scale), _ptr(x0),
                            float(wl.sigma), _ptr(hyper), wl.steps, _ptr(rec), K, seed, _ptr(loss))
    else:  # many small trajectories (W1, W3): blocks of trajectories, vectorized across them
        if wl.problem == "quadratic":
            if not np.all(wl.scale == 1.0):
                raise NotImplementedError("the block kernel takes a scalar noise level")
            problem, pdat = 0, np.ascontiguousarray(wl.h, dtype=float)
        else:
            problem, pdat = 1, np.array(wl.rosen, dtype=float)
        x0 = np.ascontiguousarray(wl.x0, dtype=float)
        # keep every core busy when there are few trajectories (quick runs)
        per_core = -(-O * L * R // (4 * max(1, os.cpu_count() or 1)))
        block = int(min(BLOCK, max(8, -(-per_core // 8) * 8)))
        rc = lib.run_blocks(problem, O, _ptr(rules), L * R, _ptr(lr), wl.d, _ptr(pdat), _ptr(x0),
                            float(wl.sigma), _ptr(hyper), wl.steps, _ptr(rec), K, block, seed, _ptr(loss))
    if rc != 0:
        raise RuntimeError(f"C kernel returned {rc}")
    return loss.reshape(wl.shape), {}


def _run_mlp(wl, lib, rules, lr, rec, hyper, seed):
    """W5: {metric: (optimizers, lrs, replicates, records)}."""
    O, L, R, K = wl.shape
    if O != 1:
        raise NotImplementedError("the C MLP kernel runs one rule per call")
    X = np.ascontiguousarray(wl.X, dtype=float)
    y = np.ascontiguousarray(wl.y, dtype=np.int64)
    Xt = np.ascontiguousarray(wl.X_test, dtype=float)
    yt = np.ascontiguousarray(wl.y_test, dtype=np.int64)
    out = np.empty((len(MLP_METRICS), L * R, K))
    n, D = X.shape
    lib.set_mlp_tanh(int(wl.tanh == "portable"))
    rc = lib.run_mlp(int(rules[0]), L * R, _ptr(lr), n, D, wl.hidden, wl.classes, _ptr(X), _ptr(y), Xt.shape[0],
                     _ptr(Xt), _ptr(yt), wl.batch, wl.steps, _ptr(rec), K, _ptr(hyper), seed, _ptr(out))
    if rc != 0:
        raise RuntimeError(f"C kernel returned {rc}")
    return {m: out[k].reshape(wl.shape) for k, m in enumerate(MLP_METRICS)}


def warmup(wl):
    """Compile the library (once per process); the compile time is the first-call time."""
    global _lib
    if _lib is not None:
        return {}
    path, dt = compile_library()
    _lib = load(path)
    return {"first_call_s": dt, "first_call_what": "gcc compile"}
