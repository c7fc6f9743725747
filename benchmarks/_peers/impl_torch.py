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

W5 (the MLP; see :func:`run_mlp`): ``torch`` computes the gradients of all trajectories with
batched products by hand (``torch.baddbmm``/``torch.bmm`` over the trajectory axis), which
was faster than ``torch.func.vmap(torch.func.grad(...))`` of ``functional_call`` on an
``nn.Sequential`` (both are here: ``GRADIENTS``); ``torch_optim`` takes the
``torch.func`` gradients and steps ``torch.optim.Adam`` with one param group per learning
rate.
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


# -- W5: the MLP ----------------------------------------------------------------------------------

GRADIENTS = "bmm"
"""How the ``torch`` peer computes W5's gradients: ``"bmm"`` (batched products by hand) or
``"func"`` (``torch.func.vmap`` of ``torch.func.grad`` of ``functional_call``)."""


def _mlp_views(x, wl):
    """Views W1 (T, H, D), b1 (T, H), W2 (T, C, H), b2 (T, C) into flat parameters x (T, P)."""
    out, k = [], 0
    for shape in wl.layer_shapes:
        size = int(np.prod(shape))
        out.append(x[:, k:k + size].view(x.shape[0], *shape))
        k += size
    return out


def _mlp_init(wl, T, gen):
    """Glorot-normal weights N(0, 2 / (fan_in + fan_out)), zero biases: flat (T, P)."""
    torch = _torch()
    x = torch.zeros(T, wl.d, dtype=torch.float64)
    for v, shape in zip(_mlp_views(x, wl), wl.layer_shapes):
        if len(shape) == 2:
            fan_out, fan_in = shape
            v.copy_(torch.randn(v.shape, generator=gen, dtype=torch.float64).mul_(math.sqrt(2.0 / (fan_in + fan_out))))
    return x


def _mlp_metrics(wl, tensors, x, chunk=32):
    """(training loss, test loss, test accuracy) of every row of x (T, P), chunk by chunk."""
    torch = _torch()
    X, y, Xt, yt = tensors
    T, H = x.shape[0], wl.hidden
    out = torch.empty(3, T, dtype=torch.float64)
    for lo in range(0, T, chunk):
        W1, b1, W2, b2 = _mlp_views(x[lo:lo + chunk], wl)
        c = W1.shape[0]
        for k, (Xs, ys) in enumerate(((X, y), (Xt, yt))):
            A = (Xs @ W1.reshape(c * H, -1).T).view(Xs.shape[0], c, H).transpose(0, 1)
            A = (A + b1.unsqueeze(1)).tanh_()
            logp = torch.baddbmm(b2.unsqueeze(1), A, W2.transpose(1, 2)).log_softmax(dim=2)
            out[k, lo:lo + c] = -logp.gather(2, ys.view(1, -1, 1).expand(c, -1, 1)).squeeze(2).mean(dim=1)
            if k == 1:
                out[2, lo:lo + c] = (logp.argmax(dim=2) == ys.unsqueeze(0)).double().mean(dim=1)
    return out


def _mlp_grad_bmm(wl, x, g, Xb, yb):
    """g <- the minibatch gradient of every trajectory (Xb (T, nb, D), yb (T, nb)), by hand."""
    torch = _torch()
    W1, b1, W2, b2 = _mlp_views(x, wl)
    gW1, gb1, gW2, gb2 = _mlp_views(g, wl)
    nb = Xb.shape[1]
    A = torch.baddbmm(b1.unsqueeze(1), Xb, W1.transpose(1, 2)).tanh_()      # (T, nb, H)
    P = torch.baddbmm(b2.unsqueeze(1), A, W2.transpose(1, 2)).softmax(dim=2)  # (T, nb, C)
    P.scatter_add_(2, yb.unsqueeze(2), torch.full(yb.shape + (1,), -1.0, dtype=torch.float64))
    P.mul_(1.0 / nb)                                                            # d mean loss / d logits
    gW2.copy_(torch.bmm(P.transpose(1, 2), A))
    torch.sum(P, dim=1, out=gb2) if gb2.is_contiguous() else gb2.copy_(P.sum(dim=1))
    dZ = torch.bmm(P, W2).mul_(A.mul_(A).neg_().add_(1.0))                     # tanh' = 1 - tanh^2
    gW1.copy_(torch.bmm(dZ.transpose(1, 2), Xb))
    gb1.copy_(dZ.sum(dim=1))


def _mlp_func(wl):
    """The gradient of a minibatch's mean cross-entropy by ``torch.func``, vmapped over
    trajectories: f(params {name: (T, ...)}, Xb, yb) -> grads."""
    torch = _torch()
    from torch.func import functional_call, grad, vmap

    D, H, C = wl.X.shape[1], wl.hidden, wl.classes
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, C)).double()

    def loss(p, Xb, yb):
        return torch.nn.functional.cross_entropy(functional_call(model, p, (Xb,)), yb)

    return vmap(grad(loss))


