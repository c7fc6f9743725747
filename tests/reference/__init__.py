"""The test oracles: slow, obviously correct NumPy versions of optsim's components, one module
per role and one oracle per rule, written from the formulas in the references
(REFERENCE_RULES.md, PAPERS.md, the lectures), never from optsim's kernels.

- :mod:`reference.rules`: one class per update rule (``step(x, g, t, lr)``);
- :mod:`reference.loops`: the closed- and open-loop step loops that drive them;
- :mod:`reference.schedules`: the learning-rate schedules;
- :mod:`reference.problems`: the problems' losses and gradients, and a gradient-replay problem;
- :mod:`reference.noise`: the noise models and minibatch sampling, draw for draw.
"""
