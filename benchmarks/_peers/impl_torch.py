"""PyTorch (CPU, float64, ``torch.set_num_threads(2)``), two ways.

``torch`` (hand-written)
    Batched tensor operations over all trajectories of a rule, in place, noise from
    ``torch.randn`` with a seeded ``torch.Generator`` -- the NumPy peer's algorithm in
    torch.
``torch_optim`` (``torch.optim``)
    The library's optimizers: one optimizer per rule whose param groups are the learning
    rates, each group holding one ``(replicates, d)`` tensor; the gradient (exact +
    noise, or the minibatch gradient) is computed by hand for all groups at once and
    assigned to ``p.grad`` before ``optimizer.step()``.  Defaults (``foreach`` unset: the
    per-tensor loop on CPU).
"""

from __future__ import annotations

import math

import numpy as np

from .workloads import HYPER

THREADS = 2


def unavailable():
    try:
        import torch  # noqa: F401
    except ImportError:
        return "torch not installed"
    return None


def threads():
    return THREADS


def _torch():
    import torch

    torch.set_num_threads(THREADS)
    return torch


# -- the problems: loss and gradient on (..., d) tensors ---------------------------------------------


class Problem:
    """Loss and observed gradient of a Gaussian-noise workload for a (n, d) tensor x."""

    def __init__(self, wl, n, gen):
        torch = _torch()
        self.torch, self.wl, self.gen = torch, wl, gen
        self.n, self.d = n, wl.d
        self.tmp = torch.empty(n, wl.d, dtype=torch.float64)
        self.res = torch.empty(n, dtype=torch.float64)
        self.t1 = torch.empty(n, dtype=torch.float64)
        scale = wl.sigma * np.asarray(wl.scale, dtype=float)
        self.sig = float(scale[0])
        self.uniform = bool(np.all(scale == self.sig))
        self.scale = torch.as_tensor(scale)
        if wl.problem == "quadratic":
            self.h = torch.as_tensor(wl.h)

    def loss(self, x, out):
        torch = self.torch
        if self.wl.problem == "quadratic":
            torch.mul(x, x, out=self.tmp)
            self.tmp.mul_(self.h)
            torch.sum(self.tmp, dim=1, out=out)
            out.mul_(0.5)
        else:
            a, b = self.wl.rosen
            u, w = x[:, 0], x[:, 1]
            torch.mul(u, u, out=self.res)
            torch.sub(w, self.res, out=self.res)
            torch.mul(self.res, self.res, out=self.t1)
            self.t1.mul_(b)
            torch.neg(u, out=self.res).add_(a)
            self.res.mul_(self.res)
            torch.add(self.res, self.t1, out=out)

    def grad(self, x, g):
        """g <- grad f(x) + noise, in place."""
        torch = self.torch
        torch.randn(g.shape, generator=self.gen, dtype=torch.float64, out=g)
        if not self.uniform:
            g.mul_(self.scale)
        elif self.sig != 1.0:
            g.mul_(self.sig)
        if self.wl.problem == "quadratic":
            torch.mul(x, self.h, out=self.tmp)
            g.add_(self.tmp)
        else:
            a, b = self.wl.rosen
            u, w = x[:, 0], x[:, 1]
            torch.mul(u, u, out=self.res)
            torch.sub(w, self.res, out=self.res)          # r = y - x^2
            torch.mul(self.res, 2.0 * b, out=self.t1)
            g[:, 1].add_(self.t1)                         # + 2 b r
            self.t1.mul_(u).mul_(-2.0)
            g[:, 0].add_(self.t1)                         # - 4 b x r
            torch.sub(u, a, out=self.t1).mul_(2.0)
            g[:, 0].add_(self.t1)                         # - 2 (a - x)


def _logreg_tensors(wl):
    torch = _torch()
    return torch.as_tensor(wl.X), torch.as_tensor(wl.y)


