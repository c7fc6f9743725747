"""Every registered component, tested the moment it is registered.

One table-free test per role: whatever ``optsim.registry`` lists is run with its defaults
on a few problems and must behave (finite results or flagged divergence, progress for some
learning rate, reproducible, rebuildable from its spec, documented).
"""

import numpy as np
import pytest

import optsim
from optsim import noise, optimizers, problems, registry
from optsim.engine import _driver
from optsim.engine.codegen import KERNEL_LOG

OPTIMIZERS = sorted(registry.components("optimizer"))
SCHEDULES = sorted(registry.components("schedule"))
PROBLEMS = sorted(registry.components("problem"))
NOISES = sorted(registry.components("noise"))
LRS = [1e-3, 1e-2, 1e-1, 0.5]


# Each optimizer is compiled for two structures only (a kernel takes ~5 s to compile):
# the quadratic without noise, which the oracle tests use too, and Rosenbrock with
# Gaussian noise (sigma = 0 for the progress check, 0.3 for reproducibility).
QUADRATIC = problems.Quadratic(curvatures=[1.0, 3.0], x0=[1.0, -1.0])
ROSENBROCK = problems.Rosenbrock()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_makes_progress_on_a_few_problems(name):
    opt = registry.get("optimizer", name)()
    if getattr(opt, "maximize", False):
        pytest.skip("maximizes")
    for label, prob, nz in (("quadratic", QUADRATIC, None), ("rosenbrock", ROSENBROCK, noise.Gaussian(sigma=0.0))):
        ds = optsim.sweep(prob, opt, noise=nz, grid={"lr": LRS}, steps=300, record_every=50)
        f0 = float(ds.loss.isel(step=0).values.ravel()[0])
        final = ds.final_loss.values.ravel()
        ok = ~ds.diverged.values.ravel()
        assert np.all(np.isfinite(final[ok])), f"{name} on {label}: non-finite loss without divergence flag"
        assert np.any(final[ok] < 0.5 * f0), f"{name} on {label}: no learning rate in {LRS} halves the loss"


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_is_reproducible_and_compiles_once(name):
    cls = registry.get("optimizer", name)
    prob = ROSENBROCK
    kw = dict(noise=noise.Gaussian(sigma=0.3), grid={"lr": [1e-4, 1e-3]}, replicates=3, steps=40,
              record=("loss", "params", "eff_lr", "state_norm"))
    a = optsim.sweep(prob, cls(), **kw)
    start = len(KERNEL_LOG)
    b = optsim.sweep(prob, cls(lr=0.05), threads=1, chunk_size=2, **kw)
    assert KERNEL_LOG[start:] == [], f"{name}: a second sweep with other values compiled or loaded code"
    np.testing.assert_array_equal(a.params.values, b.params.values)
    assert np.all(np.isfinite(a.eff_lr.isel(step=slice(1, None)).values) | a.diverged.values[..., None, None])
    assert len(_driver.run.signatures) == 1  # one compiled loop for every sweep


@pytest.mark.parametrize("role, name", [(r, n) for r in registry.ROLES for n in sorted(registry.components(r))])
def test_every_component_is_documented_and_rebuilds_from_its_spec(role, name):
    cls = registry.get(role, name)
    assert cls.__doc__ and len(cls.__doc__.strip()) > 40, f"{name}: the docstring should give the formula"
    for p in cls.params:
        assert p.doc, f"{name}.{p.name} has no description"
    if role == "optimizer":
        assert cls.params[0].name == "lr", f"{name}: the first parameter must be lr"
        assert cls.slot_names == () or len(cls.slot_names) == cls.slots
    try:
        comp = cls()
    except optsim.ParameterError:
        pytest.skip(f"{name} has required parameters")
    assert registry.build(role, comp.spec()) == comp


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_runs_with_sgd(name):
    sched = registry.get("schedule", name)()
    ds = optsim.sweep(problems.Quadratic(curvatures=[1.0, 3.0]), optimizers.SGD(lr=0.05, momentum=0.5),
                      schedule=sched, steps=60, record_every=1, record=("eff_lr",))
    lrs = ds.eff_lr.isel(step=slice(1, None)).values
    assert np.all(np.isfinite(lrs)) and np.all(lrs >= 0.0), f"{name}: learning rates {lrs.ravel()[:5]}..."


@pytest.mark.parametrize("name", PROBLEMS)
def test_every_problem_runs(name):
    prob = registry.get("problem", name)()
    ds = optsim.sweep(prob, optimizers.SGD(lr=1e-3), steps=20, record_every=10)
    assert np.isfinite(ds.loss.isel(step=0).values).all()
    assert not bool(ds.diverged.any())


@pytest.mark.parametrize("name", NOISES)
def test_every_noise_model_runs(name):
    model = registry.get("noise", name)()
    prob = problems.LinearRegression() if model.kind == "minibatch" else problems.Quadratic(curvatures=[1.0, 3.0])
    ds = optsim.sweep(prob, optimizers.SGD(lr=1e-2), noise=model, replicates=2, steps=20, record_every=10)
    assert np.isfinite(ds.loss.values).all()


def _defined_components():
    """(role, module, class) of every class with a ``name`` defined in a module of a role's
    subpackage and deriving from the role's base class."""
    import importlib
    import inspect
    import pkgutil

    from optsim import _roles

    bases = {"optimizer": _roles.Optimizer, "schedule": _roles.Schedule, "problem": _roles.Problem,
             "noise": _roles.Noise}
    out = []
    for role, base in bases.items():
        pkg = registry._module(role)
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            mod = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(mod, inspect.isclass):
                if (cls.__module__ == mod.__name__ and issubclass(cls, base) and cls is not base
                        and not cls.__name__.startswith("_") and cls.__dict__.get("name")):
                    out.append((role, mod.__name__, cls))
    return out


def test_every_component_is_exported_and_registered():
    defined = _defined_components()
    assert {role for role, _, _ in defined} == set(registry.ROLES)
    missing = []
    for role, module, cls in defined:
        pkg = registry._module(role)
        if cls.__name__ not in getattr(pkg, "__all__", ()) or getattr(pkg, cls.__name__, None) is not cls:
            missing.append(f"{module}.{cls.__name__} is not exported from {pkg.__name__} (__all__)")
        elif registry.components(role).get(cls.name) is not cls:
            missing.append(f"{module}.{cls.__name__} is not registered as {role} {cls.name!r}")
    assert not missing, "\n".join(missing)
