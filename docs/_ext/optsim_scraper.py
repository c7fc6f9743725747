"""A sphinx-gallery image scraper for optsim's figures.

:func:`optsim.plotting.new_figure` makes figures without pyplot (so that drawing never
depends on a display or a backend), which matplotlib's own scraper does not see.  This one
saves every :class:`matplotlib.figure.Figure` that an example's code block leaves in the
example's namespace, once each.
"""


def scrape(block, block_vars, gallery_conf, **kwargs):
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault("optsim_saved_figures", set())
    figures = [v for v in block_vars["example_globals"].values() if isinstance(v, Figure) and id(v) not in seen]
    paths = []
    for fig, path in zip(figures, block_vars["image_path_iterator"]):
        fig.savefig(path, dpi=110)
        seen.add(id(fig))
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


def _get_sg_image_scraper():
    return scrape
