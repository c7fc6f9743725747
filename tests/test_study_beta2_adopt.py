"""ADOPT, Yogi and AdEMAMix in the beta2_memory study (Reddi et al.'s problems and the beta2 x period
phase diagram): the tiny run's verdict and figures, a plain-NumPy oracle of ADOPT on the online
problem, and the headline claims on horizons longer than the tiny scale's."""

import importlib

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats
from study_cache import README_VERDICTS_LONGER, assert_readme_verdicts, tiny_results

import optsim
from optsim.problems import ReddiOnline
from optsim.schedules import InverseSqrtDecay
from studies import beta2_memory as b2m

LATER_CLAIMS = ("ADOPT (the paper's convergence-theorem form", "ADOPT's iterate goes to the optimum side",
                "ADOPT with its default clipping", "Yogi's additive second moment", "AdEMAMix's slow EMA")


def _row(rows, start):
    match = [r for r in rows if r["claim"].startswith(start)]
    assert len(match) == 1, start
    return match[0]


def test_tiny_run_has_the_later_rules_verdicts_and_figures():
    results = tiny_results(b2m)
    for key in ("reddi_online", "phase"):
        assert list(results[key].optimizer.values) == ["adam", "amsgrad", "adabound", *b2m.LATER]
    assert list(results["reddi_stochastic"].optimizer.values) == ["adam", "amsgrad", "adabound", "adopt",
                                                                    "adopt_noclip"]
    rows = b2m.verdict(results)
    assert_readme_verdicts("beta2_memory", rows)  # the earlier claims keep their verdicts
    for start in LATER_CLAIMS:
        row = _row(rows, start)
        assert isinstance(row["reproduced"], bool) and any(ch.isdigit() for ch in row["measured"])
    for name in ("beta2_memory_reddi", "beta2_memory_phase"):
        fig = importlib.import_module(f"figures.{name}").draw(results)
        labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()] \
            if name.endswith("reddi") else [ax.get_title() for ax in fig.axes]
        assert any("ADOPT (no clip)" in s for s in labels) and any("AdEMAMix" in s for s in labels)
        plt.close(fig)


def _adopt_oracle(steps, lr, b1, b2, clip, period=101, large=1010.0, small=-10.0):
    """ADOPT (Taniguchi et al. 2024, Algorithm 1; clip (t - 1)^(1/4) as the authors' code) on the online
    problem, projected onto [-1, 1], lr_t = lr/sqrt(t), eps = 0, written from the paper."""
    x, m, v = 0.0, 0.0, 0.0
    xs = [x]
    for t in range(1, steps + 1):
        g = large if t % period == 1 else small
        if t == 1:
            v = g * g
        else:
            n = g / np.sqrt(v)
            if clip:
                c = (t - 1) ** 0.25
                n = min(max(n, -c), c)
            m = b1 * m + (1 - b1) * n
            x = min(max(x - lr / np.sqrt(t) * m, -1.0), 1.0)
            v = b2 * v + (1 - b2) * g * g
        xs.append(x)
    return np.array(xs)


