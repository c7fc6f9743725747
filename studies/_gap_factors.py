"""Part (e) of the generalization-gap study: what the adaptive gap depends on.

The gap is part (d)'s: the test accuracy of SGD with momentum minus the better of Adam's
and AdamW's, each at its learning rate selected on the validation loss (the lowest median
validation loss over the replicates; the selection made again in each paired bootstrap
resample).  It is measured while one factor at a time moves away from a base cell, part
(d)'s digits setting (``nn_width``, ``nn_batch``, ``nn_steps``, ``nn_lrs``,
``nn_replicates`` of the scale):

- ``width``: the hidden width, ``gf_widths``, on the digits;
- ``batch``: the minibatch size, ``gf_batches``, on the digits (the same number of steps,
  so a larger batch also sees more epochs);
- ``label_noise``: the share of training and validation labels moved to another class,
  ``gf_label_noise``, on a Gaussian mixture with few training rows (``gf_noise_data``), so
  that a network of width ``gf_noise_width`` can memorize the wrong labels; its test labels
  are clean;
- ``length``: no new runs: the base cell's records nearest to the fractions
  ``gf_lengths`` of its steps, the selection made on the validation loss at that record.

Every cell is one sweep per optimizer with part (d)'s seed (:func:`studies._gap_nn.nn_sweeps`):
replicate ``r`` starts from the same network and sees the same batches for every optimizer
and learning rate of a cell, and the same batch stream in every cell of a factor.  The
claim of each factor is the gap at its largest level minus the gap at its smallest, with a
paired bootstrap interval over the replicates (the same resampled replicates at both ends).

What the quick scale finds depends on how long the networks train.  At the quick scale (400
steps, 16 replicates) SGD with momentum's lead grows with label noise, +0.4, +1.2 and +7.8
points at 0, 0.2 and 0.4 (reproduced).  The quick levels with 64 replicates and 1200 steps
(``dict(SCALES["quick"], nn_replicates=64, nn_steps=1200, nn_records=12)``, 205 s on two
cores) reverse it: -1.2, -2.8 and -5.1 points, SGD with momentum falling further behind as
the labels get noisier (not reproduced); the width's change is -1.8 points [-3.2, -0.6]
(+1.8 at width 4, 0 at 16 and 64: not reproduced), the batch size's 0 [-0.6, +0.4] and the
length's +0.3 [-0.3, +0.8] (both inconclusive).  With 3000 steps (the paper scale's length,
``nn_steps=3000, nn_records=30``, 446 s on two cores) the label-noise deficit deepens to
-2.0, -7.0 and -11.2 points (change -9.3 [-9.9, -8.6], not reproduced), and width, batch
size and length are inconclusive (+0.8 [-0.1, +2.5], +0.6 [0, +1.1], 0 [-1.0, +0.3]).

At the paper scale (part (e) alone: ``run_factors(SCALES["paper"])``, 72 min of wall time and
139 min of CPU on two cores, 0.4 GB; its rows are in
``docs/verdicts/paper/parts/generalization_gap_e.json``) the answer holds: more label
noise widens Adam's and AdamW's lead, -1.1, -4.6, -7.4, -8.3 and -8.6 points at 0 to 0.4
(change -7.5 [-8.1, -6.8], not reproduced), and width (4 to 128: -0.3 [-2.1, +1.4]), batch
size (8 to 128: -0.3 [-0.6, +0.6]) and training length (step 300 to 3000: -0.3 [-0.6, +0.6])
leave the gap within a test example or two of 0 (inconclusive).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from studies._criteria import bootstrap_interval, judge
from studies._gap_nn import ADAPTIVE_NN, TASKS, adaptive_gap, metric, mlp, nn_sweeps

#: the optimizers of part (e): the two adaptive ones of the gap and SGD with momentum
FACTOR_METHODS = (*ADAPTIVE_NN, "sgd+momentum")

#: each factor: the results key, the axis label and unit, whether its axis is logarithmic
FACTORS = {
    "width": {"key": "gf_width", "label": "hidden width (units)", "log": True},
    "batch": {"key": "gf_batch", "label": "minibatch size (examples)", "log": True},
    "label_noise": {"key": "gf_label_noise", "label": "label noise (share of train/val labels flipped)",
                    "log": False},
    "length": {"key": "gf_length", "label": "training length (steps)", "log": False},
}


def _cell(cfg, width, batch, data, cells):
    """The sweeps of :data:`FACTOR_METHODS` at one setting, computed once per setting
    (``cells`` holds those already run: the base cell is shared by three factors)."""
    key = (width, batch, tuple(sorted(data.items())))
    if key not in cells:
        cells[key] = nn_sweeps(mlp(width, **data), cfg, FACTOR_METHODS, batch)
    return cells[key]


def _levels(cfg, factor, values, settings, cells):
    """The cells of one factor, joined along ``level`` (its values); ``settings(v)`` gives the
    (width, batch, data) of level ``v``."""
    parts = [_cell(cfg, *settings(v), cells).expand_dims(level=[v]) for v in values]
    out = xr.concat(parts, dim="level", combine_attrs="drop_conflicts")
    out["lr"] = out["lr"].isel(level=0, drop=True)  # the same grid at every level
    width, batch, data = settings(values[0])
    out.attrs.update(factor=factor, dataset=data["dataset"])
    if factor != "width":  # the varied setting is ``level``
        out.attrs["width"] = width
    if factor != "batch":
        out.attrs["batch_size"] = batch
    if "n_train" in data:
        out.attrs["n_train"] = data["n_train"]
    return out


def run_factors(cfg):
    """Part (e): ``{"gf_width", "gf_batch", "gf_label_noise", "gf_length"}``, each a Dataset
    over (level, optimizer, lr_index, replicate, step), ``gf_length`` the base cell with its
    records (no ``level``)."""
    cells = {}
    digits = TASKS["digits"]
    width, batch = cfg["nn_width"], cfg["nn_batch"]
    noise_width = cfg["gf_noise_width"]
    out = {
        "gf_width": _levels(cfg, "width", cfg["gf_widths"], lambda w: (w, batch, digits), cells),
        "gf_batch": _levels(cfg, "batch", cfg["gf_batches"], lambda b: (width, b, digits), cells),
        "gf_label_noise": _levels(cfg, "label_noise", cfg["gf_label_noise"],
                                  lambda p: (noise_width, batch, {**cfg["gf_noise_data"], "label_noise": p}), cells),
    }
    base = _cell(cfg, width, batch, digits, cells).copy()
    base.attrs.update(factor="length", dataset="digits", width=width, batch_size=batch,
                      fractions=list(cfg["gf_lengths"]))
    out["gf_length"] = base
    return out


# -- the gap at each level ------------------------------------------------------------------------


def length_records(ds):
    """Indices of the records of ``ds`` nearest to the fractions ``ds.attrs["fractions"]`` of
    its last step."""
    steps = ds["step"].values
    return [int(np.abs(steps - f * steps[-1]).argmin()) for f in ds.attrs["fractions"]]


def level_arrays(ds):
    """``(levels, val, acc)``: the factor's level values and, per level, the validation loss
    and test accuracy as (optimizer, lr_index, replicate) arrays, stacked along a first axis:
    the final record of each cell, or for ``length`` the base cell's chosen records (the
    levels are their steps)."""
    if "level" not in ds.dims:
        idx = length_records(ds)
        val = np.stack([metric(ds, "val_loss", step=k).values for k in idx])
        acc = np.stack([metric(ds, "test_accuracy", step=k).values for k in idx])
        return ds["step"].values[idx], val, acc
    val = np.stack([metric(ds.sel(level=v), "val_loss").values for v in ds["level"].values])
    acc = np.stack([metric(ds.sel(level=v), "test_accuracy").values for v in ds["level"].values])
    return ds["level"].values, val, acc


def _exact_ties(x):
    """``x`` rounded to 12 decimals: accuracies are shares of a finite test set, so equal gaps
    (a difference of 0) must come out as exactly 0, not as a rounding error of either sign."""
    return np.round(x, 12)


def level_gaps(ds):
    """``(levels, gaps, intervals, change, change_interval)``: per level the gap (sgd+momentum's
    test accuracy minus the better adaptive one's, lrs selected on the validation loss) with its
    paired bootstrap interval over replicates, and the gap at the last level minus the gap at
    the first with its interval (every bootstrap draws the same resampled replicates)."""
    levels, val, acc = level_arrays(ds)
    names = [str(o) for o in ds["optimizer"].values]
    R = ds.sizes["replicate"]

    def gaps_and_change(r):
        g = _exact_ties(np.array([adaptive_gap(v, a, names, r) for v, a in zip(val, acc)]))
        return np.append(g, _exact_ties(g[-1] - g[0]))

    *per, (change, change_int) = bootstrap_interval(gaps_and_change, R)
    return levels, np.array([g for g, _ in per]), np.array([i for _, i in per]), change, change_int


# -- verdict rows ---------------------------------------------------------------------------------

_SRC = "Wilson et al. 2017 (PAPERS.md §1); lecture 003 ('Adam: fast training, large generalization gap')"

#: per factor: the claim, the side of 0 the folklore expects (``above``), and why
_CLAIMS = {
    "width": ("A wider network enlarges SGD with momentum's test-accuracy advantage over Adam and AdamW",
              True, _SRC,
              "a larger gap at the largest width than at the smallest: the folklore has adaptive methods "
              "generalize worse the more the network can overfit"),
    "batch": ("A larger minibatch shrinks SGD with momentum's test-accuracy advantage over Adam and AdamW",
              False, _SRC + "; Zhang et al. 2019 (PAPERS.md §5)",
              "a smaller gap at the largest batch than at the smallest: with less gradient noise "
              "preconditioning pays off more (Zhang et al.'s noisy quadratic model: it extends perfect "
              "batch scaling), and SGD loses the small-batch noise credited with its generalization; "
              "an expectation transferred from training speed, not one the papers measure"),
    "label_noise": ("More label noise enlarges SGD with momentum's test-accuracy advantage over Adam and AdamW",
                    True, _SRC,
                    "a larger gap at the most label noise than at none: adaptive methods are said to fit "
                    "(memorize) the wrong labels more readily"),
    "length": ("Longer training enlarges SGD with momentum's test-accuracy advantage over Adam and AdamW",
               True, _SRC,
               "a larger gap at the last record than at the first one used: 'fast training, large "
               "generalization gap' has Adam ahead early and SGD with momentum ahead late"),
}


def _level_text(factor, v):
    return {"width": f"width {int(v)}", "batch": f"batch {int(v)}", "label_noise": f"label noise {float(v):g}",
            "length": f"step {int(v)}"}[factor]


def factor_row(factor, ds):
    """The verdict row of one factor: the gap at its last level minus at its first, judged
    against 0 on the side :data:`_CLAIMS` states, with the gap at every level in ``measured``."""
    claim, above, source, expected = _CLAIMS[factor]
    levels, g, ints, change, change_int = level_gaps(ds)
    R = ds.sizes["replicate"]
    where = (f"{ds.attrs['dataset']} MLP, width {ds.attrs['width']}, batch {ds.attrs['batch_size']}"
             if factor == "length" else f"{ds.attrs['dataset']} MLP")
    per = "; ".join(f"{_level_text(factor, v)}: {100 * x:+.2f} pp [{100 * lo:+.2f}, {100 * hi:+.2f}]"
                    for v, x, (lo, hi) in zip(levels, g, ints))
    first, last = _level_text(factor, levels[0]), _level_text(factor, levels[-1])
    select = ("on the validation loss at the same record" if factor == "length"
              else "on the validation loss at each level")
    return {
        "claim": f"{claim} ({where})",
        "source": source,
        "expected": expected,
        "measured": (f"gap = acc(sgd+momentum) - max(acc(adam), acc(adamw)), median over {R} replicates, "
                     f"99% bootstrap intervals: {per}; change {100 * change:+.2f} pp"),
        **judge(change, change_int, 0.0, above=above,
                criterion=f"gap at {last} minus gap at {first}, the lrs selected {select} again in each paired "
                          f"bootstrap resample over {R} replicates"),
    }


def factor_rows(results):
    """One verdict row per factor present in ``results``."""
    return [factor_row(f, results[spec["key"]]) for f, spec in FACTORS.items() if spec["key"] in results]
