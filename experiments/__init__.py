"""Research scripts: the measurements behind the defaults, recorded in experiments/notebook/.

Not part of the ``vae_genomics`` package (nor of its wheel); run them from the repository root as
``python -m experiments.<name> ...`` (``--help`` for each one's options). Result tables go to
experiments/results/.
"""