def test_adopt_on_the_online_problem_matches_a_numpy_oracle():
    steps = 3000
    ds = optsim.sweep(ReddiOnline(), {k: b2m._later_methods(0.5)[k] for k in ("adopt", "adopt_noclip")},
                      schedule=InverseSqrtDecay(), steps=steps, record_every=1, record=("params",))
    for key, clip in (("adopt", True), ("adopt_noclip", False)):
        got = ds["params"].sel(optimizer=key).isel(replicate=0, param=0).values
        want = _adopt_oracle(steps, 0.5, 0.9, 0.99, clip)
        np.testing.assert_allclose(got, want[ds.step.values], rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def longer():
    """The reddi and phase parts on horizons long enough for the claims (a few seconds)."""
    res = dict(tiny_results(b2m))
    reddi = {"steps": 50_000, "stochastic_steps": 500_000, "replicates": 4, "record_every": 1000, "lr": 0.5}
    res.update(b2m._reddi(reddi))
    res["reddi_stochastic_later"] = b2m._reddi_stochastic_later(reddi)
    res["phase"] = b2m._phase({"beta2": [0.5, 0.999], "period": [5, 101], "steps": 100_000,
                               "record_every": 997, "lr": 0.5})
    return res


def test_adopt_converges_where_adam_fails(longer):
    rows = b2m.verdict(longer)
    tail = longer["phase"]["x_tail_mean"]
    # Adam fails in some cells; unclipped ADOPT is on the optimum side in every one
    assert bool((tail.sel(optimizer="adam") > 0).any())
    assert _row(rows, "ADOPT's iterate goes to the optimum side")["reproduced"] is True
    assert float(tail.sel(optimizer="adopt_noclip").max()) < 0
    x_on = longer["reddi_online"]["x"].isel(step=-1, replicate=0)
    assert float(x_on.sel(optimizer="adopt_noclip")) < -0.98 and float(x_on.sel(optimizer="adam")) > 0.98
    x_st = longer["reddi_stochastic"]["x"].isel(step=-1)
    se = x_st.std("replicate", ddof=1) / np.sqrt(x_st.sizes["replicate"])
    mean = x_st.mean("replicate")
    # mean +- 2 SE over the seeds: ADOPT on the optimum side, Adam at the worst point
    assert float((mean + 2 * se).sel(optimizer="adopt_noclip")) < 0
    assert float((mean - 2 * se).sel(optimizer="adam")) > 0.9


def test_adopt_clip_fails_for_the_rarest_gradients_and_ademamix_like_adam(longer):
    rows = b2m.verdict(longer)
    tail = longer["phase"]["x_tail_mean"]
    # clip (t - 1)^(1/4) ~ 18 at 1e5 steps against C/sqrt(v) ~ P = 101 with beta2 = 0.5: clipped ADOPT
    # goes to +1 where the unclipped form reaches the optimum
    assert float(tail.sel(optimizer="adopt", beta2=0.5, period=101)) > 0.9
    assert float(tail.sel(optimizer="adopt_noclip", beta2=0.5, period=101)) < -0.9
    assert _row(rows, "ADOPT with its default clipping")["reproduced"] is False
    # AdEMAMix's slow first-moment EMA does not stop the second moment from forgetting at the Reddi setting
    x_on = longer["reddi_online"]["x"].isel(step=-1, replicate=0)
    assert float(x_on.sel(optimizer="ademamix")) > 0.98
    assert float(tail.sel(optimizer="ademamix", beta2=0.5, period=101)) > 0.9
    # Yogi stays on the optimum side at the Reddi setting
    assert float(x_on.sel(optimizer="yogi")) < 0


def test_readme_later_verdicts_on_longer_horizons(longer):
    """README's verdicts on ADOPT (both forms) and on Yogi's stochastic run hold on these horizons."""
    rows = b2m.verdict(longer)
    assert_readme_verdicts("beta2_memory", rows, claims=README_VERDICTS_LONGER["beta2_memory"])


def test_stochastic_later_runs_share_the_other_rules_draws():
    """Yogi and AdEMAMix on the stochastic problem run in their own sweep with the same seed: an
    Adam run in that sweep's form reproduces ``reddi_stochastic``'s Adam exactly, and the verdict
    rows read its mean and SE."""
    p = {"steps": 2000, "stochastic_steps": 2000, "replicates": 3, "record_every": 100, "lr": 0.5}
    base = b2m._reddi(p)["reddi_stochastic"]
    ds = optsim.sweep(b2m.ReddiStochastic(), {"adam": b2m._methods(0.5)["adam"]}, schedule=InverseSqrtDecay(),
                      steps=2000, replicates=3, record_every=100, record=("params",), diverge_factor=np.inf, seed=0)
    np.testing.assert_array_equal(ds["params"].isel(param=0).sel(optimizer="adam").values,
                                  base["x"].sel(optimizer="adam").values)
    sl = b2m._reddi_stochastic_later(p)
    assert list(sl.optimizer.values) == list(b2m.STOCHASTIC_LATER)
    x = sl["x"].isel(step=-1).sel(optimizer="yogi").values
    rows = b2m._stochastic_later_rows(sl, {"adam": (0.0, 0.0)})
    se = np.std(x, ddof=1) / np.sqrt(x.size)
    assert f"Yogi x = {np.mean(x):.3f} +- {se:.3f}" in rows[0]["measured"]
    # judged: each seed's x over the last 10% of the recorded steps, the 99% t interval of their mean below 0
    xs = sl["x"].sel(optimizer="yogi").transpose("step", "replicate").values
    late = xs[-max(2, xs.shape[0] // 10):].mean(axis=0)
    half = stats.t.ppf(0.995, late.size - 1) * np.std(late, ddof=1) / np.sqrt(late.size)
    assert rows[0]["interval"] == pytest.approx([late.mean() - half, late.mean() + half], rel=1e-9)
    assert rows[0]["reproduced"] is bool(late.mean() + half < 0)
