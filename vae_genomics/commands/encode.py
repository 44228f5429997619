"""``vae-genomics encode RUN``: a run's posterior codes of its own or another VCF's haplotypes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from vae_genomics.commands.options import check_input_file, check_out, start_tensorflow

log = logging.getLogger(__name__)


def encode_run(
    run_dir: str | Path, out: str | Path, vcf: str | Path | None = None, overwrite: bool = True
) -> Path | None:
    """Embed haplotypes with a run's encoder and write a latent TSV.

    Without ``vcf`` the run's own haplotypes are embedded (``split`` says train or validation).
    With ``vcf``, the haplotypes of that file at the section's sites (same contig, positions,
    REF and ALT; ``split`` = ``external``); every site must be present.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).
        out: Output TSV path, or ``-`` for standard output.
        vcf: Optional phased VCF/BCF to embed instead of the run's data.
        overwrite: Replace an existing ``out`` (else the final rename is exclusive: of two jobs
            writing one file, one is refused).

    Returns:
        The written path (None for standard output).
    """
    from vae_genomics.data.at_sites import read_section_haplotypes
    from vae_genomics.data.latent_tsv import write_latent_tsv
    from vae_genomics.models.inference import encode
    from vae_genomics.run.load import load_run

    run = load_run(run_dir)
    matrix = run.data.matrix
    if vcf is None:
        x = matrix.haplotypes
        split = np.full(len(x), "train", dtype=object)
        split[run.val_rows] = "validation"
        ids, samples = matrix.haplotype_ids, matrix.haplotype_samples
        populations = run.data.populations
    else:
        found = read_section_haplotypes(
            vcf, run.data.section.contig, matrix.positions, matrix.ref, matrix.alt
        )
        x, ids, samples = found.haplotypes, found.haplotype_ids, found.haplotype_samples
        split = np.full(len(x), "external", dtype=object)
        populations = None
    mean, log_var = encode(run.model, x)
    return write_latent_tsv(
        out, ids, samples, mean, log_var, populations=populations, split=split, overwrite=overwrite
    )


def run_command(args: argparse.Namespace) -> None:
    check_input_file(args.vcf, "--vcf")  # before TensorFlow starts: a refusal comes at once
    if str(args.out) == "-":  # the table on standard output
        from vae_genomics.run.directory import resolve_run_dir

        resolve_run_dir(args.run)
    else:
        check_out(args, args.vcf)
    start_tensorflow(args)
    latent = encode_run(args.run, args.out, vcf=args.vcf, overwrite=args.overwrite)
    if latent is not None:
        print(f"latent: {latent}")
