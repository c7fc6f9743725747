"""Gradient replay: fixed gradient sequences through any optimizer, against closed
forms, the NumPy oracles and torch stepped with the same gradients."""

import numpy as np
import pytest

import optsim
from optsim import optimizers, schedules
from optsim._components import ParameterError
from optsim.problems.replay import Replay
from optsim.replay import replay

from reference import rules as ref
from reference import schedules as rs
from reference.loops import run_open as oracle


def grads(T=60, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(T, d))


def assert_close(a, b, rtol=1e-12):
    num = np.linalg.norm(a - b, axis=-1)
    den = np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
    assert np.max(num / den) <= rtol, np.max(num / den)


def test_sgd_replay_is_a_cumulative_sum():
    G = grads()
    x0 = np.array([1.0, 2.0, -1.0, 0.5])
    xs = replay(optimizers.SGD(lr=0.05), G, x0=x0)
    assert xs.shape == (61, 4) and isinstance(xs, np.ndarray)
    assert_close(xs, np.vstack([x0, x0 - 0.05 * np.cumsum(G, axis=0)]), rtol=1e-14)
    # default start: zeros
    assert np.all(replay(optimizers.SGD(lr=0.05), G)[0] == 0.0)


@pytest.mark.parametrize("kw", [dict(lr=0.01, momentum=0.9), dict(lr=0.01, momentum=0.9, nesterov=True,
                                                                     weight_decay=0.1)])
def test_sgd_momentum_replay_matches_oracle(kw):
    G = grads()
    x0 = np.ones(4)
    assert_close(replay(optimizers.SGD(**kw), G, x0=x0), oracle(ref.SGDRef(**kw), G, x0, kw["lr"]))


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.02, beta1=0.8, beta2=0.99, amsgrad=True, weight_decay=0.1)])
def test_adam_replay_matches_oracle(kw):
    G = grads(80)
    x0 = np.ones(4)
    okw = dict(kw)
    if "beta1" in kw:
        kw = dict(kw)
        kw["betas"] = (kw.pop("beta1"), kw.pop("beta2"))
    xs = replay(optimizers.Adam(**kw), G, x0=x0)
    assert_close(xs, oracle(ref.AdamRef(order="torch", **okw), G, x0, kw["lr"]))


def test_replay_with_schedule_matches_oracle():
    G = grads(100)
    s = schedules.LinearWarmup(warmup_steps=10, after=schedules.CosineAnnealing(T_max=100))
    xs = replay(optimizers.Adam(lr=0.05), G, schedule=s)
    sched = lambda k, lr: lr * rs.linear_warmup_factor(k, 10) * rs.cosine_lr(k, 1.0, 100)  # noqa: E731
    assert_close(xs[1:], oracle(ref.AdamRef(lr=0.05, order="torch"), G, np.zeros(4), 0.05, sched)[1:])


def test_batch_of_sequences():
    G = np.stack([grads(seed=s) for s in range(3)])
    xs = replay(optimizers.Adam(lr=0.01), G, x0=np.ones(4))
    assert xs.shape == (3, 61, 4)
    for r in range(3):
        assert_close(xs[r], replay(optimizers.Adam(lr=0.01), G[r], x0=np.ones(4)), rtol=0)


def test_replay_problem_in_a_sweep_over_lr():
    G = grads(50, 2)
    lrs = [0.001, 0.01, 0.1]
    ds = optsim.sweep(Replay(grads=G), optimizers.SGD(momentum=0.9), grid={"lr": lrs}, steps=50,
                      record_every=1, record=("params", "loss"))
    for i, lr in enumerate(lrs):
        xs = ds["params"].isel(lr=i, replicate=0).values
        assert_close(xs[1:], oracle(ref.SGDRef(momentum=0.9), G, np.zeros(2), lr)[1:])
    assert np.all(ds["loss"].values == 0.0)


def test_adam_replay_matches_torch():
    torch = pytest.importorskip("torch")
    G = grads(200, 5, seed=3) * np.array([1e-3, 1.0, 10.0, 0.1, 3.0])
    x0 = np.linspace(-1, 1, 5)
    for kw, tkw in [
        (dict(lr=0.01), dict(lr=0.01)),
        (dict(lr=0.003, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, amsgrad=True),
         dict(lr=0.003, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, amsgrad=True)),
    ]:
        xs = replay(optimizers.Adam(**kw), G, x0=x0)
        p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
        opt = torch.optim.Adam([p], **tkw)
        out = [x0]
        for k in range(G.shape[0]):
            p.grad = torch.tensor(G[k], dtype=torch.float64)
            opt.step()
            out.append(p.detach().numpy().copy())
        assert_close(xs, np.array(out), rtol=1e-12)


def test_adam_cyclic_beta1_replay_matches_torch():
    """Cyclic momentum through Adam's beta1, as torch CyclicLR cycles ``betas[0]``."""
    torch = pytest.importorskip("torch")
    G = grads(150, 3, seed=5)
    x0 = np.array([0.5, -0.5, 1.0])
    s = schedules.Cyclic(max_lr=0.05, step_size_up=20, step_size_down=30, mode="triangular2")
    xs = replay(optimizers.Adam(lr=0.001), G, x0=x0, schedule=s)
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.001)
    sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.001, max_lr=0.05, step_size_up=20, step_size_down=30,
                                              mode="triangular2")
    out = [x0]
    for k in range(G.shape[0]):
        p.grad = torch.tensor(G[k], dtype=torch.float64)
        opt.step()
        sched.step()
        out.append(p.detach().numpy().copy())
    assert_close(xs, np.array(out), rtol=1e-12)


def test_replay_validation():
    with pytest.raises(ParameterError, match="grads"):
        replay(optimizers.SGD(), np.zeros((2, 3, 4, 5)))
    with pytest.raises(ParameterError, match="x0"):
        replay(optimizers.SGD(), np.zeros((5, 3)), x0=[1.0, 2.0])
    with pytest.raises(ParameterError, match="losses"):
        Replay(grads=np.zeros((5, 3)), losses=np.zeros(4))
    with pytest.raises(ParameterError, match="sequence"):
        Replay(grads=np.zeros((2, 5, 3)), sequence=2)
    p = Replay(grads=np.zeros((2, 5, 3)))
    assert p.sequences == 2 and p.n_updates() == 5 and p.dimension() == 3
    assert p.replace(sequence=1).data()[0].shape == (2, 5, 3)
