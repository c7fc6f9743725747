"""NumPy, vectorized over all trajectories of a rule at once.

Arrays are ``(trajectories, d)``; buffers are allocated once and updated in place
(``out=``); normals come from one ``numpy.random.Generator`` (PCG64) per call.  For W3 the
eight rules run one after the other, each over all its learning rates and replicates.

W5 (the MLP): the parameters of all trajectories are one ``(trajectories, P)`` array whose
row views are the weight matrices; every step gathers each trajectory's minibatch
(``X[idx]``, ``(trajectories, batch, 64)``) and runs the forward and backward passes as
batched ``np.matmul`` products over the trajectory axis (one BLAS call per trajectory and
product).  The records (full training loss, test loss and accuracy) are evaluated on
chunks of trajectories, so the memory stays O(trajectories x (parameters + batch x
width)) plus a chunk's activations.
"""

from __future__ import annotations

import math

import numpy as np

from .workloads import HYPER, MLP_METRICS

NAME = "numpy"
LABEL = "NumPy vectorized"


def unavailable():
    return None


def threads():
    return 1


class Rule:
    """One update rule (PyTorch's form) over arrays of shape ``shape``, in place.

    ``lr`` broadcasts against ``shape`` (one learning rate per trajectory row).
    """

    def __init__(self, rule, shape, lr):
        self.rule = rule
        self.lr = lr
        self.tmp = np.empty(shape)
        nstate = {"sgd": 0, "momentum": 1, "nag": 1, "adagrad": 1, "rmsprop": 1,
                  "adam": 2, "amsgrad": 3, "radam": 2}[rule]
        self.s = [np.zeros(shape) for _ in range(nstate)]

    def step(self, x, g, t):
        """Apply step t (1-based) with gradient g to x."""
        H = HYPER
        tmp, lr = self.tmp, self.lr
        r = self.rule
        if r == "sgd":
            np.multiply(g, lr, out=tmp)
            x -= tmp
        elif r in ("momentum", "nag"):
            b = self.s[0]
            b *= H["momentum"]
            b += g
            if r == "nag":
                np.multiply(b, H["momentum"], out=tmp)
                tmp += g
            else:
                tmp[...] = b
            tmp *= lr
            x -= tmp
        elif r == "adagrad":
            s = self.s[0]
            np.multiply(g, g, out=tmp)
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += H["eps_adagrad"]
            np.divide(g, tmp, out=tmp)
            tmp *= lr
            x -= tmp
        elif r == "rmsprop":
            v = self.s[0]
            a = H["alpha"]
            v *= a
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - a
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += H["eps"]
            np.divide(g, tmp, out=tmp)
            tmp *= lr
            x -= tmp
        else:  # the Adam family
            b1, b2, eps = H["beta1"], H["beta2"], H["eps"]
            m, v = self.s[0], self.s[1]
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            bc1 = 1.0 - b1**t
            bc2 = 1.0 - b2**t
            if r == "radam":
                rho_inf = 2.0 / (1.0 - b2) - 1.0
                rho_t = rho_inf - 2.0 * t * b2**t / bc2
                if rho_t > 5.0:
                    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    np.sqrt(v, out=tmp)
                    tmp += eps
                    np.divide(m, tmp, out=tmp)
                    tmp *= rect * math.sqrt(bc2) / bc1
                else:
                    np.multiply(m, 1.0 / bc1, out=tmp)
            else:
                if r == "amsgrad":
                    vm = self.s[2]
                    np.maximum(vm, v, out=vm)
                    np.sqrt(vm, out=tmp)
                else:
                    np.sqrt(v, out=tmp)
                tmp *= 1.0 / math.sqrt(bc2)
                tmp += eps
                np.divide(m, tmp, out=tmp)
                tmp *= 1.0 / bc1
            tmp *= lr
            x -= tmp


