"""The parts of :func:`optsim.sweep`, one concern per module, imported in this order only.

``keywords``  the sweep's keyword set: name, default, check, doc (one table for
              ``sweep``, ``build_plan``, the TOML loader and the CLI)
``spec``      :class:`Method` and the resolution of parameter names in components
``grid``      grid axes and recorded steps
``plan``      validation and flattening into a :class:`optsim.engine.plan.Plan`
``assemble``  the labelled Datasets (full and reduced over replicates) and the spec
``run``       running a plan: chunks, the store, Dask, and the memory check of a plan

The memory a sweep will take is sized, before anything is allocated, by
:mod:`optsim._budget` (which ``plan`` asks).

Each module imports only those above it; :mod:`optsim.sweep` re-exports the public names.
"""
