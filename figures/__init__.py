"""Figures of the research studies: one module per figure, drawn from saved results.

Each module has ``NAME``, ``STUDY``, a docstring and ``draw(results)``, and runs as a script:
``python figures/<name>.py [--scale S]`` draws it from its study's saved results into
``figures/out/`` (see ``studies._runner.figure_main``).
"""
