"""Warm-up: the Transformer learning-rate schedule with warmupSteps = 4000.

eta_t = d_model^(-1/2) min(t^(-1/2), t * warmupSteps^(-3/2)) with d_model = 512, as recorded
(``eff_lr``) from a run with optsim's ``TransformerWarmup`` schedule: a linear rise from a
low rate over the first 4000 steps, then a decay proportional to t^(-1/2).
"""

from optsim import plotting

NAME = "lecture_002_warmup"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.10, 'Warm-start' (warmupSteps = 4000)"
CLAIM = "Warm-up starts from a low learning rate and raises it over the first 4000 steps before decaying it."


def draw(results):
    ds = results["warmup"]
    e = ds["eff_lr"].isel(optimizer=0, replicate=0, param=0).isel(step=slice(1, None))
    warm = ds.attrs["warmup"]
    label = str(ds["optimizer"].values[0])
    with plotting.use_style():
        fig, ax = plotting.new_figure(figsize=(6.5, 4))
        ax.plot(e["step"].values, e.values, color=plotting.optimizer_color(label), label=label)
        ax.axvline(warm, color="C3", ls=":", label=f"warmupSteps = {warm:g}")
        ax.set(xlabel="step t", ylabel="learning rate",
               title=f"Transformer schedule, d_model = {ds.attrs['d_model']:g}")
        ax.legend(fontsize="small")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
