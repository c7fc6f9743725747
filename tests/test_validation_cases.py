"""Bad input refused before any work: the reported cases, paths, files and the command line.

Each case is one line naming the parameter (exit status 2 on the command line), raised
before a kernel is compiled or a trajectory runs: the sweeps here would start computing
only after every check, and the command line checks its paths before it sweeps.
"""

import importlib
import math
import os
from unittest import mock

import numpy as np
import pytest

import optsim
from optsim import noise, optimizers, problems, schedules
from optsim.cli import main
from optsim.config import ConfigError, parse_config
from reference.schedules import exponential_lr, step_lr

sweep_module = importlib.import_module("optsim.sweep")

Q = problems.Quadratic(curvatures=[1.0, 2.0])

TINY = """
[problem]
name = "quadratic"
curvatures = [1.0, 10.0]

[optimizer]
name = "sgd"

[run]
steps = 20
"""


class _Ran(Exception):
    pass


def _ran(*args, **kwargs):
    raise _Ran


def _sweep(**kw):
    with mock.patch.object(sweep_module, "run_plan", _ran), mock.patch.object(sweep_module, "run_chunked", _ran):
        return optsim.sweep(Q, optimizers.Adam(), **{"steps": 10, **kw})


# -- the reported cases ------------------------------------------------------------------------

COMPONENT_CASES = [
    (lambda: optimizers.Adam(lr=math.inf), r"lr=inf is not allowed"),
    (lambda: noise.Gaussian(sigma=math.inf), r"sigma=inf is not allowed"),
    (lambda: problems.Quadratic(curvatures=[[1, 2], [3, 4]]), r"curvatures=.*2-D.*not a matrix.*rotation"),
    (lambda: problems.Quadratic(curvatures=[1 + 1j, 2]), r"curvatures=.*complex"),
    (lambda: problems.Quadratic(curvatures=[1.0, 2.0], x0=[1j, 1]), r"x0=.*complex"),
    (lambda: schedules.StepDecay(step_size=math.inf), r"step_size=inf"),
    (lambda: schedules.StepDecay(step_size=2.5), r"step_size=2.5"),
    (lambda: optimizers.Muon(ns_steps=2**40), r"ns_steps=.*\[0, 1000\]"),
    (lambda: optimizers.Adam(lr="0.1"), r"lr='0.1'.*\(got str\)"),
    (lambda: optimizers.Adam(lr=np.array([0.1, 0.2])), r"lr=.*got a 1-D array"),
    (lambda: optimizers.Adam(lr=10**400), r"lr=1000.*characters"),
    (lambda: optimizers.Adam(amsgrad="no"), r"amsgrad='no'.*True or False"),
    (lambda: optimizers.Adam(amsgrad=np.array([True, False])), r"amsgrad="),
    (lambda: optimizers.Adam(eps_mode=["sqrt_v"]), r"eps_mode="),
    (lambda: problems.Quadratic(dim=2.5, condition_number=10.0), r"dim=2.5"),
    (lambda: problems.Quadratic(dim=2**63, condition_number=10.0), r"dim=.*2\*\*63 - 1"),
    (lambda: problems.LinearRegression(noise=1e308).data(), None),  # refused by the plan below
    (lambda: optsim.replay(optimizers.SGD(), np.ones((3, 2)) * 1j), r"grads must hold real numbers.*complex"),
    (lambda: optsim.replay(optimizers.SGD(), [["a", "b"]]), r"grads must hold real numbers"),
    (lambda: optsim.replay(optimizers.SGD(), np.ones((3, 2)), x0=[1j, 0]), r"x0=.*complex"),
    (lambda: optsim.replay(optimizers.SGD(), np.ones((3, 2)), losses=[1j, 0, 0]), r"losses=.*complex"),
]


@pytest.mark.parametrize("make, match", [c for c in COMPONENT_CASES if c[1]], ids=lambda v: "")
def test_reported_component_inputs_are_refused(make, match):
    with pytest.raises(optsim.ParameterError, match=match) as err:
        make()
    assert "\n" not in str(err.value)


SWEEP_CASES = [
    (dict(thresholds=[-1.0]), r"thresholds=\[-1.0\].*never below 0.0"),
    (dict(thresholds=[math.nan]), r"thresholds=\[nan\]"),
    (dict(thresholds=["low"]), r"thresholds=\['low'\]"),
    (dict(thresholds=[[1.0], [2.0]]), r"thresholds=.*2-D"),
    (dict(quantiles=[1.5]), r"quantiles: levels in \[0, 1\], got \[1.5\]"),
    (dict(common_random_numbers="no"), r"common_random_numbers='no'.*True or False"),
    (dict(record_steps=[0, 2.5, 7.9]), r"record_steps=.*2.5 is not an integer"),
    (dict(x_bound="big"), r"x_bound='big'"),
    (dict(max_memory="1GB"), r"max_memory='1GB'"),
    (dict(max_memory=-1), r"max_memory=-1 is not allowed"),
    (dict(steps="100"), r"steps='100'"),
    (dict(replicates="4"), r"replicates='4'"),
    (dict(seed=1.5), r"seed=1.5"),
    (dict(diverge_factor=True), r"diverge_factor=True"),
    (dict(record=5), r"record=5"),
    (dict(reduce=5), r"reduce=5"),
    (dict(client=5), r"client=5"),
    (dict(client="local:0"), r"local:N"),
    (dict(progress="no"), r"progress='no'"),
    (dict(resume="yes", out_dir="d"), r"resume='yes'"),
    (dict(chunk_size=2**70), r"chunk_size=.*2\*\*63 - 1"),
    (dict(grid={"lr": ["a"]}), r"lr='a'"),
    (dict(grid={"lr": [math.inf]}), r"lr=inf"),
    (dict(grid={"beta1": [np.nan]}), r"beta1=nan"),
]


