"""``vae-genomics sample --region/--sections/--runs --populations``: a region's synthetic cohort
by ancestry, each population's haplotypes a mosaic of that population's training haplotypes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.common.errors import RunError

log = logging.getLogger(__name__)


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


def evaluate_groups(
    loaded: Any, first: Any, drawn: dict[str, np.ndarray], seed: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Each group's synthetic haplotypes against that group's real ones over the region
    (:func:`vae_genomics.evaluation.region.evaluate_region`): coverage, boundary LD, privacy and
    SFS beside the group's own ceiling (its training against its held-out haplotypes).

    Args:
        loaded: The loaded region.
        first: Its first section's run (the populations of the region's rows).
        drawn: Group → synthetic haplotypes over the region.
        seed: Seed of the evaluation.

    Returns:
        Group → the ``summary`` rows of the group's ceiling and of its synthetic set, the numbers of
        training and held-out haplotypes, and its boundary track (a group with fewer than two
        held-out haplotypes is listed with ``skipped`` and the reason); and group → its held-out
        real haplotypes over the region.
    """
    from vae_genomics.evaluation.boundary_ld import CEILING
    from vae_genomics.evaluation.region import evaluate_region

    rows0 = loaded.section_rows(0)
    labels = [np.asarray(first.data.populations, dtype=str)[rows0]]
    if first.superpopulations is not None:
        labels.append(np.asarray(first.superpopulations, dtype=str)[rows0])
    out: dict[str, Any] = {}
    real: dict[str, np.ndarray] = {}
    for name, x in drawn.items():
        mask = np.zeros(len(rows0), dtype=bool)
        for column in labels:
            mask |= column == name
        train = loaded.train_rows[mask[loaded.train_rows]]
        val = loaded.val_rows[mask[loaded.val_rows]]
        if len(val) < 2:
            out[name] = {"skipped": f"{len(val)} held-out haplotypes of {name} in the region"}
            continue
        hap = loaded.haplotypes
        real[name] = hap[val]
        metrics = evaluate_region(hap[train], hap[val], {name: x}, loaded.positions,
                                  loaded.offsets, seed=seed)  # fmt: skip
        out[name] = {
            "n_train": len(train), "n_validation": len(val),
            "ceiling": metrics["summary"][CEILING], "synthetic": metrics["summary"][name],
            "boundary_track": metrics["boundary_track"]["sets"][name],
        }  # fmt: skip
    return out, real


def run_region_populations(args: argparse.Namespace) -> None:
    """``sample --region ... --populations NAME:COUNT,...``: check, draw, write the VCF and its
    populations table (called by :func:`vae_genomics.commands.sample_populations.run_populations`).

    Raises:
        RunError: RUN given as well, no ``--out`` file, or a joint model other than ``mosaic``.
        DataError: A request the region's runs cannot meet (unknown name, odd count, too few
            training haplotypes), as for one section.
    """
    from vae_genomics.commands.options import start_tensorflow, table_path
    from vae_genomics.commands.population_request import resolve_request
    from vae_genomics.commands.privacy_gate import gate, region_generator, write_record
    from vae_genomics.commands.region_vcf import write_region_vcf
    from vae_genomics.commands.release_gate import region_release_gate
    from vae_genomics.commands.sample_populations import populations_table, sample_names
    from vae_genomics.common.io import atomic_write_text, check_output_path
    from vae_genomics.data.packed import PackedHaplotypes
    from vae_genomics.run.directory import run_inputs
    from vae_genomics.run.region import load_region

    runs_dir, switch_sites = _check_request(args)
    start_tensorflow(args)
    from vae_genomics.generate.region import DEFAULT_DECODER
    from vae_genomics.generate.region_groups import sample_region_groups

    loaded = load_region(runs_dir, args.sections, args.region)
    record = gate(
        loaded.sections,
        args.privacy,
        region_generator(args.decoder),
        f"populations of region {loaded.name}",
    )
    first = loaded.sections[0]
    haplotypes, groups = resolve_request(first, args.populations, args.n, args.individuals)
    out = Path(args.out)
    inputs = [p for run in loaded.sections for p in run_inputs(run.run_dir)]
    numbers = table_path(out, "populations.json")
    for path in (out, Path(f"{out}.tbi"), table_path(out), numbers, numbers.with_suffix(".png")):
        check_output_path(path, args.overwrite, inputs)
    seed = loaded.seed if args.seed is None else args.seed
    decoder = args.decoder or DEFAULT_DECODER
    # a block of haplotypes at a time, held as bits: every group's rows of one matrix
    every = PackedHaplotypes(sum(haplotypes.values()), len(loaded.positions))
    drawn = sample_region_groups(
        loaded, region_groups(loaded, first, groups), haplotypes, seed, decoder, args.neighbours,
        switch_sites, packed=True, out=every,
    )  # fmt: skip
    asked = "|".join(f"{name}:{count}" for name, count in haplotypes.items())
    region_release_gate(loaded, every, record, f"populations of region {loaded.name}")
    vcf = write_region_vcf(
        loaded, every, out,
        f",joint=mosaic,decoder={decoder},seed={seed},switch_sites={switch_sites},"
        f"populations={asked}",
        " ".join(["vae-genomics", *args.argv]), args.overwrite, sample_names(drawn),
    )  # fmt: skip
    table = table_path(out)
    atomic_write_text(table, populations_table(first, drawn), args.overwrite)
    write_record(vcf, record)
    print(f"vcf:    {vcf}")
    print(f"table:  {table}")
    if not args.no_report:
        _report_groups(loaded, first, drawn, seed, numbers, record, vcf, args.overwrite)


