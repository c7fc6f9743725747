"""Several processes on one out_dir: none removes another's temporary file, and whichever
writes a chunk last writes the same bytes."""

import os
import subprocess
import sys
import textwrap
import time

import pytest
import xarray as xr

import optsim
from optsim import store as store_mod
from optsim.store import ChunkStore

KWARGS = """
import optsim
def kwargs():
    return dict(problem=optsim.problems.Quadratic(curvatures=[1.0, 10.0], x0=[1.0, 1.0]),
                optimizer={"adam": optsim.optimizers.Adam(), "sgd": optsim.optimizers.SGD()},
                noise=optsim.noise.Gaussian(sigma=0.5), grid={"lr": [0.01, 0.1]}, replicates=10,
                steps=30, record_every=10, record=("loss", "params"), thresholds=[0.5], seed=11,
                progress=False)
"""

# process A: writes its first chunk's temporary file, then waits (its write in flight) for "go"
HELD_WRITER = """
import os, time
import numpy as np
savez, held = np.savez, []
def savez_held(fh, **arrays):
    savez(fh, **arrays)
    if not held:
        held.append(1)
        fh.flush()
        open({ready!r}, "w").close()
        deadline = time.monotonic() + 120
        while not os.path.exists({go!r}) and time.monotonic() < deadline:
            time.sleep(0.01)
np.savez = savez_held
optsim.sweep(**kwargs(), out_dir={out!r}, chunk_size=5, threads=1)
print("finished")
"""


def _kwargs():
    namespace = {}
    exec(KWARGS, namespace)
    return namespace["kwargs"]()


def _same(a, b):
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert a.attrs["spec_hash"] == b.attrs["spec_hash"]


def _wait_for(path, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the writer never got to its first chunk"
        time.sleep(0.01)


def test_a_resume_keeps_the_temporary_file_another_process_is_writing(tmp_path):
    out, ready, go = tmp_path / "run", tmp_path / "ready", tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(KWARGS + textwrap.dedent(HELD_WRITER.format(ready=str(ready), go=str(go), out=str(out))))
    a = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ready, a)
        temps = list((out / "chunks").glob(f".*-{a.pid}-*.tmp"))
        assert len(temps) == 1, temps  # A's write in flight, named with its host and pid
        b = optsim.sweep(**_kwargs(), out_dir=out, chunk_size=5, resume=True)  # process B, meanwhile
        assert temps[0].exists()  # B neither removed nor touched A's temporary file
        go.touch()
        stdout, stderr = a.communicate(timeout=120)
    finally:
        go.touch()
        a.kill()
        a.wait()
    assert a.returncode == 0 and "finished" in stdout, stderr
    ref = optsim.sweep(**_kwargs())
    _same(ref, b)
    _same(ref, optsim.load(out / "result.nc"))
    chunks = sorted((out / "chunks").iterdir())
    assert [p.name for p in chunks if p.name.startswith(".")] == []  # each removed only its own
    # both processes wrote every chunk; whichever landed last, it is the same file
    clean = tmp_path / "clean"
    optsim.sweep(**_kwargs(), out_dir=clean, chunk_size=5)
    assert [p.name for p in chunks] == sorted(os.listdir(clean / "chunks"))
    for p in chunks:
        assert p.read_bytes() == (clean / "chunks" / p.name).read_bytes()


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_provably_stale_temporary_files_are_removed(tmp_path):
    run = tmp_path / "run"
    optsim.sweep(**_kwargs(), out_dir=run, chunk_size=10)
    h, dead, live, now = store_mod._HOST, _dead_pid(), os.getppid(), time.time()
    cases = {  # name: (age in seconds, removed?)
        f".0_0_10.npz.{h}-{dead}-abcd1234.tmp": (120, True),           # dead writer, a minute idle
        f".0_0_10.npz.{h}-{dead}-efgh5678.tmp": (5, False),            # dead, but just written
        f".0_0_10.npz.{h}-{live}-ijkl9012.tmp": (3600, False),         # its writer is alive
        f".0_0_10.npz.{h}-{os.getpid()}-mnop3456.tmp": (3600, False),  # this process's own
        ".0_0_10.npz.otherhost-1-qrst7890.tmp": (3600, False),         # another host: cannot tell
        ".0_0_10.npz.otherhost-1-uvwx1234.tmp": (2 * 86400, True),     # ... unless a day idle
        ".k2j4h5.npz.tmp": (3600, False),                              # no pid in its name
        ".a9b8c7.npz.tmp": (2 * 86400, True),
    }
    for name, (age, _) in cases.items():
        p = run / "chunks" / name
        p.write_bytes(b"partial")
        os.utime(p, (now - age, now - age))
    ChunkStore(run, None, optsim.load(run / "result.nc").attrs["spec_hash"], resume=True)
    for name, (_, removed) in cases.items():
        assert (run / "chunks" / name).exists() != removed, name


TOGETHER = """
import sys
optsim.sweep(**kwargs(), out_dir=sys.argv[1], chunk_size=int(sys.argv[2]), resume=True, threads=1)
print("finished")
"""


@pytest.mark.slow
def test_two_resumes_started_together_on_a_damaged_store(tmp_path):
    run = tmp_path / "run"
    ref = optsim.sweep(**_kwargs(), out_dir=run, chunk_size=5)
    chunks = run / "chunks"
    for name in ("0_0_5.npz", "1_10_15.npz"):
        (chunks / name).write_bytes(b"garbage")
    (chunks / "0_15_20.npz").unlink()
    script = tmp_path / "resume.py"
    script.write_text(KWARGS + TOGETHER)
    procs = [subprocess.Popen([sys.executable, str(script), str(run), size], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for size in ("5", "3")]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (stdout, stderr) in zip(procs, results):
        assert p.returncode == 0 and "finished" in stdout, stderr
    _same(ref, optsim.load(run / "result.nc"))
    _same(ref, optsim.sweep(**_kwargs(), out_dir=run, resume=True))
    for name in ("0_0_5.npz", "1_10_15.npz"):  # set aside, by whichever came first
        assert b"garbage" in [p.read_bytes() for p in chunks.glob(name + ".bad-*")]
    assert not [p for p in chunks.iterdir() if p.name.endswith(".tmp")]