@pytest.mark.parametrize("kw, match", SWEEP_CASES, ids=lambda v: "")
def test_reported_sweep_inputs_are_refused_before_any_work(kw, match):
    with pytest.raises(optsim.ParameterError, match=match) as err:
        _sweep(**kw)
    assert "\n" not in str(err.value)


def test_data_that_overflow_are_refused():
    with pytest.raises(optsim.ParameterError, match=r"LinearRegression: its data overflow float64 .*noise=1e\+308"):
        optsim.sweep(problems.LinearRegression(noise=1e308), optimizers.SGD(), steps=2)


def test_thresholds_below_zero_stay_allowed_where_the_loss_can_be_negative():
    with pytest.raises(_Ran):
        with mock.patch.object(sweep_module, "run_plan", _ran):
            optsim.sweep(problems.DoubleWell(), optimizers.SGD(), steps=5, thresholds=[-0.5])


def test_resume_with_overwrite_conflicts(tmp_path):
    with pytest.raises(optsim.ParameterError, match="resume=True and overwrite=True conflict"):
        _sweep(out_dir=str(tmp_path / "s"), resume=True, overwrite=True)
    assert not (tmp_path / "s").exists()


# -- integers past what the compiled code holds -------------------------------------------------


def test_step_counts_past_2_53_mean_never_as_the_oracle_says():
    for s in (2**53, 2**62, 2**63, 2**64, 2**70):
        lrs = schedules.StepDecay(step_size=s, gamma=0.1).learning_rates(5, base_lr=1.0)
        np.testing.assert_array_equal(lrs, [step_lr(s, 0.1)(k, 1.0) for k in range(5)])
        np.testing.assert_array_equal(lrs, np.ones(5))
    ref = schedules.StepDecay(step_size=2, gamma=0.1).learning_rates(5, base_lr=1.0)
    np.testing.assert_allclose(ref, [step_lr(2, 0.1)(k, 1.0) for k in range(5)], rtol=0, atol=0)
    for b in (2**53, 2**70):
        lrs = schedules.Exponential(gamma=0.5, transition_begin=b).learning_rates(4, base_lr=1.0)
        np.testing.assert_array_equal(lrs, [exponential_lr(k, 1.0, 0.5, begin=b) for k in range(4)])


def test_step_counts_pack_exactly_up_to_2_53_and_as_never_beyond():
    for cls, name in [(schedules.ReduceOnPlateau, "patience"), (schedules.ReduceOnPlateau, "cooldown"),
                      (schedules.ReduceOnPlateau, "interval"), (schedules.Exponential, "transition_begin"),
                      (schedules.Polynomial, "transition_begin"), (schedules.StepDecay, "step_size"),
                      (problems.ReddiOnline, "period"), (optimizers.LaProp, "steps_before_using_centered")]:
        col = cls.dynamic_names().index(name)
        for v in (1, 2**53 - 1, 2**53):
            assert cls(**{name: v}).row()[col] == v
        for v in (2**53 + 1, 2**63, 2**70, 10**30):
            comp = cls(**{name: v})
            assert comp.values[name] == v  # the spec keeps what was given
            assert comp.row()[col] == 2**53
            np.testing.assert_array_equal(comp.row(), cls(**{name: 2**53}).row())


def test_other_dynamic_integers_are_bounded_by_2_53():
    with pytest.raises(optsim.ParameterError, match=r"batch_size=.*\[1, 2\*\*53\]"):
        noise.Minibatch(batch_size=2**53 + 1)
    assert noise.Minibatch(batch_size=2**53).row()[0] == 2**53


# -- paths, checked before computing ------------------------------------------------------------


@pytest.fixture
def afile(tmp_path):
    f = tmp_path / "afile"
    f.write_text("a regular file")
    return f


def test_out_dir_under_a_file_or_a_file_is_refused(afile):
    with pytest.raises(optsim.ParameterError, match=r"out_dir=.*afile is a file, so the directory cannot be created"):
        _sweep(out_dir=str(afile / "sub"))
    with pytest.raises(optsim.ParameterError, match=r"out_dir=.*is a file, not a directory"):
        _sweep(out_dir=str(afile))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_out_dir_in_a_read_only_directory_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(optsim.ParameterError, match="not writable"):
            _sweep(out_dir=str(ro / "store"))
        cfg = tmp_path / "t.toml"
        cfg.write_text(TINY)
        assert main(["sweep", str(cfg), "-o", str(ro / "x.nc"), "--no-figure"]) == 2
    finally:
        ro.chmod(0o700)


