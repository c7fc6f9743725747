"""Matrix-shaped parameters: Problem.param_shapes, the blocks a matrix rule's step gets, and
Muon against a NumPy oracle (open loop on a replayed gradient sequence, closed loop on
MatrixRegression); elementwise rules give the same numbers whatever shapes a problem declares."""

import numpy as np
import pytest

import optsim
from optsim import optimizers, problems
from optsim.problems.replay import Replay

STEPS = 50
NS = (3.4445, -4.7750, 2.0315)


# -- the oracle ----------------------------------------------------------------------------


def newton_schulz_ref(U, steps=5, coeffs=NS, eps=1e-7):
    """The quintic Newton-Schulz iteration of Muon's reference, in float64."""
    a, b, c = coeffs
    tr = U.shape[0] > U.shape[1]
    X = U.T if tr else U
    X = X / (np.linalg.norm(X) + eps)
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    return X.T if tr else X


def muon_ref(x0, grad, shapes, steps, lr, momentum=0.95, nesterov=True, ns_steps=5, eps=1e-7,
             weight_decay=0.0, adjust_lr="original", adamw_lr=None, betas=(0.9, 0.95), adamw_eps=1e-10,
             adamw_wd=0.0):
    """Trajectory x_0..x_steps of Muon with the AdamW fallback on vectors; ``grad(x, t)`` is
    the gradient seen by update t + 1."""
    x = np.array(x0, dtype=float)
    buf = np.zeros_like(x)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    out = [x.copy()]
    b1, b2 = betas
    alr = lr if adamw_lr is None else adamw_lr
    for t in range(1, steps + 1):
        g = grad(x, t - 1)
        off = 0
        for shape in shapes.values():
            n = int(np.prod(shape))
            sl = slice(off, off + n)
            if len(shape) == 2:
                r, c = shape
                buf[sl] = momentum * buf[sl] + g[sl]
                U = g[sl] + momentum * buf[sl] if nesterov else buf[sl].copy()
                O = newton_schulz_ref(U.reshape(r, c), ns_steps, eps=eps)
                scale = max(1.0, r / c) ** 0.5 if adjust_lr == "original" else 0.2 * max(r, c) ** 0.5
                x[sl] = x[sl] * (1.0 - lr * weight_decay) - lr * scale * O.ravel()
            else:
                m[sl] = b1 * m[sl] + (1 - b1) * g[sl]
                v[sl] = b2 * v[sl] + (1 - b2) * g[sl] ** 2
                mhat = m[sl] / (1 - b1 ** t)
                vhat = v[sl] / (1 - b2 ** t)
                x[sl] = x[sl] * (1.0 - alr * adamw_wd) - alr * mhat / (np.sqrt(vhat) + adamw_eps)
            off += n
        out.append(x.copy())
    return np.array(out)


# -- problems with declared shapes -----------------------------------------------------------

SHAPES = {"A": (2, 3), "B": (4, 2), "bias": (3,)}
D = 6 + 8 + 3


class ShapedReplay(Replay):
    """The replay problem with the parameter as a 2x3 and a 4x2 matrix and a bias vector."""

    def param_shapes(self):
        return dict(SHAPES)


class FlatMatrixRegression(problems.MatrixRegression):
    """MatrixRegression declaring one flat vector."""

    def param_shapes(self):
        return {"x": (self.dimension(),)}


def _params(ds):
    return ds.params.values.reshape(-1, ds.params.shape[-2], ds.params.shape[-1])


def _close(a, b, rtol=1e-12):
    scale = np.maximum(np.abs(b), 1e-300)
    err = np.max(np.abs(a - b) / np.maximum(scale, np.max(np.abs(b))))
    assert err <= rtol, f"relative error {err:.3g}"


# -- tests -------------------------------------------------------------------------------------


def test_param_blocks_and_names():
    p = problems.MatrixRegression(n_out=3, n_in=4)
    np.testing.assert_array_equal(p.param_blocks(), [[0, 3, 4], [12, 3, 0]])
    assert p.coord_names()[:2] == ["W[0,0]", "W[0,1]"] and p.coord_names()[-1] == "b[2]"
    assert problems.Quadratic(curvatures=[1.0, 2.0]).param_shapes() == {"x": (2,)}
    np.testing.assert_array_equal(problems.Quadratic(curvatures=[1.0, 2.0]).param_blocks(), [[0, 2, 0]])


