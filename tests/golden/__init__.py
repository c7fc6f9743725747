"""Golden trajectories from the reference libraries (PyTorch, optax, pytorch-optimizer,
Keras), committed as small files so that the default test suite checks optsim against the
libraries' own numbers without installing them (:mod:`tests.test_golden`).
:mod:`golden.fixtures` is the file format; the ``make_*.py`` scripts here regenerate the
files in an environment that has the libraries."""
