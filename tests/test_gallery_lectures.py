"""Smoke and claim tests of the lecture-gallery studies 000, 001, 003 and 004.

Each study runs once at scale "tiny" (once per test process, shared with the other tests); its verdict rows, figures and
animations are checked for form, and the deterministic claims are checked by value.
"""

import importlib

import numpy as np
import pytest
from study_cache import tiny_results

import optsim
from optsim.optimizers import SGD, Adagrad
from optsim.plotting import save_animation
from studies import lecture_000, lecture_001, lecture_003, lecture_004

STUDIES = [lecture_000, lecture_001, lecture_003, lecture_004]


@pytest.mark.parametrize("study", STUDIES, ids=lambda s: s.NAME)
def test_tiny_run_verdict_figures_and_animations(study, tmp_path):
    for attr in ("NAME", "TITLE", "QUESTION", "HYPOTHESIS"):
        assert isinstance(getattr(study, attr), str) and getattr(study, attr)
    assert set(study.SCALES) == {"tiny", "quick", "paper"}
    assert set(study.GALLERY) >= {"lecture", "title", "source", "file"}
    results = tiny_results(study)
    assert results and all(hasattr(ds, "data_vars") for ds in results.values())
    rows = study.verdict(results)
    assert rows
    for row in rows:
        assert set(row) >= {"claim", "source", "expected", "measured", "reproduced", "figure"}
        assert isinstance(row["reproduced"], bool)
        assert row["figure"] in study.FIGURES
        assert any(ch.isdigit() for ch in row["measured"])
    assert {row["figure"] for row in rows} == set(study.FIGURES)  # every figure checks a claim
    for name in study.FIGURES:
        mod = importlib.import_module(f"figures.{name}")
        assert mod.NAME == name and mod.STUDY == study.NAME and mod.__doc__
        assert mod.LECTURE == study.GALLERY["lecture"] and mod.SLIDE and mod.CLAIM
        fig = mod.draw(results)
        assert fig.axes and all(ax.get_xlabel() for ax in fig.axes if ax.axison and ax.get_title())
        if hasattr(mod, "animate"):
            _, anim = mod.animate(results, frames=3)
            written = save_animation(anim, tmp_path / name, mp4=False)
            assert (tmp_path / f"{name}.gif") in written


def test_adam_worked_example_against_numpy():
    """Lecture 001: optsim's Adam equals a NumPy Adam step by step; the notes' sqrt(1 - beta1^t) gives
    alpha_hat_1 = 0.01, x_1 = 0.0316 (neither the correct 0.0316, 0.1 nor the printed 0.0158, 0.0499)."""
    ds = tiny_results(lecture_001)["adam"]
    adam = ds.sel(optimizer="adam").isel(replicate=0)
    x = adam["params"].isel(param=0).values
    x_np, m_np, v_np = lecture_001.adam_oracle(len(x) - 1)
    np.testing.assert_allclose(x[1:], x_np[1:], rtol=1e-12, atol=0)
    np.testing.assert_allclose(adam["state"].isel(slot=0, param=0).values[1:], m_np[1:], rtol=1e-12)
    np.testing.assert_allclose(adam["state"].sel(slot="v").isel(param=0).values[1:], v_np[1:], rtol=1e-12)
    assert x[1] == pytest.approx(0.1, rel=1e-9)
    assert m_np[1] == pytest.approx(-4.0, rel=1e-12) and v_np[1] == pytest.approx(1.6, rel=1e-12)
    x_wrong, ah_wrong = lecture_001.notes_recipe(3, sqrt_bias=True)
    assert ah_wrong[1] == pytest.approx(0.1 * np.sqrt(0.001) / np.sqrt(0.1), rel=1e-12) == pytest.approx(0.01)
    assert x_wrong[1] == pytest.approx(0.01 * 4 / np.sqrt(1.6 + 1e-8), rel=1e-12)
    x_right, ah_right = lecture_001.notes_recipe(3, sqrt_bias=False)
    assert ah_right[1] == pytest.approx(0.1 * np.sqrt(0.001) / 0.1, rel=1e-12)
    assert x_right[1] == pytest.approx(0.1, rel=1e-6)  # only eps (inside the square root) differs
    # the printed numbers: x_1 follows from the printed alpha_hat_1, which is half of Adam's
    p = lecture_001.PRINTED
    assert p["alpha_hat_1"] * 4 / np.sqrt(1.6) == pytest.approx(p["x_1"], abs=1e-4)
    assert p["alpha_hat_1"] / ah_right[1] == pytest.approx(0.5, abs=1e-3)


