"""A damaged chunk store: every damaged chunk is reported in one line, set aside and
recomputed, and the resumed result is bit-identical to an undamaged run; a damaged spec is
recovered from the chunks or refused."""

import json
import logging
import shutil
import zipfile

import numpy as np
import pytest
import xarray as xr

import optsim
from optsim import _chunkfile
from optsim.engine.plan import Plan
from optsim.store import ChunkStore, DamagedChunkError, StoreError

GROUP_SIZE = 20  # 2 lrs x 10 replicates per optimizer
CHUNK = 5
TARGET = "0_5_10.npz"  # the chunk the damage is done to


def _kwargs(**over):
    kw = dict(
        problem=optsim.problems.Quadratic(curvatures=[1.0, 10.0], x0=[1.0, 1.0]),
        optimizer={"adam": optsim.optimizers.Adam(), "sgd": optsim.optimizers.SGD()},
        noise=optsim.noise.Gaussian(sigma=0.5),
        grid={"lr": [0.01, 0.1]}, replicates=10, steps=30, record_every=10,
        record=("loss", "params"), thresholds=[0.5], seed=11, progress=False,
    )
    kw.update(over)
    return kw


def _same(a, b):
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert a.attrs["spec_hash"] == b.attrs["spec_hash"]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """(in-memory result, a finished store of the same sweep)."""
    run = tmp_path_factory.mktemp("clean") / "run"
    ds = optsim.sweep(**_kwargs(), out_dir=run, chunk_size=CHUNK)
    ref = optsim.sweep(**_kwargs())
    _same(ref, ds)
    assert len(list((run / "chunks").iterdir())) == 2 * GROUP_SIZE // CHUNK
    return ref, run


@pytest.fixture
def count_runs(monkeypatch):
    calls = []
    original = Plan.run_range

    def run_range(self, gi, start, stop, out=None, threads=None):
        calls.append((gi, start, stop))
        return original(self, gi, start, stop, out=out, threads=threads)

    monkeypatch.setattr(Plan, "run_range", run_range)
    return calls


def _arrays(path):
    with np.load(path) as z:
        return {n: z[n] for n in z.files}