def _run_gaussian(wl, rule, lrs, rng):
    """One rule, all its trajectories: quadratic or Rosenbrock with additive noise."""
    R = wl.replicates
    n = len(lrs) * R
    d = wl.d
    lr = np.repeat(np.asarray(lrs, dtype=float), R)[:, None]
    x = np.tile(wl.x0, (n, 1))
    g = np.empty((n, d))
    tmp = np.empty((n, d))
    res = np.empty(n)
    t1 = np.empty(n)
    noise_scale = (wl.sigma * wl.scale)[None, :]
    sig = float(noise_scale.flat[0])
    uniform_noise = bool(np.all(noise_scale == sig))
    upd = Rule(rule, (n, d), lr)
    rec = wl.record_steps
    out = np.empty((n, len(rec)))
    quadratic = wl.problem == "quadratic"
    h = wl.h[None, :] if quadratic else None
    a, b = wl.rosen
    u, w = x[:, 0], x[:, 1]
    j = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(wl.steps + 1):
            if j < len(rec) and rec[j] == t:  # record the loss
                if quadratic:
                    np.multiply(x, x, out=tmp)
                    tmp *= h
                    tmp.sum(axis=1, out=out[:, j])
                    out[:, j] *= 0.5
                else:
                    np.multiply(u, u, out=res)
                    np.subtract(w, res, out=res)
                    np.multiply(res, res, out=t1)
                    t1 *= b
                    np.subtract(a, u, out=res)
                    res *= res
                    np.add(res, t1, out=out[:, j])
                j += 1
            if t == wl.steps:
                break
            # the observed gradient: noise first, then the exact gradient added in place
            rng.standard_normal(out=g)
            if not uniform_noise:
                g *= noise_scale
            elif sig != 1.0:
                g *= sig
            if quadratic:
                np.multiply(x, h, out=tmp)
                g += tmp
            else:
                np.multiply(u, u, out=res)
                np.subtract(w, res, out=res)          # r = y - x^2
                np.multiply(res, 2.0 * b, out=t1)
                g[:, 1] += t1                         # + 2 b r
                np.multiply(t1, u, out=t1)
                t1 *= -2.0
                g[:, 0] += t1                         # - 4 b x r
                np.subtract(u, a, out=t1)
                t1 *= 2.0
                g[:, 0] += t1                         # - 2 (a - x)
            upd.step(x, g, t + 1)
    return out.reshape(len(lrs), R, len(rec))


def _logreg_loss(wl, W):
    """Mean logistic loss of every row of W (n_traj, d)."""
    z = W @ wl.X.T
    z *= -wl.y[None, :]
    return np.logaddexp(0.0, z).mean(axis=1)


def _run_logreg(wl, rule, lrs, rng):
    R = wl.replicates
    n_traj = len(lrs) * R
    n, d = wl.X.shape
    B = wl.batch
    X, y = wl.X, wl.y
    lr = np.repeat(np.asarray(lrs, dtype=float), R)[:, None]
    W = np.tile(wl.x0, (n_traj, 1))
    g = np.empty((n_traj, d))
    upd = Rule(rule, (n_traj, d), lr)
    out = np.empty((n_traj, 2))
    out[:, 0] = _logreg_loss(wl, W)
    perm = np.tile(np.arange(n), (n_traj, 1))
    t = 0
    for _ in range(wl.epochs):
        perm = rng.permuted(perm, axis=1)  # an independent uniform order per trajectory
        for pos in range(0, n, B):
            idx = perm[:, pos:pos + B]                    # (n_traj, nb)
            Xb = X[idx]                                   # (n_traj, nb, d)
            yb = y[idx]
            m = np.einsum("tbd,td->tb", Xb, W)
            m *= yb
            # d/dw log(1 + exp(-y x.w)) = -y sigmoid(-y x.w) x
            c = -yb * 0.5 * (1.0 + np.tanh(-0.5 * m))
            np.einsum("tb,tbd->td", c, Xb, out=g)
            g *= 1.0 / idx.shape[1]
            t += 1
            upd.step(W, g, t)
    out[:, 1] = _logreg_loss(wl, W)
    return out.reshape(len(lrs), R, 2)


def mlp_views(x, wl):
    """Views W1 (T, H, D), b1 (T, H), W2 (T, C, H), b2 (T, C) into flat parameters x (T, P)."""
    T = x.shape[0]
    out, k = [], 0
    for shape in wl.layer_shapes:
        size = int(np.prod(shape))
        out.append(x[:, k:k + size].reshape((T, *shape)))
        k += size
    return out


def mlp_init(wl, n_traj, rng):
    """Glorot-normal weights N(0, 2 / (fan_in + fan_out)), zero biases: (T, P)."""
    x = np.zeros((n_traj, wl.d))
    for v, shape in zip(mlp_views(x, wl), wl.layer_shapes):
        if len(shape) == 2:
            fan_out, fan_in = shape
            v[...] = rng.standard_normal(v.shape) * math.sqrt(2.0 / (fan_in + fan_out))
    return x


