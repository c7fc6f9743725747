"""Sphinx configuration of optsim's documentation site.

Build it with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` after
``pip install -e '.[docs]'``.  Nothing is fetched from the internet: MathJax comes from the
``django-static-mathjax`` package and is copied into the site, so the pages work offline.
The pages that depend on the code (the component tables, the conventions table, one page per
study and per lecture, the performance tables, the explorers) are written into
``docs/generated/`` when the build starts, by ``docs/_ext/optsim_pages.py``.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

os.environ.setdefault("MPLBACKEND", "Agg")

import optsim  # noqa: E402

project = "optsim"
author = "the optsim authors"
copyright = "the optsim authors, BSD-3-Clause"
version = release = optsim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "optsim_pages",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "sg_execution_times.rst", "generated/component_tables.md", "generated/performance_summary.md", "generated/performance_reports.md", "generated/gallery/*.ipynb", "gallery_scripts/**", "explorers/*.rst", "explorers/*.md", "verdicts/**",
                    "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# -- the API reference -------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

# -- markdown ----------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]

# -- maths, offline: a local copy of MathJax 3 ----------------------------------------------
html_static_path = ["_static", "generated/static"]
mathjax_path = "mathjax/tex-chtml.js"

# -- the gallery: tiny sweeps, a few seconds each ------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "gallery_scripts",
    "gallery_dirs": "generated/gallery",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "image_scrapers": ("optsim_scraper",),
    "reset_modules": ("matplotlib",),
    "min_reported_time": 10**6,
    "show_signature": False,
    "write_computation_times": False,   # its page would fetch DataTables from a CDN
}

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"optsim {version}"
html_theme_options = {
    "navigation_depth": 3,
    "show_toc_level": 2,
    "navbar_align": "left",
    # the wide tables of these pages get the room of the page's table of contents
    "secondary_sidebar_items": {"**": ["page-toc"], "generated/conventions": [], "generated/studies": [],
                                "generated/lectures": [], "generated/api": [], "user_guide/components": []},
    "footer_start": ["copyright"],
    "footer_end": [],
}
# pages without children get no (empty) section navigation
html_sidebars = {"**": ["sidebar-nav-bs"], "index": [], "getting_started": [], "GUIDE": [], "performance": [],
                 "generated/explorers": []}
html_context = {"default_mode": "auto"}
html_show_sourcelink = False
html_copy_source = False
html_css_files = ["optsim.css"]
# the explorers (self-contained HTML pages) are copied to explorers/ at the site's root
html_extra_path = ["generated/extra"]
