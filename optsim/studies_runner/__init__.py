"""The study runner's old address: ``optsim.studies_runner`` forwards to ``studies._runner``.

The runner, the studies and the figures form the research layer, which lives apart from the
library: the ``studies`` and ``figures`` packages of the repository (installed with the
library by ``pip install -e .``).  This module imports nothing of it when it is imported: a
name is looked up in ``studies._runner`` only when it is first asked for (a module
``__getattr__``), so ``import optsim`` and every library module stay free of the research
layer while old code (``from optsim import studies_runner as sr; sr.run_study(...)``) keeps
working.
"""

import importlib
import os
import sys
from pathlib import Path

_TARGET = "studies._runner"


def research_layer():
    """The runner module ``studies._runner``, imported on first use.

    An editable install made before the research packages were installed with the library
    does not map them; then the repository root is ``$OPTSIM_ROOT`` or the working
    directory, where the commands are documented to run from.  Raises ``ModuleNotFoundError``
    saying what to do when the research layer is absent.
    """
    try:
        return importlib.import_module(_TARGET)
    except ModuleNotFoundError as exc:
        if exc.name not in ("studies", _TARGET):
            raise
    for base in (os.environ.get("OPTSIM_ROOT"), os.getcwd()):
        if base and (Path(base) / "studies" / "_runner.py").is_file():
            root = str(Path(base).resolve())
            if root not in sys.path:
                sys.path.insert(0, root)
            importlib.invalidate_caches()
            return importlib.import_module(_TARGET)
    raise ModuleNotFoundError(
        "the research layer (the studies and figures packages of the optsim repository) is not "
        "installed: run `pip install -e .` in a clone of the repository, or run from its root",
        name="studies",
    )


def __getattr__(name):
    if name.startswith("__") and name != "__all__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(research_layer(), name)


def __dir__():
    return sorted(set(globals()) | set(dir(research_layer())))