def mlp_metrics(wl, x, chunk=32):
    """(training loss, test loss, test accuracy) of every row of x (T, P), chunk by chunk.

    The first layer of a chunk of trajectories is one matrix product (examples x
    (chunk x width)); the second a batched product over the chunk.
    """
    T = x.shape[0]
    H = wl.hidden
    out = np.empty((3, T))
    for lo in range(0, T, chunk):
        W1, b1, W2, b2 = mlp_views(x[lo:lo + chunk], wl)
        c = W1.shape[0]
        for k, (X, y) in enumerate(((wl.X, wl.y), (wl.X_test, wl.y_test))):
            A = (X @ W1.reshape(c * H, -1).T).reshape(X.shape[0], c, H).transpose(1, 0, 2)  # (c, n, H)
            A = A + b1[:, None, :]
            np.tanh(A, out=A)
            L = np.matmul(A, W2.transpose(0, 2, 1))
            L += b2[:, None, :]
            mx = L.max(axis=2, keepdims=True)
            lse = np.log(np.exp(L - mx).sum(axis=2)) + mx[..., 0]
            picked = np.take_along_axis(L, np.broadcast_to(y[None, :, None], (c, len(y), 1)), axis=2)[..., 0]
            out[k, lo:lo + c] = (lse - picked).mean(axis=1)
            if k == 1:
                out[2, lo:lo + c] = (L.argmax(axis=2) == y[None, :]).mean(axis=1)
    return out


def mlp_grad(wl, x, g, Xb, yb):
    """g (T, P) <- the gradient of every trajectory's mean cross-entropy on its minibatch
    (Xb (T, nb, D), yb (T, nb)), by back-propagation with batched products."""
    T, nb = yb.shape
    W1, b1, W2, b2 = mlp_views(x, wl)
    gW1, gb1, gW2, gb2 = mlp_views(g, wl)
    A = np.matmul(Xb, W1.transpose(0, 2, 1))        # (T, nb, H)
    A += b1[:, None, :]
    np.tanh(A, out=A)
    P = np.matmul(A, W2.transpose(0, 2, 1))         # logits (T, nb, C)
    P += b2[:, None, :]
    P -= P.max(axis=2, keepdims=True)               # softmax, stably
    np.exp(P, out=P)
    P /= P.sum(axis=2, keepdims=True)
    P[np.arange(T)[:, None], np.arange(nb)[None, :], yb] -= 1.0
    P *= 1.0 / nb                                   # d(mean loss) / d logits
    np.matmul(P.transpose(0, 2, 1), A, out=gW2)
    P.sum(axis=1, out=gb2)
    dZ = np.matmul(P, W2)                           # (T, nb, H)
    A *= A
    np.subtract(1.0, A, out=A)
    dZ *= A                                         # tanh' = 1 - tanh^2
    np.matmul(dZ.transpose(0, 2, 1), Xb, out=gW1)
    dZ.sum(axis=1, out=gb1)


def _run_mlp(wl, rule, lrs, rng):
    """W5: Adam on the MLP, all trajectories in lockstep (epochs of per-trajectory orders)."""
    R = wl.replicates
    T = len(lrs) * R
    n = wl.X.shape[0]
    B = wl.batch
    X, y = wl.X, wl.y
    lr = np.repeat(np.asarray(lrs, dtype=float), R)[:, None]
    x = mlp_init(wl, T, rng)
    g = np.empty_like(x)
    upd = Rule(rule, x.shape, lr)
    rec = wl.record_steps
    out = np.empty((3, T, len(rec)))
    perm = np.tile(np.arange(n), (T, 1))
    pos = n
    j = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(wl.steps + 1):
            if j < len(rec) and rec[j] == t:
                out[:, :, j] = mlp_metrics(wl, x)
                j += 1
            if t == wl.steps:
                break
            if pos >= n:  # a new epoch: an independent uniform order per trajectory
                perm = rng.permuted(perm, axis=1)
                pos = 0
            idx = perm[:, pos:pos + B]                      # (T, nb)
            pos += idx.shape[1]
            mlp_grad(wl, x, g, X[idx], y[idx])
            upd.step(x, g, t + 1)
    out = {m: out[k].reshape(len(lrs), R, len(rec)) for k, m in enumerate(MLP_METRICS)}
    return out


def run(wl, seed=0):
    rng = np.random.default_rng(seed)
    if wl.problem == "mlp":
        parts = [_run_mlp(wl, rule, wl.lrs, rng) for rule in wl.rules]
        return {m: np.stack([p[m] for p in parts]) for m in MLP_METRICS}, {}
    parts = []
    for rule in wl.rules:
        if wl.problem == "logreg":
            parts.append(_run_logreg(wl, rule, wl.lrs, rng))
        else:
            parts.append(_run_gaussian(wl, rule, wl.lrs, rng))
    return np.stack(parts), {}


def warmup(wl):
    return {}