_NAMES = ("0.weight", "0.bias", "2.weight", "2.bias")  # nn.Sequential's names of W1, b1, W2, b2


def run_mlp(wl, rule, gen, optim, gradients=None):
    """All trajectories of one rule on W5: {metric: (lrs, replicates, records)}."""
    from .workloads import MLP_METRICS

    torch = _torch()
    gradients = "func" if optim else (gradients or GRADIENTS)
    L, R, K = len(wl.lrs), wl.replicates, len(wl.record_steps)
    T = L * R
    tensors = tuple(torch.as_tensor(a) for a in (wl.X, wl.y, wl.X_test, wl.y_test))
    X, y = tensors[:2]
    n, B = X.shape[0], wl.batch
    x = _mlp_init(wl, T, gen)
    g = torch.empty_like(x)
    if gradients == "func":
        fgrad = _mlp_func(wl)
        views = _mlp_views(x, wl)
    if optim:  # torch.optim.Adam, one param group (of the four tensors) per learning rate
        if rule != "adam":
            raise NotImplementedError("the torch.optim MLP peer runs Adam")
        params = [[torch.nn.Parameter(v[l * R:(l + 1) * R].clone()) for v in views] for l in range(L)]
        opt = torch.optim.Adam([{"params": ps, "lr": float(lr)} for ps, lr in zip(params, wl.lrs)], lr=1e-3,
                               betas=(HYPER["beta1"], HYPER["beta2"]), eps=HYPER["eps"])
    else:
        upd = Rule(rule, x.shape, torch.as_tensor(np.repeat(np.asarray(wl.lrs, dtype=float), R)).unsqueeze(1))
    out = torch.empty(3, T, K, dtype=torch.float64)
    rec = wl.record_steps
    perm = None
    pos, j = n, 0
    with torch.no_grad():
        for t in range(wl.steps + 1):
            if j < K and rec[j] == t:
                if optim:
                    for v, ps in zip(views, zip(*params)):
                        torch.cat([p.detach() for p in ps], out=v) if v.is_contiguous() else v.copy_(
                            torch.cat([p.detach() for p in ps]))
                out[:, :, j] = _mlp_metrics(wl, tensors, x)
                j += 1
            if t == wl.steps:
                break
            if pos >= n:  # a new epoch: an independent uniform order per trajectory
                perm = torch.argsort(torch.rand(T, n, generator=gen, dtype=torch.float64), dim=1)
                pos = 0
            idx = perm[:, pos:pos + B]
            pos += idx.shape[1]
            Xb, yb = X[idx], y[idx]
            if gradients == "bmm":
                _mlp_grad_bmm(wl, x, g, Xb, yb)
                upd.step(x, g, t + 1)
                continue
            if optim:
                cur = {nm: torch.cat([p.detach() for p in ps]) for nm, ps in zip(_NAMES, zip(*params))}
            else:
                cur = dict(zip(_NAMES, views))
            with torch.enable_grad():
                grads = fgrad(cur, Xb, yb)
            if optim:
                for l, ps in enumerate(params):
                    for nm, p in zip(_NAMES, ps):
                        p.grad = grads[nm][l * R:(l + 1) * R]
                opt.step()
            else:
                for v, gv in zip(_mlp_views(g, wl), (grads[nm] for nm in _NAMES)):
                    v.copy_(gv)
                upd.step(x, g, t + 1)
    res = out.numpy()
    return {m: res[k].reshape(L, R, K) for k, m in enumerate(MLP_METRICS)}


def run_impl(wl, seed, optim):
    torch = _torch()
    gen = torch.Generator().manual_seed(int(seed))
    if wl.problem == "mlp":
        from .workloads import MLP_METRICS

        parts = [run_mlp(wl, rule, gen, optim) for rule in wl.rules]
        return {m: np.stack([p[m] for p in parts]) for m in MLP_METRICS}, {}
    return np.stack([_run_rule(wl, rule, gen, optim) for rule in wl.rules]), {}


def warmup_impl(wl, optim):
    """A small run of the same code paths (two lrs x two replicates, a few steps or one epoch)."""
    tiny = wl.subset(np.arange(min(2, len(wl.lrs))), 2)
    if wl.problem == "logreg":
        tiny.epochs = 1
    elif wl.problem == "mlp":
        tiny.steps = min(wl.steps, 5)
        tiny.record_steps = np.array([0, tiny.steps], dtype=np.int64)
    else:
        tiny.steps = min(wl.steps, 5)
        tiny.record_steps = np.array([0, tiny.steps], dtype=np.int64)
    run_impl(tiny, 0, optim)
    return {}