def _check_request(args: argparse.Namespace) -> tuple[Path, int]:
    """Everything checked before TensorFlow starts: the options, the memory estimate, ``--out``
    and the request against the first section's stored labels. Returns the runs directory and the
    mosaic's switch sites."""
    from vae_genomics.commands.options import check_sample_out
    from vae_genomics.commands.population_request import check_region_request_early, parse_counts
    from vae_genomics.commands.sample_region_options import check_group_draw, group_switch_sites
    from vae_genomics.run.limits import check_region_size

    if args.run is not None:
        raise RunError("give either RUN or --runs/--region/--sections, not both")
    check_group_draw(
        args.out, args.joint, "sample --populations over a region", "each population's"
    )
    runs_dir = args.runs or Path("runs")
    counts = parse_counts(args.populations, "individuals" if args.individuals else "haplotypes")
    switch_sites = group_switch_sites(args.switch_sites)
    total = sum(counts.values()) * (2 if args.individuals else 1)
    check_region_size(runs_dir, args.sections, args.region, total, args.max_memory, in_blocks=True)
    check_sample_out(args)
    check_region_request_early(
        runs_dir, args.sections, args.region, args.populations, args.n, args.individuals
    )
    return runs_dir, switch_sites


def _report_groups(
    loaded: Any,
    first: Any,
    drawn: dict[str, Any],
    seed: int,
    numbers: Path,
    record: dict[str, Any],
    vcf: Path,
    overwrite: bool,
) -> None:
    """Score each population's haplotypes against its own real ones (:func:`evaluate_groups`),
    write the scores, the budget's verdict per group and the PCA panel, and log each group's line.

    Args:
        loaded: The loaded region.
        first: Its first section's run.
        drawn: Population → synthetic haplotypes over the region (arrays, or bits unpacked here).
        seed: Seed of the evaluation.
        numbers: The scores' JSON (the PCA panel beside it, ``.png``).
        record: The privacy gate's record, rewritten beside ``vcf`` with ``groups``.
        vcf: The VCF written.
        overwrite: Replace existing files.
    """
    from vae_genomics.commands.privacy_gate import group_budget, write_record
    from vae_genomics.common.io import write_json
    from vae_genomics.report.population_pca import population_pca_figure

    drawn = {name: np.asarray(x) for name, x in drawn.items()}  # scored as arrays
    scores, real = evaluate_groups(loaded, first, drawn, seed)
    write_json(numbers, scores, overwrite)
    record["groups"] = group_budget(record, scores)
    write_record(vcf, record)
    figure = population_pca_figure(
        loaded.haplotypes[loaded.train_rows], real, {k: drawn[k] for k in real},
        numbers.with_suffix(".png"), overwrite,
    )  # fmt: skip
    for name, row in scores.items():
        if "skipped" in row:
            log.warning("%s: not evaluated (%s)", name, row["skipped"])
            continue
        syn, second = row["synthetic"], row["ceiling"].get("boundaries_at_target")
        log.info(
            "%s over the region: boundary LD r %.3f × its ceiling (%.0f%% of boundaries at 0.9×; "
            "a second real sample: %s), coverage PCA %.3f ×, Hamming %.3f ×, privacy loss %.3f "
            "(ceiling %.3f)", name,
            syn["boundary_ld_r_fraction"] or float("nan"), 100 * (syn["boundaries_at_target"] or 0),
            "n/a" if second is None else f"{second:.0%}",
            syn["coverage_pca_fraction"] or float("nan"),
            syn["coverage_hamming_fraction"] or float("nan"), syn["privacy_loss"],
            row["ceiling"]["privacy_loss"],
        )  # fmt: skip
    print(f"scores: {numbers}")
    print(f"figure: {figure}")
