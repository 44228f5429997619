"""Generation: code sources and decoders that turn trained models into synthetic haplotypes.

Every generator is a code source (prior, mixtures, aggregate posterior, region models) and a
decoder (Bernoulli, temperature, calls, the ``ld`` head), optionally with a copy guard; see
:mod:`vae_genomics.generate.generators`. This package takes models and arrays and returns arrays:
it reads and writes no run directory.
"""

#: The generator of ``sample``, of the report's generated set and of the sweep's rule (defined here,
#: without heavy imports, so the command line can name it; see
#: :mod:`vae_genomics.generate.generators` and experiments/notebook/generators.md, "Generators").
DEFAULT_GENERATOR = "aggregate:1.5/ld:16:0.7"
