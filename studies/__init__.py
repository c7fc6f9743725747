"""Research studies: one module per question, run by the study runner (``studies._runner``).

With the figures (the ``figures`` package) they are the research layer, which the library
(``optsim``) never imports.  ``pip install -e .`` installs both packages with the library.
"""
