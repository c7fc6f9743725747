"""optsim's figure style: the style sheet and Agg figures without pyplot (see :mod:`optsim.plotting`)."""

from __future__ import annotations

import contextlib
from pathlib import Path

__all__ = ["STYLE", "use_style", "new_figure"]

STYLE = Path(__file__).with_name("optsim.mplstyle")


@contextlib.contextmanager
def use_style():
    """A context in which matplotlib uses optsim's style sheet."""
    import matplotlib.style

    with matplotlib.style.context(str(STYLE)):
        yield


def new_figure(nrows=1, ncols=1, **kwargs):
    """A (Figure, axes) pair drawn with the Agg backend, without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=kwargs.pop("figsize", None))
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
    return fig, axes
