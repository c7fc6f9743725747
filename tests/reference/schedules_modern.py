"""Plain-Python oracles of the modern schedules, written from the papers and the libraries'
documented formulas: WSD (Hägele et al. 2024, the authors' ``wsd_schedule``, transformers'
``get_wsd_schedule`` and pytorch_optimizer's), optax's ``warmup_cosine_decay_schedule``,
``sgdr_schedule``, ``join_schedules``, ``piecewise_interpolate_schedule`` and
``piecewise_constant_schedule``, Keras' ``CosineDecay`` with a warm-up and torch's
``LinearLR``.  Each ``*_lr(k, base, ...)`` is the rate for update ``k`` (0-based: the number
of updates already applied) when the base value is ``base``.
"""

import math


def wsd_authors_factor(k, n_iterations, n_warmup, fract_decay, decay_type="linear", final_lr_factor=0.0,
                       init_div_factor=100.0):
    """The factor of epfml/schedules-and-scaling's ``wsd_schedule`` (the paper's code), read
    as: warm-up from 1/init_div_factor, hold until n_iterations - int(fract_decay * n), decay."""
    n_anneal = int(fract_decay * n_iterations)
    n_hold = n_iterations - n_anneal
    if k < n_warmup:
        return k / n_warmup + (1 - k / n_warmup) / init_div_factor
    if k < n_hold:
        return 1.0
    if k >= n_iterations:
        return final_lr_factor
    p = (k - n_hold) / n_anneal
    shape = {"linear": 1 - p, "cosine": (1 + math.cos(math.pi * p)) * 0.5, "1-sqrt": 1 - math.sqrt(p),
             "1-square": 1 - p**2}[decay_type]
    return final_lr_factor + (1 - final_lr_factor) * shape


def wsd_transformers_factor(k, warmup, stable, decay, warmup_type="linear", decay_type="cosine",
                            min_lr_ratio=0.0, num_cycles=0.5):
    """transformers' ``get_wsd_schedule`` lambda: the warm-up starts from min_lr_ratio."""
    if k < warmup:
        p = k / max(1, warmup)
        w = {"linear": p, "cosine": 0.5 * (1 - math.cos(math.pi * p)), "1-sqrt": 1 - math.sqrt(1 - p)}[warmup_type]
        return max(0.0, w * (1 - min_lr_ratio) + min_lr_ratio)
    if k < warmup + stable:
        return 1.0
    if k < warmup + stable + decay:
        p = (k - warmup - stable) / max(1, decay)
        r = {"linear": 1 - p, "cosine": 0.5 * (1 + math.cos(math.pi * num_cycles * 2 * p)),
             "1-sqrt": 1 - math.sqrt(p), "1-square": 1 - p * p}[decay_type]
        return max(0.0, r * (1 - min_lr_ratio) + min_lr_ratio)
    return min_lr_ratio


def wsd_pytorch_optimizer_factor(k, warmup, stable, decay, cooldown="1-sqrt", min_lr_ratio=0.0, num_cycles=0.5):
    """pytorch_optimizer's ``get_wsd_schedule`` lambda: only the cosine cooldown reaches min_lr_ratio;
    the others reach 0 and the factor jumps to min_lr_ratio after the decay."""
    if k < warmup:
        return k / max(1, warmup)
    if k < warmup + stable:
        return 1.0
    if k < warmup + stable + decay:
        p = (k - warmup - stable) / decay
        if cooldown == "cosine":
            return (1 - min_lr_ratio) * max(0.0, 0.5 * (1 + math.cos(math.pi * num_cycles * 2 * p))) + min_lr_ratio
        return {"linear": 1 - p, "1-sqrt": 1 - math.sqrt(p), "1-square": 1 - p**2}[cooldown]
    return min_lr_ratio


def optax_linear(count, init, end, steps):
    """optax ``linear_schedule(init, end, steps)``: constant init for steps <= 0."""
    if steps <= 0:
        return init
    c = min(max(count, 0), steps)
    return init + (end - init) * c / steps


def optax_cosine(count, init, steps, alpha=0.0, exponent=1.0):
    """optax ``cosine_decay_schedule(init, steps, alpha, exponent)``."""
    c = min(count, steps)
    return init * ((1 - alpha) * (0.5 * (1 + math.cos(math.pi * c / steps))) ** exponent + alpha)


def join_lr(k, pieces, boundaries):
    """optax ``join_schedules(pieces, boundaries)``: ``pieces`` are functions of the count."""
    out = pieces[0](k)
    for b, piece in zip(boundaries, pieces[1:]):
        if k >= b:
            out = piece(k - b)
    return out


def optax_warmup_cosine_lr(k, init, peak, warmup, decay, end=0.0, exponent=1.0):
    """optax ``warmup_cosine_decay_schedule``: a linear warm-up joined at ``warmup`` to a cosine
    of ``decay - warmup`` updates."""
    alpha = 0.0 if peak == 0 else end / peak
    return join_lr(k, [lambda c: optax_linear(c, init, peak, warmup),
                       lambda c: optax_cosine(c, peak, decay - warmup, alpha, exponent)], [warmup])


def keras_cosine_warmup_lr(k, init, target, warmup, decay, alpha=0.0):
    """Keras ``CosineDecay(init, decay, alpha, warmup_target=target, warmup_steps=warmup)``."""
    s = min(k, decay + warmup)
    if s < warmup:
        return init + (target - init) * s / warmup
    return target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * (s - warmup) / decay)) + alpha)


def sgdr_lr(k, cycles):
    """optax ``sgdr_schedule(cycles)``: ``cycles`` are dicts of warmup_cosine_decay_schedule's
    keywords (init_value, peak_value, warmup_steps, decay_steps, end_value, exponent)."""
    pieces, bounds, step = [], [], 0
    for c in cycles:
        pieces.append(lambda n, c=c: optax_warmup_cosine_lr(n, c.get("init_value", 0.0), c["peak_value"],
                                                            c.get("warmup_steps", 0), c["decay_steps"],
                                                            c.get("end_value", 0.0), c.get("exponent", 1.0)))
        step += c["decay_steps"]
        bounds.append(step)
    return join_lr(k, pieces, bounds[:-1])


def linear_lr(k, base, start_factor=1 / 3, end_factor=1.0, total_iters=5):
    """torch ``LinearLR`` (its closed form)."""
    return base * (start_factor + (end_factor - start_factor) * min(total_iters, k) / total_iters)


def piecewise_interpolate_lr(k, base, boundaries_and_scales, kind="linear"):
    """optax ``piecewise_interpolate_schedule(kind, base, boundaries_and_scales)``: the values are
    the cumulative products of the scales, interpolated between the sorted boundaries (from 0)."""
    items = sorted(boundaries_and_scales.items())
    bounds = [0] + [b for b, _ in items]
    values = [base]
    for _, s in items:
        values.append(values[-1] * s)
    for i in range(len(items)):
        lo, hi = bounds[i], bounds[i + 1]
        if lo <= k < hi:
            p = (k - lo) / max(hi - lo, 1)
            a, b = values[i], values[i + 1]
            if kind == "linear":
                return a + (b - a) * p
            return b + (a - b) / 2 * (math.cos(math.pi * p) + 1)
    return values[-1]


def piecewise_constant_lr(k, base, boundaries_and_scales, keras=False):
    """optax ``piecewise_constant_schedule`` (a scale applies from its boundary on) or, with
    ``keras``, Keras' ``PiecewiseConstantDecay`` (from the update after it)."""
    v = base
    for b, s in sorted(boundaries_and_scales.items()):
        if k > b or (k == b and not keras):
            v *= s
    return v