def _cli(args, capsys):
    rc = main(args)
    err = capsys.readouterr().err
    return rc, err


@pytest.fixture
def cfg(tmp_path):
    c = tmp_path / "tiny.toml"
    c.write_text(TINY)
    return c


def _no_sweep():
    return mock.patch.object(sweep_module, "run_plan", _ran)


def test_cli_output_paths_are_checked_before_the_sweep(cfg, tmp_path, afile, capsys):
    (tmp_path / "outdir").mkdir()
    cases = [
        (["-o", str(tmp_path / "outdir")], "is a directory"),
        (["-o", str(afile / "x.nc")], "afile is a file"),
        (["-o", str(tmp_path / "ok.nc"), "--figure", str(afile / "f.png")], "--figure"),
        (["-o", str(tmp_path / "ok.nc"), "--out-dir", str(afile / "store")], "out_dir"),
        (["-o", str(tmp_path / "ok.nc"), "--resume", "--overwrite"], "--resume and --overwrite conflict"),
    ]
    with _no_sweep():
        for extra, match in cases:
            rc, err = _cli(["sweep", str(cfg), *extra], capsys)
            assert rc == 2, extra
            assert match in err and err.count("\n") == 1, err
    assert not (tmp_path / "outdir.nc").exists() and not (tmp_path / "ok.nc").exists()


def test_cli_option_errors_are_one_line(cfg, capsys):
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(cfg), "--chunk-size", "many"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--chunk-size" in err and err.count("\n") == 1


# -- files that are not results, configurations that are not TOML --------------------------------


def test_load_and_plot_a_garbage_file_name_it(tmp_path, capsys):
    bad = tmp_path / "garbage.nc"
    bad.write_bytes(b"\x00not a netcdf file" * 10)
    with pytest.raises(optsim.OptsimError, match=r"garbage.nc is not a NetCDF/optsim results file"):
        optsim.load(bad)
    rc, err = _cli(["plot", str(bad)], capsys)
    assert rc == 2 and "garbage.nc is not a NetCDF/optsim results file" in err and err.count("\n") == 1
    with pytest.raises(optsim.OptsimError, match="is a directory"):
        optsim.load(tmp_path)


def test_plot_a_netcdf_file_without_a_sweep_spec_names_it(tmp_path, capsys):
    import xarray as xr

    other = tmp_path / "other.nc"
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(other, engine="h5netcdf")
    assert optsim.load(other)["a"].size == 3  # load reads any NetCDF (the studies save their own)
    rc, err = _cli(["plot", str(other)], capsys)
    assert rc == 2 and "other.nc is a NetCDF file but not an optsim results file" in err


def test_toml_duplicate_key_names_the_key_and_the_file(tmp_path, capsys):
    c = tmp_path / "dup.toml"
    c.write_text(TINY + "steps = 30\n")
    with pytest.raises(ConfigError, match=r"dup.toml: .*the key 'steps' in \[run\] is given twice \(lines 10 and 11\)"):
        optsim.config.load_config(c)
    rc, err = _cli(["sweep", str(c), "-o", str(tmp_path / "x.nc")], capsys)
    assert rc == 2 and "'steps'" in err and "dup.toml" in err
    with pytest.raises(ConfigError, match=r"the table \[run\] is given twice"):
        parse_config(TINY + "[run]\nseed = 1\n")


@pytest.mark.parametrize("line, match", [
    ('common_random_numbers = "no"', r"\[run\] common_random_numbers='no'"),
    ("thresholds = [-1.0]", r"\[run\] thresholds=\[-1.0\]"),
    ('x_bound = "big"', r"\[run\] x_bound='big'"),
    ('max_memory = "1GB"', r"\[run\] max_memory='1GB'"),
    ("max_memory = -1", r"\[run\] max_memory=-1"),
    ("quantiles = [1.5]", r"\[run\] quantiles: levels in \[0, 1\], got \[1.5\]"),
    ("record_steps = [0, 2.5]", r"\[run\] record_steps="),
])
def test_config_values_are_strict(line, match):
    with pytest.raises(ConfigError, match=match):
        parse_config(TINY + line + "\n")


def test_unreachable_dask_scheduler_fails_fast_in_one_line():
    pytest.importorskip("distributed")
    import time

    from optsim import distributed as dist

    with mock.patch.object(dist, "CONNECT_TIMEOUT", 1):
        t0 = time.perf_counter()
        with pytest.raises(optsim.OptsimError, match=r"client='tcp://127.0.0.1:9': no Dask scheduler could be "
                                                     r"reached there within 1 s") as err:
            dist.connect("tcp://127.0.0.1:9")
        assert time.perf_counter() - t0 < 10 and "\n" not in str(err.value)