def _rewrite(path, change):
    """Re-save the chunk with ``change(arrays)`` applied: a valid zip whose identity record
    and checksum are those of the original."""
    arrays = _arrays(path)
    change(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


def _member_data(path, name):
    """(start, length) of the stored bytes of member ``name`` in the zip file."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    raw = path.read_bytes()
    off = info.header_offset
    n, m = int.from_bytes(raw[off + 26:off + 28], "little"), int.from_bytes(raw[off + 28:off + 30], "little")
    return off + 30 + n + m, info.compress_size


def _flip_data(path, _):
    start, size = _member_data(path, "loss.npy")
    _flip(path, start + size - 1)  # the last byte of the last loss value


def _flip_npy_header(path, _):
    start, _size = _member_data(path, "loss.npy")
    _flip(path, start + 12)  # inside the .npy header's "{'descr': ..." text


def _flip_zip_header(path, _):
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("loss.npy")
    _flip(path, info.header_offset + 31)  # the local header's copy of the member name


def _flip_record(path, _):
    start, size = _member_data(path, _chunkfile.HEADER + ".npy")
    _flip(path, start + size - 20)  # inside the identity record's JSON


def _truncate(path, _):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path, _):
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


def _empty(path, _):
    path.write_bytes(b"")


def _extra(path, _):
    _rewrite(path, lambda a: a.update(extra=np.zeros(3)))


def _missing(path, _):
    _rewrite(path, lambda a: a.pop("loss"))


def _shape(path, _):
    _rewrite(path, lambda a: a.update(loss=a["loss"][:-1]))


def _float32(path, _):
    _rewrite(path, lambda a: a.update(loss=a["loss"].astype(np.float32)))


def _altered(path, _):
    def change(a):
        loss = a["loss"].copy()
        loss.flat[-1] = np.nextafter(loss.flat[-1], np.inf)  # one ulp, a valid zip around it
        a["loss"] = loss
    _rewrite(path, change)


def _other_chunk(path, chunks):
    shutil.copyfile(chunks / "0_10_15.npz", path)  # same group, same shapes, other trajectories


def _other_group(path, chunks):
    shutil.copyfile(chunks / "1_5_10.npz", path)  # the same range of the other optimizer


def _foreign_hash(path, _):
    arrays = _arrays(path)
    arrays.pop(_chunkfile.HEADER)
    with open(path, "wb") as fh:  # a valid, self-consistent chunk file of another sweep
        np.savez(fh, **_chunkfile.encode("0123456789abcdef", 0, 5, 10, arrays))


def _legacy(path, _):
    _rewrite(path, lambda a: a.pop(_chunkfile.HEADER))  # as written before the record existed


def _directory(path, _):
    path.unlink()
    path.mkdir()


DAMAGE = {
    "truncated": (_truncate, "unreadable archive"),
    "garbage bytes": (_garbage, "garbage"),
    "empty": (_empty, "empty file"),
    "flipped byte in data": (_flip_data, "CRC"),
    "flipped byte in .npy header": (_flip_npy_header, "unreadable"),
    "flipped byte in zip header": (_flip_zip_header, "unreadable"),
    "flipped byte in identity record": (_flip_record, "unreadable"),
    "value altered, zip valid": (_altered, "checksum mismatch"),
    "extra array": (_extra, "unexpected array(s) extra"),
    "missing array": (_missing, "missing array(s) loss"),
    "wrong shape": (_shape, "array loss has shape"),
    "float32": (_float32, "array loss has dtype float32"),
    "another chunk copied over": (_other_chunk, "holds trajectories 0_10_15"),
    "other group copied over": (_other_group, "holds trajectories 1_5_10"),
    "wrong spec hash inside": (_foreign_hash, "written for spec hash 0123456789abcdef"),
    "legacy file without record": (_legacy, "no identity record"),
    "a directory in its place": (_directory, "unreadable"),
}


def _copy(clean, tmp_path):
    ref, run = clean
    dest = tmp_path / "run"
    shutil.copytree(run, dest)
    return ref, dest


def _reports(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "optsim.store"]


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_chunk_is_reported_set_aside_and_recomputed(kind, clean, tmp_path, count_runs, caplog):
    ref, run = _copy(clean, tmp_path)
    damage, reason = DAMAGE[kind]
    path = run / "chunks" / TARGET
    damage(path, run / "chunks")
    damaged = None if path.is_dir() else path.read_bytes()
    caplog.set_level(logging.WARNING, logger="optsim.store")
    ds = optsim.sweep(**_kwargs(), out_dir=run, chunk_size=CHUNK, resume=True)
    reports = _reports(caplog)
    assert len(reports) == 1 and "\n" not in reports[0], reports
    assert str(path) in reports[0] and reason in reports[0], reports[0]
    bad = path.with_name(TARGET + ".bad-1")
    assert bad.name in reports[0]
    assert bad.exists() and (damaged is None or bad.read_bytes() == damaged)  # set aside, not deleted
    assert count_runs == [(0, 5, 10)]  # only the damaged chunk is recomputed
    _same(ref, ds)
    _same(ref, optsim.load(run / "result.nc"))
    ChunkStore(run, None, ref.attrs["spec_hash"], resume=True).read(0, 5, 10)  # the new file checks out


def test_clean_resume_reports_and_computes_nothing(clean, tmp_path, count_runs, caplog):
    ref, run = _copy(clean, tmp_path)
    caplog.set_level(logging.WARNING, logger="optsim.store")
    _same(ref, optsim.sweep(**_kwargs(), out_dir=run, resume=True))
    assert count_runs == [] and _reports(caplog) == []


def test_two_damaged_chunks_and_a_second_damage_of_the_same_file(clean, tmp_path, count_runs, caplog):
    ref, run = _copy(clean, tmp_path)
    chunks = run / "chunks"
    _float32(chunks / TARGET, chunks)
    _empty(chunks / "1_15_20.npz", chunks)
    caplog.set_level(logging.WARNING, logger="optsim.store")
    _same(ref, optsim.sweep(**_kwargs(), out_dir=run, resume=True))
    assert len(_reports(caplog)) == 2 and sorted(count_runs) == [(0, 5, 10), (1, 15, 20)]
    _truncate(chunks / TARGET, chunks)  # damaged again: the first one set aside is kept
    _same(ref, optsim.sweep(**_kwargs(), out_dir=run, resume=True))
    assert (chunks / (TARGET + ".bad-1")).exists() and (chunks / (TARGET + ".bad-2")).exists()


def test_deleted_chunk_is_recomputed(clean, tmp_path, count_runs, caplog):
    ref, run = _copy(clean, tmp_path)
    (run / "chunks" / TARGET).unlink()
    caplog.set_level(logging.WARNING, logger="optsim.store")
    _same(ref, optsim.sweep(**_kwargs(), out_dir=run, chunk_size=CHUNK, resume=True))
    assert count_runs == [(0, 5, 10)] and _reports(caplog) == []


def test_stray_temporary_files_are_ignored(clean, tmp_path, count_runs, caplog):
    ref, run = _copy(clean, tmp_path)
    strays = [run / "chunks" / ".0_5_10.npz.otherhost-12345-abcdefgh.tmp", run / "chunks" / ".x7f3k.npz.tmp"]
    for p in strays:
        p.write_bytes(b"half a chunk")
    caplog.set_level(logging.WARNING, logger="optsim.store")
    _same(ref, optsim.sweep(**_kwargs(), out_dir=run, resume=True))
    assert count_runs == [] and _reports(caplog) == []
    assert all(p.exists() for p in strays)  # fresh: perhaps another process is writing them


def test_deleted_spec_is_recovered_from_the_chunks(clean, tmp_path, count_runs, caplog):
    ref, run = _copy(clean, tmp_path)
    spec_text = (run / "spec.json").read_text()
    (run / "spec.json").unlink()
    with pytest.raises(StoreError, match="resume=True"):  # still refused without resume
        optsim.sweep(**_kwargs(), out_dir=run)
    assert not (run / "spec.json").exists()
    caplog.set_level(logging.WARNING, logger="optsim.store")
    _same(ref, optsim.sweep(**_kwargs(), out_dir=run, resume=True))
    reports = _reports(caplog)
    assert len(reports) == 1 and str(run / "spec.json") in reports[0] and ref.attrs["spec_hash"] in reports[0]
    assert count_runs == [] and (run / "spec.json").read_text() == spec_text


def test_deleted_spec_and_chunks_of_another_sweep_are_refused(clean, tmp_path):
    ref, run = _copy(clean, tmp_path)
    (run / "spec.json").unlink()
    other = optsim.sweep(**_kwargs(seed=12)).attrs["spec_hash"]
    with pytest.raises(StoreError) as err:
        optsim.sweep(**_kwargs(seed=12), out_dir=run, resume=True)
    assert ref.attrs["spec_hash"] in str(err.value) and other in str(err.value)
    assert not (run / "spec.json").exists() and len(list((run / "chunks").iterdir())) == 8


def test_deleted_spec_and_only_unverifiable_chunks_are_refused(clean, tmp_path):
    _, run = _copy(clean, tmp_path)
    (run / "spec.json").unlink()
    for p in (run / "chunks").iterdir():
        _legacy(p, None)
    with pytest.raises(StoreError, match="not an optsim sweep directory"):
        optsim.sweep(**_kwargs(), out_dir=run, resume=True)


def test_garbage_spec_is_refused_naming_it_then_recovered(clean, tmp_path, count_runs):
    ref, run = _copy(clean, tmp_path)
    spec = run / "spec.json"
    spec.write_bytes(b"\x00garbage{")
    with pytest.raises(StoreError) as err:
        optsim.sweep(**_kwargs(), out_dir=run, resume=True)
    assert str(spec) in str(err.value) and "\n" not in str(err.value)
    assert spec.read_bytes() == b"\x00garbage{"  # left as it was
    spec.rename(run / "spec.json.garbage")  # as the message says: move it away and resume
    _same(ref, optsim.sweep(**_kwargs(), out_dir=run, resume=True))
    assert count_runs == []


def test_foreign_spec_hash_is_refused_naming_both(clean, tmp_path):
    ref, run = _copy(clean, tmp_path)
    other = optsim.sweep(**_kwargs(seed=12), out_dir=tmp_path / "other")
    shutil.copyfile(tmp_path / "other" / "spec.json", run / "spec.json")
    before = sorted(p.name for p in (run / "chunks").iterdir())
    with pytest.raises(StoreError) as err:
        optsim.sweep(**_kwargs(), out_dir=run, resume=True)
    assert ref.attrs["spec_hash"] in str(err.value) and other.attrs["spec_hash"] in str(err.value)
    assert sorted(p.name for p in (run / "chunks").iterdir()) == before


def test_reduced_chunks_are_checked_too(tmp_path, count_runs, caplog):
    kw = _kwargs(reduce="mean,quantiles")
    ref = optsim.sweep(**kw)
    run = tmp_path / "run"
    optsim.sweep(**kw, out_dir=run, chunk_size=10)
    chunks = run / "chunks"
    _rewrite(chunks / "0_0_10.npz", lambda a: a.update(loss_mean=a["loss_mean"].astype(np.float32)))
    shutil.copyfile(chunks / "1_10_20.npz", chunks / "1_0_10.npz")
    count_runs.clear()
    caplog.set_level(logging.WARNING, logger="optsim.store")
    _same(ref, optsim.sweep(**kw, out_dir=run, chunk_size=10, resume=True))
    reports = _reports(caplog)
    assert len(reports) == 2 and "dtype float32" in reports[0] and "holds trajectories 1_10_20" in reports[1]
    assert sorted(count_runs) == [(0, 0, 10), (1, 0, 10)]


def test_chunk_file_is_plain_numpy(clean):
    _, run = clean
    path = run / "chunks" / TARGET
    with np.load(path, allow_pickle=False) as z:
        record = json.loads(z[_chunkfile.HEADER].tobytes())
        arrays = {n: z[n] for n in z.files if n != _chunkfile.HEADER}
    assert (record["group"], record["start"], record["stop"]) == (0, 5, 10)
    assert record["arrays"]["loss"] == {"dtype": "<f8", "shape": list(arrays["loss"].shape)}
    import hashlib  # the checksum, recomputed as the format's description says

    body = {k: v for k, v in record.items() if k != "sha256"}
    h = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    assert h.hexdigest() == record["sha256"]


def test_read_raises_naming_file_and_reason(clean, tmp_path):
    ref, run = _copy(clean, tmp_path)
    _float32(run / "chunks" / TARGET, None)
    store = ChunkStore(run, None, ref.attrs["spec_hash"], resume=True)
    with pytest.raises(DamagedChunkError, match="its record says"):
        store.read(0, 5, 10)  # without the plan: the array differs from its identity record
    from optsim.sweep import build_plan

    plan, _ = build_plan(**{k: v for k, v in _kwargs().items() if k not in ("progress",)})
    with pytest.raises(DamagedChunkError, match=r"0_5_10\.npz: array loss has dtype float32"):
        store.read(0, 5, 10, plan)
