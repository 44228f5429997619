"""``vae-genomics cache``: convert a VCF once into the VCF Zarr cache."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger("vae_genomics")


def run_command(args: argparse.Namespace) -> None:
    from vae_genomics.config import load_config
    from vae_genomics.data import write_cache
    from vae_genomics.data.vcf import read_sample_file

    config = load_config(args.config)
    vcf = args.vcf or config.data.vcf
    out = args.out or config.data.cache
    if out is None:
        from vae_genomics.common.errors import ConfigError

        raise ConfigError("cache: give --out DIR (or set data.cache in the --config file).")
    if args.vcf is not None:  # the configured one is named by check_file's own message
        from vae_genomics.commands.options import check_input_file

        check_input_file(args.vcf, "cache")
    samples = read_sample_file(args.samples) if args.samples else None
    path = write_cache(vcf, out, samples, args.chunk_variants, overwrite=args.overwrite)
    print(f"cache: {path}")
