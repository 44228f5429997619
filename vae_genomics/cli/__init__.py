"""The ``vae-genomics`` command line: parse the arguments and dispatch to :mod:`vae_genomics.commands`."""

from vae_genomics.cli.main import main

__all__ = ["main"]
