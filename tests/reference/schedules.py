"""Plain-Python oracles of the learning-rate schedules, written from the libraries'
documented formulas (torch.optim.lr_scheduler, optax.schedules, keras schedules) and the
papers.  Each ``*_lr(k, base, ...)`` is the rate for update ``k`` (0-based: the number
of updates already applied) when the optimizer's lr is ``base``; ``constant_lr``,
``step_lr(...)`` and ``warmup_lr(...)`` are such functions, ready to hand to
:mod:`reference.loops`.
"""

import bisect
import math


def constant_lr(k, base):
    return base


def step_lr(step_size, gamma):
    return lambda k, base: base * gamma ** (k // step_size)


def warmup_lr(warmup, start=0.0, after=constant_lr):
    return lambda k, base: after(k, base) * (start + (1 - start) * min(1.0, (k + 1) / warmup))


def multistep_lr(k, base, milestones, gamma, convention="torch"):
    ms = sorted(milestones)
    if convention == "keras":  # PiecewiseConstantDecay: values[i] for b_{i-1} < k <= b_i
        n = bisect.bisect_left(ms, k)
    else:  # torch MultiStepLR: gamma ** bisect_right(milestones, k)
        n = bisect.bisect_right(ms, k)
    return base * gamma**n


def exponential_lr(k, base, gamma, transition_steps=1.0, staircase=False, begin=0, end=None):
    c = k - begin
    if c <= 0:
        v = base
    else:
        p = c / transition_steps
        if staircase:
            p = math.floor(p)
        v = base * gamma**p
    if end is not None:
        v = max(v, end) if gamma < 1 else min(v, end)
    return v


def inverse_time_lr(k, base, rate, decay_steps=1.0, staircase=False):
    p = k / decay_steps
    if staircase:
        p = math.floor(p)
    return base / (1 + rate * p)


def inverse_sqrt_lr(k, base):
    t = k + 1
    return base / math.sqrt(t)


def polynomial_lr(k, base, total, power=1.0, end=0.0, begin=0, cycle=False):
    c = max(k - begin, 0)
    T = total
    if cycle:  # keras PolynomialDecay(cycle=True)
        T = total * (1 if c == 0 else math.ceil(c / total))
    else:
        c = min(c, T)
    return (base - end) * (1 - c / T) ** power + end


def cosine_lr(k, base, T_max, eta_min=0.0, clamped=False, exponent=1.0):
    c = min(k, T_max) if clamped else k
    return eta_min + (base - eta_min) * ((1 + math.cos(math.pi * c / T_max)) / 2) ** exponent


def warm_restarts_lrs(n, base, T_0, T_mult=1, eta_min=0.0, m_mul=1.0):
    """torch CosineAnnealingWarmRestarts' stepping (T_cur += 1; restart at T_i), with
    Keras' height factor m_mul ** i_restart."""
    out = []
    T_cur, T_i, i = 0, T_0, 0
    for _ in range(n):
        out.append(eta_min + (base - eta_min) * m_mul**i * (1 + math.cos(math.pi * T_cur / T_i)) / 2)
        T_cur += 1
        if T_cur >= T_i:
            T_cur -= T_i
            T_i *= T_mult
            i += 1
    return out


def lecture_restart_lr(t, eta_max, eta_min, T):
    """Cosine annealing with warm restarts as in the lecture: cos(pi (t mod (T+1)) / T)."""
    return eta_min + (eta_max - eta_min) / 2 * (1 + math.cos(math.pi * (t % (T + 1)) / T))


def smith_triangular_lr(it, base, max_lr, step_size):
    """Smith (2017) / lecture notes: triangular cyclical rate."""
    cycle = math.floor(1 + it / (2 * step_size))
    x = abs(it / step_size - 2 * cycle + 1)
    return base + (max_lr - base) * max(0.0, 1 - x)


def cyclic_lr_mom(k, base, max_lr, up, down=None, mode="triangular", gamma=1.0, base_m=0.8, max_m=0.9):
    """torch CyclicLR: (lr, momentum) at last_epoch = k."""
    down = up if down is None else down
    total = up + down
    ratio = up / total
    cycle = math.floor(1 + k / total)
    x = 1.0 + k / total - cycle
    sf = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    if mode == "triangular":
        scale = 1.0
    elif mode == "triangular2":
        scale = 1 / (2.0 ** (cycle - 1))
    else:
        scale = gamma**k
    return base + (max_lr - base) * sf * scale, max_m - (max_m - base_m) * sf * scale


def _cos_anneal(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _lin_anneal(start, end, pct):
    return (end - start) * pct + start


def onecycle_torch(k, max_lr, N, pct=0.3, anneal="cos", div=25.0, final_div=1e4, three_phase=False,
                   base_m=0.85, max_m=0.95):
    """torch OneCycleLR: (lr, momentum) at last_epoch = k <= N."""
    f = _cos_anneal if anneal == "cos" else _lin_anneal
    init = max_lr / div
    mn = init / final_div
    if three_phase:
        phases = [(pct * N - 1, init, max_lr, max_m, base_m), (2 * pct * N - 2, max_lr, init, base_m, max_m),
                  (N - 1, init, mn, max_m, max_m)]
    else:
        phases = [(pct * N - 1, init, max_lr, max_m, base_m), (N - 1, max_lr, mn, base_m, max_m)]
    start = 0
    for i, (end, a, b, ma, mb) in enumerate(phases):
        if k <= end or i == len(phases) - 1:
            p = (k - start) / (end - start)
            return f(a, b, p), f(ma, mb, p)
        start = end


def piecewise_interpolate(k, anneal, init, boundaries_and_scales):
    """optax.piecewise_interpolate_schedule."""
    f = _cos_anneal if anneal == "cos" else _lin_anneal
    bounds = [0] + sorted(boundaries_and_scales)
    values = [init]
    for b in sorted(boundaries_and_scales):
        values.append(values[-1] * boundaries_and_scales[b])
    if k >= bounds[-1]:
        return values[-1]
    for i in range(len(bounds) - 1):
        if bounds[i] <= k < bounds[i + 1]:
            return f(values[i], values[i + 1], (k - bounds[i]) / max(bounds[i + 1] - bounds[i], 1))


def onecycle_optax(k, peak, N, pct=0.3, div=25.0, final_div=1e4):
    """optax.cosine_onecycle_schedule."""
    return piecewise_interpolate(k, "cos", peak / div, {int(pct * N): div, int(N): 1.0 / (div * final_div)})


def linear_onecycle_optax(k, peak, N, pct=0.3, pct_final=0.85, div=25.0, final_div=1e4):
    """optax.linear_onecycle_schedule."""
    return piecewise_interpolate(
        k, "linear", peak / div, {int(pct * N): div, int(pct_final * N): 1.0 / div, N: 1.0 / final_div}
    )


def transformer_lr(k, base, d_model=512, warmup=4000):
    step = k + 1
    return base * (d_model**-0.5 * min(step**-0.5, step * warmup**-1.5))


def untuned_linear_factor(k, beta2):
    t = k + 1
    return min(1.0, (1 - beta2) * t / 2)


def untuned_exponential_factor(k, beta2):
    t = k + 1
    return 1 - math.exp(-(1 - beta2) * t)


def linear_warmup_factor(k, warmup, start=0.0):
    return start + (1 - start) * min(1.0, (k + 1) / warmup)


class PlateauRef:
    """torch ReduceLROnPlateau (mode 'min'), stepped with one metric per epoch."""

    def __init__(self, lr, factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0,
                 min_lr=0.0, eps=1e-8):
        self.lr, self.factor, self.patience = lr, factor, patience
        self.threshold, self.mode, self.cooldown = threshold, threshold_mode, cooldown
        self.min_lr, self.eps = min_lr, eps
        self.best, self.bad, self.cooldown_counter = math.inf, 0, 0

    def step(self, metric):
        if self.mode == "rel":
            better = metric < self.best * (1 - self.threshold)
        else:
            better = metric < self.best - self.threshold
        if better:
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.bad = 0
        if self.bad > self.patience:
            new = max(self.lr * self.factor, self.min_lr)
            if self.lr - new > self.eps:
                self.lr = new
            self.cooldown_counter = self.cooldown
            self.bad = 0
        return self.lr


def plateau_lrs(losses, base, interval=1, metric="last", **kw):
    """Rate for update k = 0..len(losses)-1, the loss observed at update k being losses[k]:
    the scheduler is stepped at k = interval, 2 interval, ... with losses[k] ('last') or
    the mean of losses[k - interval : k] ('mean')."""
    ref = PlateauRef(base, **kw)
    out = []
    for k, _ in enumerate(losses):
        if k > 0 and k % interval == 0:
            m = losses[k] if metric == "last" else sum(losses[k - interval:k]) / interval
            ref.step(m)
        out.append(ref.lr)
    return out


# -- AdEMAMix's warm-ups (at the 1-based step t) --------------------------------------


def linear_warmup(t, T, end):
    """The authors' alpha warm-up at the 1-based step t."""
    return (t / T) * end if t < T else end


def beta3_warmup(t, T, start, end, eps=0.0):
    """The paper's beta3 warm-up at the 1-based step t (half-life linear in t)."""
    if t >= T:
        return end
    a = t / T
    ls, le = math.log(start + eps), math.log(end + eps)
    return math.exp(ls * le / ((1.0 - a) * le + a * ls))
