"""``vae-genomics sample --region/--sections/--runs --populations``: a region's synthetic cohort
by ancestry, each population's haplotypes a mosaic of that population's training haplotypes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.common.errors import RunError


def region_groups(loaded: Any, first: Any, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Groups of the first section's training rows as positions in the region's training rows
    (matched by haplotype ID; every section holds the same training haplotypes)."""
    ids_first = np.asarray(first.data.matrix.haplotype_ids)[first.train_rows]
    ids_region = np.asarray(loaded.haplotype_ids)[loaded.train_rows]
    where = {str(h): i for i, h in enumerate(ids_region)}
    return {
        name: np.asarray([where[str(h)] for h in ids_first[rows]], dtype=np.int64)
        for name, rows in groups.items()
    }


def run_region_populations(args: argparse.Namespace) -> None:
    """``sample --region ... --populations NAME:COUNT,...``: check, draw, write the VCF and its
    populations table (called by :func:`vae_genomics.commands.sample_populations.run_populations`).

    Raises:
        RunError: RUN given as well, no ``--out`` file, or a joint model other than ``mosaic``.
        DataError: A request the region's runs cannot meet (unknown name, odd count, too few
            training haplotypes), as for one section.
    """
    from vae_genomics.commands.options import start_tensorflow
    from vae_genomics.commands.region_vcf import write_region_vcf
    from vae_genomics.commands.sample_populations import (
        parse_counts,
        populations_table,
        resolve_request,
        sample_names,
        table_path,
    )
    from vae_genomics.common.io import atomic_write_text, check_output_path
    from vae_genomics.generate.region import DEFAULT_DECODER, sample_region_groups
    from vae_genomics.run.directory import run_inputs
    from vae_genomics.run.limits import check_region_size
    from vae_genomics.run.region import load_region

    if args.run is not None:
        raise RunError("give either RUN or --runs/--region/--sections, not both")
    if args.out is None or str(args.out) == "-":
        raise RunError("sample --populations over a region: give --out FILE.vcf.gz")
    if args.joint not in (None, "mosaic"):
        raise RunError("sample --populations over a region draws each population's mosaic: "
                       f"--joint {args.joint} is not available with it")  # fmt: skip
    runs_dir = args.runs or Path("runs")
    counts = parse_counts(args.populations, "individuals" if args.individuals else "haplotypes")
    total = sum(counts.values()) * (2 if args.individuals else 1)
    check_region_size(runs_dir, args.sections, args.region, total, args.max_memory)
    start_tensorflow(args)
    loaded = load_region(runs_dir, args.sections, args.region)
    first = loaded.sections[0]
    haplotypes, groups = resolve_request(first, args.populations, args.n, args.individuals)
    out = Path(args.out)
    inputs = [p for run in loaded.sections for p in run_inputs(run.run_dir)]
    for path in (out, Path(f"{out}.tbi"), table_path(out)):
        check_output_path(path, args.overwrite, inputs)
    seed = loaded.seed if args.seed is None else args.seed
    decoder = args.decoder or DEFAULT_DECODER
    drawn = sample_region_groups(
        loaded, region_groups(loaded, first, groups), haplotypes, seed, decoder, args.neighbours
    )
    asked = "|".join(f"{name}:{count}" for name, count in haplotypes.items())
    vcf = write_region_vcf(
        loaded, np.concatenate(list(drawn.values())), out,
        f",joint=mosaic,decoder={decoder},seed={seed},populations={asked}",
        " ".join(["vae-genomics", *args.argv]), args.overwrite, sample_names(drawn),
    )  # fmt: skip
    table = table_path(out)
    atomic_write_text(table, populations_table(first, drawn))
    print(f"vcf:    {vcf}")
    print(f"table:  {table}")