def test_momentum_is_discounted_sum():
    """Lecture 001: V_t = sum_i gamma^(t-i) eta g_i for a replayed gradient sequence."""
    rng = np.random.default_rng(5)
    g = rng.standard_normal((30, 2))
    gamma, eta = 0.9, 0.05
    theta = optsim.replay(SGD(lr=eta, momentum=gamma, momentum_form="lr_inside"), g)
    v = theta[:-1] - theta[1:]
    explicit = np.array([sum(gamma ** (k - i) * eta * g[i] for i in range(k + 1)) for k in range(len(g))])
    np.testing.assert_allclose(v, explicit, rtol=1e-12, atol=1e-15)


def test_lecture_rms_is_adagrad_with_inverse_sqrt_decay():
    """Lecture 004: eta^t/sigma^t with eta^t = eta/sqrt(t+1) is AdaGrad; the NumPy rule matches optsim."""
    pb = lecture_004.surface_problem()
    xs, _, _ = lecture_004.lecture_rms(pb, lambda t: 0.3 / np.sqrt(t + 1.0), 200)
    ds = optsim.sweep(problem=pb, noise=lecture_004.NOISE_FREE, optimizer=Adagrad(lr=0.3, eps=0.0), steps=200,
                      record_every=1, record=("params",))
    np.testing.assert_allclose(ds["params"].isel(replicate=0).transpose("step", "param").values, xs, rtol=0,
                               atol=1e-12)


def test_rms_bursts_when_the_steep_rate_passes_two():
    rms = tiny_results(lecture_004)["rms"]
    reach, found = lecture_004.bursts(rms["dist"].values)
    assert reach is not None and found
    stab = rms["stability"].sel(param="x1").values
    assert all(stab[onset] > 1.99 for onset, *_ in found)


def test_nag_lookahead_and_radam_rectification():
    """Lecture 003: NAG's look-ahead points are SGD(nesterov=True)'s iterates; r_t from the engine
    matches the closed form; the schedules have the stated shapes."""
    res = tiny_results(lecture_003)
    nag = res["nag"]
    np.testing.assert_allclose(nag["lookahead"].transpose("step", "param").values,
                               nag["params"].sel(optimizer="sgd nesterov").transpose("step", "param").values,
                               rtol=0, atol=1e-12)
    ra = res["radam"]
    ok = np.isfinite(ra["r_closed"].values)
    np.testing.assert_allclose(ra["r_engine"].values[ok], ra["r_closed"].values[ok], rtol=1e-9)
    assert list(ra["t"].values[~ok]) == [1, 2, 3, 4]  # rho_t <= 4: momentum-SGD steps
    rho_inf, rho_t = lecture_003.rho(np.array([5.0, 1e7]))
    assert rho_inf == pytest.approx(1999.0) and rho_t[0] > 4 and rho_t[1] == pytest.approx(rho_inf)
    mem = res["memory"]
    share = mem["v_excess"].sel(spike=100.0, t=lecture_003.SPIKE_AT + 1000)
    assert float(share) == pytest.approx(0.999**1000, rel=1e-9)


def test_adam_factors_multiply_to_the_update():
    """Lecture 000: eta A_t C M_t is Adam's update (eps aside), A_1 C = 1."""
    ad = tiny_results(lecture_000)["adam"]
    np.testing.assert_allclose(ad["product"].values, ad["update"].values, rtol=1e-6)
    assert float(ad["adaptive_lr"].sel(t=1)) * ad.attrs["constant"] == pytest.approx(1.0, rel=1e-12)