def _logreg_loss(X, y, W):
    """Mean logistic loss of every row of W (n_traj, d)."""
    torch = _torch()
    z = (W @ X.T).mul_(-y)
    return torch.nn.functional.softplus(z).mean(dim=1)


def _logreg_grad(X, y, W, idx, g):
    """g <- minibatch gradient for every trajectory: rows idx (n_traj, nb) of X."""
    Xb = X[idx]                                     # (n_traj, nb, d)
    yb = y[idx]
    m = (Xb @ W.unsqueeze(-1)).squeeze(-1).mul_(yb)
    c = (-m).sigmoid_().mul_(yb).mul_(-1.0 / idx.shape[1])
    g.copy_((c.unsqueeze(1) @ Xb).squeeze(1))


# -- (a) hand-written batched updates --------------------------------------------------------------


class Rule:
    """One update rule (PyTorch's form) on (n, d) tensors, in place; lr is (n, 1)."""

    def __init__(self, rule, shape, lr):
        torch = _torch()
        self.torch, self.rule, self.lr = torch, rule, lr
        self.tmp = torch.empty(shape, dtype=torch.float64)
        nstate = {"sgd": 0, "momentum": 1, "nag": 1, "adagrad": 1, "rmsprop": 1,
                  "adam": 2, "amsgrad": 3, "radam": 2}[rule]
        self.s = [torch.zeros(shape, dtype=torch.float64) for _ in range(nstate)]

    def step(self, x, g, t):
        torch, H, tmp, lr, r = self.torch, HYPER, self.tmp, self.lr, self.rule
        if r == "sgd":
            torch.mul(g, lr, out=tmp)
        elif r in ("momentum", "nag"):
            b = self.s[0]
            b.mul_(H["momentum"]).add_(g)
            if r == "nag":
                torch.mul(b, H["momentum"], out=tmp).add_(g)
            else:
                tmp.copy_(b)
            tmp.mul_(lr)
        elif r == "adagrad":
            s = self.s[0]
            s.addcmul_(g, g)
            torch.sqrt(s, out=tmp).add_(H["eps_adagrad"])
            torch.div(g, tmp, out=tmp).mul_(lr)
        elif r == "rmsprop":
            v = self.s[0]
            v.mul_(H["alpha"]).addcmul_(g, g, value=1.0 - H["alpha"])
            torch.sqrt(v, out=tmp).add_(H["eps"])
            torch.div(g, tmp, out=tmp).mul_(lr)
        else:
            b1, b2, eps = H["beta1"], H["beta2"], H["eps"]
            m, v = self.s[0], self.s[1]
            m.mul_(b1).add_(g, alpha=1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
            if r == "radam":
                rho_inf = 2.0 / (1.0 - b2) - 1.0
                rho_t = rho_inf - 2.0 * t * b2**t / bc2
                if rho_t > 5.0:
                    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    torch.sqrt(v, out=tmp).add_(eps)
                    torch.div(m, tmp, out=tmp).mul_(rect * math.sqrt(bc2) / bc1)
                else:
                    torch.mul(m, 1.0 / bc1, out=tmp)
            else:
                if r == "amsgrad":
                    torch.maximum(self.s[2], v, out=self.s[2])
                    torch.sqrt(self.s[2], out=tmp)
                else:
                    torch.sqrt(v, out=tmp)
                tmp.mul_(1.0 / math.sqrt(bc2)).add_(eps)
                torch.div(m, tmp, out=tmp).mul_(1.0 / bc1)
            tmp.mul_(lr)
        x.sub_(tmp)


def _run_rule(wl, rule, gen, optim):
    """All trajectories of one rule: (lrs, replicates, records)."""
    torch = _torch()
    L, R, K = len(wl.lrs), wl.replicates, len(wl.record_steps)
    n = L * R
    lr_col = torch.as_tensor(np.repeat(np.asarray(wl.lrs, dtype=float), R)).unsqueeze(1)
    x = torch.as_tensor(np.tile(wl.x0, (n, 1))).contiguous()
    g = torch.empty(n, wl.d, dtype=torch.float64)
    if optim:
        params = [torch.nn.Parameter(x[l * R:(l + 1) * R].clone()) for l in range(L)]
        opt = make_torch_optimizer(rule, params, wl.lrs)
    else:
        upd = Rule(rule, (n, wl.d), lr_col)

    def step(t):
        if optim:
            for l, p in enumerate(params):
                p.grad = g[l * R:(l + 1) * R]
            opt.step()
            torch.cat([p.detach() for p in params], out=x)
        else:
            upd.step(x, g, t)

    with torch.no_grad():
        if wl.problem == "logreg":
            X, y = _logreg_tensors(wl)
            out = torch.empty(n, 2, dtype=torch.float64)
            out[:, 0] = _logreg_loss(X, y, x)
            nrows = X.shape[0]
            t = 0
            for _ in range(wl.epochs):
                perm = torch.argsort(torch.rand(n, nrows, generator=gen, dtype=torch.float64), dim=1)
                for pos in range(0, nrows, wl.batch):
                    _logreg_grad(X, y, x, perm[:, pos:pos + wl.batch], g)
                    t += 1
                    step(t)
            out[:, 1] = _logreg_loss(X, y, x)
        else:
            prob = Problem(wl, n, gen)
            rec = wl.record_steps
            out = torch.empty(n, K, dtype=torch.float64)
            col = torch.empty(n, dtype=torch.float64)
            j = 0
            for t in range(wl.steps + 1):
                if j < K and rec[j] == t:
                    prob.loss(x, col)
                    out[:, j] = col
                    j += 1
                if t == wl.steps:
                    break
                prob.grad(x, g)
                step(t + 1)
    return out.numpy().reshape(L, R, K)


# -- (b) torch.optim -------------------------------------------------------------------------------


def make_torch_optimizer(rule, params, lrs):
    """The torch.optim optimizer of ``rule``, one param group per learning rate."""
    torch = _torch()
    H = HYPER
    groups = [{"params": [p], "lr": float(lr)} for p, lr in zip(params, lrs)]
    if rule == "sgd":
        return torch.optim.SGD(groups, lr=1e-3)
    if rule == "momentum":
        return torch.optim.SGD(groups, lr=1e-3, momentum=H["momentum"])
    if rule == "nag":
        return torch.optim.SGD(groups, lr=1e-3, momentum=H["momentum"], nesterov=True)
    if rule == "adagrad":
        return torch.optim.Adagrad(groups, lr=1e-3, eps=H["eps_adagrad"])
    if rule == "rmsprop":
        return torch.optim.RMSprop(groups, lr=1e-3, alpha=H["alpha"], eps=H["eps"])
    betas = (H["beta1"], H["beta2"])
    if rule == "adam":
        return torch.optim.Adam(groups, lr=1e-3, betas=betas, eps=H["eps"])
    if rule == "amsgrad":
        return torch.optim.Adam(groups, lr=1e-3, betas=betas, eps=H["eps"], amsgrad=True)
    if rule == "radam":
        return torch.optim.RAdam(groups, lr=1e-3, betas=betas, eps=H["eps"])
    raise ValueError(rule)


def run_impl(wl, seed, optim):
    torch = _torch()
    gen = torch.Generator().manual_seed(int(seed))
    return np.stack([_run_rule(wl, rule, gen, optim) for rule in wl.rules]), {}


def warmup_impl(wl, optim):
    """A small run of the same code paths (two lrs x two replicates, a few steps or one epoch)."""
    tiny = wl.subset(np.arange(min(2, len(wl.lrs))), 2)
    if wl.problem == "logreg":
        tiny.epochs = 1
    else:
        tiny.steps = min(wl.steps, 5)
        tiny.record_steps = np.array([0, tiny.steps], dtype=np.int64)
    run_impl(tiny, 0, optim)
    return {}