@pytest.mark.parametrize("kw", [dict(), dict(nesterov=False, weight_decay=0.1, adjust_lr="match_rms_adamw",
                                             adamw_lr=0.01, adamw_weight_decay=0.05, momentum=0.9)])
def test_muon_open_loop_matches_the_oracle(kw):
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((STEPS, D))
    x0 = rng.standard_normal(D)
    prob = ShapedReplay(grads=grads, x0=x0)
    ds = optsim.sweep(prob, optimizers.Muon(lr=0.02, **kw), steps=STEPS, record_every=1, record=("params",))
    ref_kw = {k: v for k, v in kw.items() if k != "adamw_weight_decay"}
    ref = muon_ref(x0, lambda x, t: grads[t], SHAPES, STEPS, 0.02, adamw_wd=kw.get("adamw_weight_decay", 0.0),
                   **ref_kw)
    _close(_params(ds)[0], ref)


def test_muon_closed_loop_on_matrix_regression():
    prob = problems.MatrixRegression(n_out=3, n_in=5, n_train=40, l2=0.01)
    X, Y = prob.data()
    q, p = 3, 5

    def grad(x, t):
        W, b = x[:q * p].reshape(q, p), x[q * p:]
        R = X @ W.T + b - Y
        return np.concatenate([(R.T @ X / X.shape[0] + 0.01 * W).ravel(), R.mean(axis=0)])

    ds = optsim.sweep(prob, optimizers.Muon(lr=0.05), steps=STEPS, record_every=1, record=("params", "loss"))
    ref = muon_ref(np.zeros(prob.dimension()), grad, prob.param_shapes(), STEPS, 0.05)
    _close(_params(ds)[0], ref)
    loss = ds.loss.values.ravel()
    assert loss[-1] < 0.2 * loss[0]


def test_muon_on_vectors_only_is_adamw():
    prob = problems.Quadratic(curvatures=[1.0, 3.0, 0.5], x0=[1.0, -1.0, 2.0])
    kw = dict(steps=30, record_every=1, record=("params",))
    a = optsim.sweep(prob, optimizers.Muon(lr=0.1, adamw_betas=(0.9, 0.999), adamw_eps=1e-8,
                                           adamw_weight_decay=0.01), **kw)
    b = optsim.sweep(prob, optimizers.AdamW(lr=0.1, weight_decay=0.01), **kw)
    np.testing.assert_array_equal(a.params.values, b.params.values)


@pytest.mark.parametrize("opt", [optimizers.SGD(lr=0.05, momentum=0.9), optimizers.Adam(lr=0.05)])
def test_elementwise_rules_ignore_the_shapes(opt):
    kw = dict(steps=40, record_every=5, replicates=3, record=("params", "loss"),
              noise=optsim.noise.Gaussian(sigma=0.1))
    a = optsim.sweep(problems.MatrixRegression(), opt, **kw)
    b = optsim.sweep(FlatMatrixRegression(), opt, **kw)
    np.testing.assert_array_equal(a.params.values, b.params.values)
    np.testing.assert_array_equal(a.loss.values, b.loss.values)


@pytest.mark.parametrize("shapes, words", [
    ({"W": (3, 4)}, "hold 12 numbers, but the dimension is 15"),
    ({"W": (3, 4), "b": (0,)}, "positive integers"),
    ({"W": [3, 4], "b": (3,)}, "positive integers"),
    ({}, "non-empty dict"),
])
def test_bad_shapes_give_one_line_parameter_errors(shapes, words):
    prob = type("BadShapes", (problems.MatrixRegression,), {"param_shapes": lambda self: shapes})()
    with pytest.raises(optsim.ParameterError) as err:
        optsim.sweep(prob, optimizers.Muon(), steps=2)
    assert words in str(err.value) and "\n" not in str(err.value)
