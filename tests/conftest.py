import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


# The comparisons with the reference libraries run in the default suite from committed golden
# files (tests/test_golden.py).  The tests that call a library live are an extra, marked
# ``live`` here and deselected by default: ``pytest -m live`` runs them where torch, jax and
# optax are installed.
LIVE_LIBRARIES = {"torch", "jax", "optax", "keras"}
LIVE_HELPERS = {"torch_trajectory", "optax_trajectory", "torch_lrs"}  # helpers that import a library
LIVE_FIXTURES = {"torch64", "optax64", "optax"}


def _calls_a_library(item):
    fn = getattr(item, "function", None)
    if fn is None:
        return False
    code = fn.__code__
    if set(code.co_names) & LIVE_HELPERS or set(getattr(item, "fixturenames", ())) & LIVE_FIXTURES:
        return True
    strings = {c for c in code.co_consts if isinstance(c, str)}
    return "importorskip" in code.co_names and bool(strings & LIVE_LIBRARIES)


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        if _calls_a_library(item):
            item.add_marker(pytest.mark.live)
