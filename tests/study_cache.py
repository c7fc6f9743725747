"""Study results at the tiny scale, computed once per test process and shared by its tests."""

_RESULTS = {}


def tiny_results(study):
    """``study.run("tiny")``, run at most once per process for each study module."""
    if study.NAME not in _RESULTS:
        _RESULTS[study.NAME] = study.run("tiny")
    return _RESULTS[study.NAME]
