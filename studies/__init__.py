"""Research studies: one module per question (see optsim.studies_runner)."""
