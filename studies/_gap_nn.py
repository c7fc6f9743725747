"""Part (d) of the generalization-gap study: small neural networks on real and synthetic data.

Adam, AdamW, SGD with momentum, SWATS and Muon train a one-hidden-layer tanh MLP on the
digits (8x8 images, 10 classes) and on a teacher-student task, with minibatch noise from
epochs of shuffled batches.  Each optimizer gets the same budget: ``K`` learning rates,
log-spaced over two decades around its usual scale, and the same replicates, which share
their initial networks and their batches across every optimizer and learning rate (common
random numbers: the streams are keyed by seed and replicate only).  The learning rate is
selected on a validation split (the lowest median final validation loss); the test
accuracy is reported at the selected rate, with paired bootstrap intervals over replicates.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

import optsim
from optsim.noise import Minibatch
from optsim.optimizers import SGD, SWATS, Adam, AdamW, Muon
from optsim.problems import MLP

from studies._criteria import bootstrap_interval, judge

#: each optimizer and the centre of its two-decade learning-rate range
NN_METHODS = {
    "adam": (Adam(), 3e-3),
    "adamw": (AdamW(weight_decay=1e-2), 3e-3),
    "sgd+momentum": (SGD(momentum=0.9), 3e-2),
    "swats": (SWATS(), 3e-3),
    "muon": (Muon(), 1e-2),
}
ADAPTIVE_NN = ("adam", "adamw")
TASKS = {
    "digits": dict(dataset="digits", val_fraction=0.2),
    "teacher_student": dict(dataset="teacher_student", n_train=600, n_test=2000, n_features=20, n_classes=4,
                            teacher_width=8, val_fraction=0.25),
}


def mlp(width, **data):
    """The network of parts (d) and (e): one tanh hidden layer of ``width`` units, trained on
    ``data`` (MLP's dataset parameters), recording only the held-out metrics."""
    return MLP(hidden=(width,), activation="tanh", train_metrics=False, **data)


def nn_problem(task, width):
    return mlp(width, **TASKS[task])


def lr_grid(centre, k):
    """``k`` learning rates log-spaced over [centre / 10, centre * 10]."""
    return np.logspace(np.log10(centre) - 1.0, np.log10(centre) + 1.0, k)


def nn_sweeps(pb, cfg, methods, batch_size):
    """One sweep of problem ``pb`` per optimizer of ``methods`` (names in :data:`NN_METHODS`),
    each over its ``cfg["nn_lrs"]`` learning rates with minibatches of ``batch_size``, and the
    same seed, so the same initializations and batches (common random numbers); joined along
    ``optimizer``, with ``lr`` a variable over (optimizer, lr_index)."""
    steps = cfg["nn_steps"]
    parts = []
    for name in methods:
        opt, centre = NN_METHODS[name]
        lrs = lr_grid(centre, cfg["nn_lrs"])
        ds = optsim.sweep(
            problem=pb, noise=Minibatch(batch_size=batch_size), optimizer=opt, grid={"lr": list(lrs)},
            replicates=cfg["nn_replicates"], steps=steps, record=("loss", "metrics"),
            record_every=max(steps // cfg["nn_records"], 1), seed=11,
        )
        ds = ds.rename({"lr": "lr_index"}).assign_coords(lr_index=np.arange(lrs.size))
        ds["lr"] = ("lr_index", lrs)
        parts.append(ds.expand_dims(optimizer=[name]))
    return xr.concat(parts, dim="optimizer", combine_attrs="drop_conflicts")


def _nn_task(cfg, task):
    """Every optimizer of :data:`NN_METHODS` on ``task`` at the scale's width and batch size."""
    out = nn_sweeps(nn_problem(task, cfg["nn_width"]), cfg, NN_METHODS, cfg["nn_batch"])
    out.attrs.update(task=task, width=cfg["nn_width"], batch_size=cfg["nn_batch"])
    return out


def run_nn(cfg):
    return {f"nn_{task}": _nn_task(cfg, task) for task in cfg["nn_tasks"]}


def metric(ds, name, step=-1):
    """Metric ``name`` at record ``step`` as an (optimizer, lr_index, replicate) DataArray."""
    return ds["metrics"].sel(metric=name).isel(step=step).transpose("optimizer", "lr_index", "replicate")


def selected(ds):
    """Per optimizer, the lr_index with the lowest median final validation loss."""
    val = metric(ds, "val_loss").median("replicate").fillna(np.inf)
    return {str(o): int(val.sel(optimizer=o).argmin("lr_index")) for o in ds["optimizer"].values}


def _select_and_report(val, rep, r):
    """Per optimizer, the report (median of ``rep`` over replicates ``r``) at the lr whose
    median ``val`` over the same replicates is lowest: selection and report both resampled."""
    v = np.median(val[:, :, r], axis=2)
    v = np.where(np.isfinite(v), v, np.inf)
    pick = v.argmin(axis=1)
    med = np.median(rep[:, :, r], axis=2)
    return med[np.arange(med.shape[0]), pick]


def adaptive_gap(val, acc, names, r):
    """The gap of parts (d) and (e) on (optimizer, lr_index, replicate) arrays over replicates
    ``r``: the test accuracy of sgd+momentum minus the better of Adam's and AdamW's, each at its
    lr selected on ``val`` (:func:`_select_and_report`); ``names`` are the optimizers in order."""
    a = _select_and_report(val, acc, r)
    return float(a[names.index("sgd+momentum")] - max(a[names.index(o)] for o in ADAPTIVE_NN))


def _matched(loss, acc, kk, r, median):
    """The equal-training-loss comparison on (optimizer, lr_index, replicate, step) arrays:
    ``median`` of ``loss`` and ``acc`` over replicates ``r`` at each optimizer's selected
    lr_index ``kk``; the target is the highest final median loss, and each optimizer is read at
    its first record at or below it.  Returns (target, accuracies, record indices)."""
    sel = np.arange(len(kk))
    loss_med = median(loss[:, :, r], axis=2)[sel, kk]  # (optimizer, step)
    acc_med = median(acc[:, :, r], axis=2)[sel, kk]
    target = float(loss_med[:, -1].max())
    j = np.argmax(loss_med <= target * (1 + 1e-12), axis=1)
    return target, acc_med[sel, j], j


def _loss_acc(ds):
    dims = ("optimizer", "lr_index", "replicate", "step")
    return (ds["loss"].transpose(*dims).values,
            ds["metrics"].sel(metric="test_accuracy").transpose(*dims).values)


def loss_matched_accuracy(ds, pick):
    """Per optimizer, the median test accuracy at the first record where its median training
    loss (at its selected lr) is at or below the highest of the optimizers' final median
    training losses: test accuracies compared at an equal training loss."""
    names = [str(o) for o in ds["optimizer"].values]
    loss, acc = _loss_acc(ds)
    target, a, j = _matched(loss, acc, [pick[o] for o in names], np.arange(ds.sizes["replicate"]), np.nanmedian)
    return target, {o: (float(a[i]), int(ds["step"].values[j[i]])) for i, o in enumerate(names)}


def verdict_rows(results):
    rows = []
    src = "Wilson et al. 2017 (PAPERS.md §1); lecture 003 ('Adam: fast training, large generalization gap')"
    for key in sorted(k for k in results if k.startswith("nn_")):
        ds = results[key]
        task = ds.attrs.get("task", key[3:])
        names = [str(o) for o in ds["optimizer"].values]
        val = metric(ds, "val_loss").values
        acc = metric(ds, "test_accuracy").values
        R = ds.sizes["replicate"]
        pick = selected(ds)
        isg = names.index("sgd+momentum")
        ada = [names.index(a) for a in ADAPTIVE_NN]
        g, g_int = bootstrap_interval(lambda r: adaptive_gap(val, acc, names, r), R)
        full = _select_and_report(val, acc, np.arange(R))
        desc = ", ".join(f"{o} {100 * full[i]:.2f}% (lr {float(ds['lr'].sel(optimizer=o).isel(lr_index=pick[o])):.3g})"
                         for i, o in enumerate(names))
        rows.append({
            "claim": f"Tuned on a validation split, SGD with momentum reaches a higher test accuracy than Adam and "
                     f"AdamW ({task} MLP)",
            "source": src,
            "expected": "test accuracy of SGD-momentum above the better adaptive method's, at the validation-selected lrs",
            "measured": f"median test accuracy at the selected lr over {R} replicates: {desc}",
            **judge(g, g_int, 0.0, above=True,
                    criterion=f"accuracy(sgd+momentum) - max(accuracy(adam), accuracy(adamw)), the lr selected "
                              f"on validation loss again in each paired bootstrap resample over {R} replicates"),
        })
        target, matched = loss_matched_accuracy(ds, pick)
        am = {o: v[0] for o, v in matched.items()}
        lm, tm = _loss_acc(ds)
        kk = [pick[o] for o in names]

        def matched_gap(r):
            a = _matched(lm, tm, kk, r, np.median)[1]
            return float(a[isg] - max(a[i] for i in ada))

        mg, mg_int = bootstrap_interval(matched_gap, R)
        rows.append({
            "claim": f"At equal training loss, Adam and AdamW reach a lower test accuracy than SGD with momentum "
                     f"({task} MLP)",
            "source": src,
            "expected": "test accuracy at the first record with median training loss <= a common target: sgdm above adaptive",
            "measured": f"target training loss {target:.3g}; " + ", ".join(
                f"{o} {100 * a:.2f}% (step {matched[o][1]})" for o, a in am.items()),
            **judge(mg, mg_int, 0.0, above=True,
                    criterion=f"accuracy(sgd+momentum) - max(adaptive) at the common training loss, selected lrs, "
                              f"paired bootstrap over {R} replicates"),
        })
        isw, ia = names.index("swats"), names.index("adam")

        def swats_gain(r):
            a = _select_and_report(val, acc, r)
            return float(abs(a[ia] - a[isg]) - abs(a[isw] - a[isg]))

        sw, sw_int = bootstrap_interval(swats_gain, R)
        rows.append({
            "claim": f"SWATS's switch to SGD closes (part of) Adam's gap to SGD with momentum ({task} MLP)",
            "source": "Keskar & Socher 2017 (SWATS)",
            "expected": "|acc(adam) - acc(sgdm)| - |acc(swats) - acc(sgdm)| > 0 at the validation-selected lrs",
            "measured": (f"adam {100 * full[ia]:.2f}%, swats {100 * full[isw]:.2f}%, sgd+momentum "
                         f"{100 * full[isg]:.2f}%"),
            **judge(sw, sw_int, 0.0, above=True,
                    criterion=f"reduction of the distance to sgd+momentum's test accuracy, paired bootstrap over {R} "
                              f"replicates (with no gap to close the interval straddles 0)"),
        })
    return rows
