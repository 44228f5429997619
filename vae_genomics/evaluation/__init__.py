"""Evaluation: numbers computed from arrays and models (no files)."""

#: The generator of ``sample``, of the report's generated set and of the sweep's rule (defined here,
#: without heavy imports, so the command line can name it; see
#: :mod:`vae_genomics.evaluation.generators` and docs/experiments.md, "Generators").
DEFAULT_GENERATOR = "aggregate:1.5/ld:16:0.7"
