"""
Learning-rate schedules, without a sweep
========================================

``Schedule.learning_rates(steps, base_lr)`` calls the same compiled functions as the engine,
so a schedule can be looked at before it is used: cosine annealing, warm restarts, a one-cycle
policy, warm-up then step decay, and warmup-stable-decay (WSD), over 1000 steps.
"""

from optsim import plotting
from optsim.schedules import WSD, CosineAnnealing, LinearWarmup, OneCycle, StepDecay, WarmRestarts

schedules = {
    "cosine (T_max 1000)": CosineAnnealing(T_max=1000),
    "warm restarts (T_0 100, T_mult 2)": WarmRestarts(T_0=100, T_mult=2.0),
    "one cycle": OneCycle(total_steps=1000),
    "warm-up 100, then step decay": LinearWarmup(warmup_steps=100, after=StepDecay(step_size=300, gamma=0.3)),
    "WSD (decay over the last 20%)": WSD(total_steps=1000, decay_fraction=0.2),
}

with plotting.use_style():
    fig, ax = plotting.new_figure(1, 1, figsize=(9, 3.8))
    for label, schedule in schedules.items():
        ax.plot(schedule.learning_rates(1000, base_lr=1.0), label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate / base lr")
    ax.legend(fontsize="small")
