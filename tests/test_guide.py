"""docs/GUIDE.md's templates work as written: each is extracted, written to a module of its
own and imported; the optimizer is registered the way the guide says and run through the
registry-wide tests and against a NumPy oracle; the schedule, problem and noise model run
together in one sweep; the study runs at its tiny scale and the figure draws its results."""

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

import optsim
from optsim import optimizers, registry

import test_registry
from reference.loops import positions

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "GUIDE.md"


def templates():
    """{section title: the first python block under it}."""
    text = GUIDE.read_text()
    out = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title = section.splitlines()[0].strip()
        m = re.search(r"```python\n(.*?)```", section, flags=re.S)
        if m:
            out[title.split(" (")[0].lower()] = m.group(1)
    return out


def load(tmp_path, monkeypatch, module, source):
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(module)


def test_the_guide_has_a_template_per_role():
    assert set(templates()) >= {"optimizer", "schedule", "problem", "noise model", "study", "figure"}


def test_the_templates_import_only_public_optsim_modules():
    """A newcomer copies what the guide shows: no template reaches into a private module."""
    for title, source in templates().items():
        private = re.findall(r"(?:from|import) (optsim(?:\.\w+)*\._\w+)", source)
        assert not private, f"the {title} template imports {private}"


def test_the_public_random_streams_are_the_kernels_own():
    from optsim import _rng, rng

    for name in rng.__all__:
        assert getattr(rng, name) is getattr(_rng, name)
    s = rng.stream_state(3, replicate=1, stream=4)
    z = rng.normal(s)
    assert np.isfinite(z) and not np.array_equal(s, rng.stream_state(3, replicate=1, stream=4))


class SignumRef:
    """m_t = beta m_{t-1} + (1 - beta) g_t; x_t = x_{t-1} - lr sign(m_t)."""

    def __init__(self, beta=0.9):
        self.beta, self.m = beta, None

    def step(self, x, g, t, lr):
        self.m = (1 - self.beta) * g if self.m is None else self.beta * self.m + (1 - self.beta) * g
        return x - lr * np.sign(self.m)


def test_the_optimizer_template_registers_and_passes_the_registry_tests(tmp_path, monkeypatch):
    mod = load(tmp_path, monkeypatch, "guide_signum", templates()["optimizer"])
    cls = mod.Signum
    # registered as the guide says: exported from optsim.optimizers
    monkeypatch.setattr(optimizers, cls.__name__, cls, raising=False)
    monkeypatch.setattr(optimizers, "__all__", [*optimizers.__all__, cls.__name__])
    assert registry.get("optimizer", cls.name) is cls
    test_registry.test_every_optimizer_makes_progress_on_a_few_problems(cls.name)
    test_registry.test_every_optimizer_is_reproducible_and_compiles_once(cls.name)
    test_registry.test_every_component_is_documented_and_rebuilds_from_its_spec("optimizer", cls.name)
    # against the oracle, on a quadratic
    prob = optsim.problems.Quadratic(curvatures=[1.0, 10.0], x0=[1.0, -0.5])
    ds = optsim.sweep(prob, cls(lr=0.01, beta=0.8), steps=50, record_every=1, record=("params",))
    want = positions(SignumRef(0.8), lambda x: np.array([1.0, 10.0]) * x, [1.0, -0.5], 50, 0.01)
    np.testing.assert_allclose(ds.params.values[0], want, rtol=1e-13, atol=1e-15)


def test_the_schedule_problem_and_noise_templates_run(tmp_path, monkeypatch):
    t = templates()
    sched = load(tmp_path, monkeypatch, "guide_schedule", t["schedule"]).LinearDecay(decay_steps=20)
    prob = load(tmp_path, monkeypatch, "guide_problem", t["problem"]).Bowl(scale=2.0, dim=3)
    shift = load(tmp_path, monkeypatch, "guide_noise", t["noise model"]).Shift
    np.testing.assert_allclose(sched.learning_rates(25, 0.1), 0.1 * np.maximum(0.0, 1 - np.arange(25) / 20))
    # plain SGD with the decaying lr on the bowl: x_{k+1} = (1 - lr_k a) x_k, then a shared shift
    ds = optsim.sweep(prob, optimizers.SGD(lr=0.1), schedule=sched, noise=shift(sigma=0.0), steps=25,
                      record_every=1, record=("params",))
    want = np.cumprod(np.r_[1.0, 1 - 2.0 * 0.1 * np.maximum(0.0, 1 - np.arange(25) / 20)])
    np.testing.assert_allclose(ds.params.values[0, :, 0], want, rtol=1e-13)
    noisy = optsim.sweep(prob, optimizers.SGD(lr=0.1), schedule=sched, noise=shift(sigma=0.5), steps=25,
                         replicates=2, record_every=25, record=("params",))
    x = noisy.params.isel(step=-1).transpose("replicate", "param").values
    np.testing.assert_allclose(x - x[:, :1], 0.0, atol=1e-12)  # one shift for every coordinate
    assert not np.allclose(x[0], x[1]) and not np.allclose(x[0], want[-1])  # drawn per replicate


@pytest.mark.filterwarnings("ignore")
def test_the_study_and_figure_templates_run(tmp_path, monkeypatch):
    t = templates()
    study = load(tmp_path, monkeypatch, "guide_study", t["study"])
    fig_mod = load(tmp_path, monkeypatch, "guide_figure", t["figure"])
    results = study.run("tiny")
    (row,) = study.verdict(results)
    assert isinstance(row["reproduced"], bool) and row["figure"] in study.FIGURES
    assert fig_mod.STUDY == study.NAME and fig_mod.NAME in study.FIGURES
    fig = fig_mod.draw(results)
    assert fig.axes and fig.axes[0].get_xlabel()
