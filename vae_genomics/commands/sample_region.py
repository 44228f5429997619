"""``vae-genomics sample --region/--sections/--runs``: sample a region, write its VCF and page.

Writes into the output's directory (default ``<runs_dir>/regions/<region>/``):

- ``<name>.vcf.gz`` (+ ``.tbi``): ``n`` synthetic haplotypes over the region from the chosen joint
  model, one record per site, in genome order;
- ``region.json`` and ``index.html`` (unless ``report=False``; outside the default place, named
  after the VCF: ``report.regions.region_files``): the region's evaluation, in which
  the chosen model's samples are compared, at the held-out set's size, with the other joint
  models (independent sampling as the floor) and with the real-vs-real ceiling.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.commands.region_vcf import RegionDraws, draw_region_vcf
from vae_genomics.commands.sample_region_options import check_region_options
from vae_genomics.common.io import write_json
from vae_genomics.data.export import check_haplotype_count
from vae_genomics.generate.joint import JOINT_MODELS
from vae_genomics.generate.mosaic import DEFAULT_SWITCH_SITES
from vae_genomics.generate.region import DEFAULT_GROUPS
from vae_genomics.report.regions import region_files
from vae_genomics.run.limits import check_region_size
from vae_genomics.run.region import LoadedRegion, load_region
from vae_genomics.run.region_sections import REGIONS_DIR

log = logging.getLogger(__name__)

#: Joint latent model of ``sample --region`` (chosen by measurement:
#: experiments/notebook/region-mosaic.md, "Regions").
DEFAULT_JOINT = "mosaic"


@dataclass
class RegionResult:
    """What a region run wrote."""

    vcf: Path
    page: Path | None
    metrics: dict[str, Any] | None


def run_region(
    runs_dir: str | Path,
    n: int,
    out: str | Path | None = None,
    sections: Sequence[str] | None = None,
    region: str | None = None,
    joint: str = DEFAULT_JOINT,
    seed: int | None = None,
    source: str | None = None,
    max_components: int | None = None,
    report: bool = True,
    decoder: str | None = None,
    neighbours: int | None = None,
    overwrite: bool = False,
    command: str = "",
    groups: str | None = None,
    switch_sites: int | None = None,
    max_memory: int | str | None = None,
    privacy: str | None = None,
    size_checked: bool = False,
) -> RegionResult:
    """Sample a region and write its VCF (and its page).

    Args:
        runs_dir: Runs directory holding the sections' runs.
        n: Number of haplotypes (even).
        out: Output VCF (default ``<runs_dir>/regions/<region>/<region>.vcf.gz``).
        sections: Section names, or None.
        region: ``contig:start-end``, or None (neither: every trained section).
        joint: Joint latent model of the VCF: ``chain``, ``joint`` or ``independent``.
        seed: Seed of the draws (default: the sections' seed).
        source: Codes the joint models are fitted on: ``means`` (posterior means) or ``samples``
            (z ~ q(z|x)); default :data:`vae_genomics.generate.region.DEFAULT_SOURCE`.
        max_components: Largest number of components of each mixture (chosen by BIC); default
            :data:`vae_genomics.generate.region.DEFAULT_MAX_COMPONENTS`.
        report: Also evaluate every joint model and write ``region.json`` and ``index.html``.
        decoder: Decoder rule of the alleles (default
            :data:`vae_genomics.generate.region.DEFAULT_DECODER`).
        neighbours: Candidates of each switch of the ``mosaic`` model (default
            :func:`vae_genomics.generate.mosaic.default_neighbours` of the training haplotypes).
        groups: Labels the ``mosaic`` switches stay within: ``superpopulation``, ``population``
            or ``none`` (:func:`vae_genomics.generate.region.training_groups`; default
            :data:`vae_genomics.generate.region.DEFAULT_GROUPS`).
        switch_sites: The ``mosaic``'s switch at a boundary goes to the candidates nearest in the
            alleles of the last ``switch_sites`` sites before it (0: nearest in the latent space
            of the section before; :func:`vae_genomics.generate.region.boundary_alleles`;
            default :data:`vae_genomics.generate.mosaic.DEFAULT_SWITCH_SITES`).
        overwrite: Replace an existing ``out`` (otherwise an existing file is refused).
        command: The command line, for the VCF's ``##source`` line.
        max_memory: Largest memory estimate of the draws (``common.limits``; default 4 GB).
        privacy: The privacy budget every section must meet before anything is drawn
            (:mod:`vae_genomics.commands.privacy_gate`), or None for the sections'
            ``generation.privacy``; recorded in ``<out>.privacy.json``, and the region's own
            numbers are checked against it in ``region.json`` (``privacy_budget``).
        size_checked: The caller has already refused a request over ``max_memory``
            (:func:`vae_genomics.run.limits.check_region_size` with these arguments, as the CLI
            does before TensorFlow starts), so it is not estimated twice.

    Returns:
        The paths written and the evaluation (None without ``report``).

    Raises:
        RunError: ``out`` exists and ``overwrite`` is false, or the sections disagree.
        DataError: An unknown joint model, decoder or group level, or a count below its floor.
        PrivacyBudgetError: A section misses the budget, or the attack on the haplotypes drawn
            (each section's block, then the region's) does at their number (nothing is written).
    """
    from vae_genomics.commands.privacy_gate import (
        gate,
        region_budget,
        region_generator,
        write_record,
    )
    from vae_genomics.generate.mosaic import default_neighbours
    from vae_genomics.generate.region import fit_region_head, training_groups

    check_haplotype_count(n)
    groups = DEFAULT_GROUPS if groups is None else groups
    switch_sites = DEFAULT_SWITCH_SITES if switch_sites is None else switch_sites
    decoder, source, max_components = check_region_options(
        joint, decoder, source, max_components, neighbours, out, groups, switch_sites
    )  # the options first: nothing is read for a command that cannot run
    if not size_checked:
        check_region_size(runs_dir, sections, region, n, max_memory, streamed=True)
    loaded = load_region(runs_dir, sections, region)
    record = gate(loaded.sections, privacy, region_generator(decoder), f"region {loaded.name}")
    seed = loaded.seed if seed is None else seed
    if neighbours is None:
        neighbours = default_neighbours(len(loaded.train_rows))
    out, files = _region_outputs(runs_dir, loaded, out, overwrite, report)
    kinds = [joint, *(k for k in JOINT_MODELS if k != joint)] if report else [joint]
    labels = training_groups(loaded, groups)
    if labels is None and groups != "none" and joint == "mosaic":
        log.info("the sections were trained without a populations table: the mosaic's "
                 "switches are not kept within %ss", groups)  # fmt: skip
    models, seconds = _fit_models(
        loaded, kinds, source, max_components, neighbours, labels, switch_sites
    )
    head = fit_region_head(loaded, decoder, seed=loaded.seed)
    draws = RegionDraws(loaded, models[joint], n, seed, decoder, head)
    note = f",joint={joint},mosaic_groups={groups},switch_sites={switch_sites}"
    note += f",decoder={decoder},seed={seed}"
    n_kept = max(len(loaded.val_rows), 2) if report else 0
    # drawn and released: the old page and numbers go before the old VCF is replaced
    stale = (lambda: _drop_stale_report(out, runs_dir, loaded)) if overwrite else None
    vcf, kept = draw_region_vcf(draws, record, out, n_kept, note, command, overwrite, stale)
    if not report:
        write_record(vcf, record)
        return RegionResult(vcf, None, None)
    sets = _evaluation_sets(loaded, models, joint, kept, seed, decoder, head)
    metrics = _region_metrics(loaded, sets, seed)
    metrics["sampling"] = {
        "joint": joint, "decoder": decoder, "source": source, "max_components": max_components,
        "neighbours": neighbours, "mosaic_groups": groups, "switch_sites": switch_sites,
        "seed": seed, "n": n, "vcf": vcf.name,
        "groups": None if labels is None else sorted(set(labels.tolist())),
        "components": {kind: model.components() for kind, model in models.items()},
        "fit_seconds": seconds,
    }  # fmt: skip
    record["region"] = metrics["privacy_budget"] = region_budget(
        record, metrics, joint, len(loaded.train_rows)
    )
    write_record(vcf, record)
    page = _write_report(files, metrics, runs_dir, vcf, overwrite)  # type: ignore[arg-type]
    return RegionResult(vcf, page, metrics)


def _region_outputs(
    runs_dir: str | Path,
    loaded: LoadedRegion,
    out: str | Path | None,
    overwrite: bool,
    report: bool,
) -> tuple[Path, tuple[Path, Path] | None]:
    """The region's VCF and its report files, each checked against existing files and the inputs.

    Args:
        runs_dir: Runs directory holding the sections' runs.
        loaded: The loaded region.
        out: Output VCF, or None (``<runs_dir>/regions/<region>/<region>.vcf.gz``).
        overwrite: Replace existing files.
        report: Whether ``region.json`` and ``index.html`` are written too.

    Returns:
        The VCF's path and the report's two files (None without ``report``).

    Raises:
        RunError: ``out`` exists and ``overwrite`` is false, or an output is an input of the
            sections' runs.
    """
    from vae_genomics.common.io import check_output_path
    from vae_genomics.run.directory import run_inputs

    out = Path(out) if out else Path(runs_dir) / REGIONS_DIR / loaded.name / f"{loaded.name}.vcf.gz"
    # never over an input of the sections' runs (their directories, VCF, index, populations)
    inputs = [p for run in loaded.sections for p in run_inputs(run.run_dir)]
    check_output_path(out, overwrite, inputs)
    check_output_path(Path(f"{out}.tbi"), overwrite, inputs)
    files = region_files(out, runs_dir, overwrite, inputs) if report else None
    return out, files


def _drop_stale_report(out: Path, runs_dir: str | Path, loaded: LoadedRegion) -> None:
    """Remove the page and numbers of the sample ``out`` is about to replace: a job killed between
    the new VCF and its page leaves a VCF without a page, never one describing another sample.

    Args:
        out: The region's VCF.
        runs_dir: Runs directory holding the sections' runs.
        loaded: The loaded region (its sections' inputs are never touched).
    """
    from vae_genomics.run.directory import run_inputs

    inputs = [p for run in loaded.sections for p in run_inputs(run.run_dir)]
    for stale in region_files(out, runs_dir, True, inputs):
        if stale.is_file() or stale.is_symlink():
            stale.unlink()


def _fit_models(
    loaded: LoadedRegion,
    kinds: Sequence[str],
    source: str,
    max_components: int,
    neighbours: int,
    groups: np.ndarray | None = None,
    switch_sites: int = 0,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Fit the region's joint latent models, timing each.

    Args:
        loaded: The loaded region.
        kinds: Joint models to fit (:data:`~vae_genomics.generate.joint.JOINT_MODELS`).
        source: Codes the models are fitted on: ``means`` or ``samples``.
        max_components: Largest number of components of each mixture.
        neighbours: Candidates of each switch of the ``mosaic`` model.
        groups: A label per training haplotype the ``mosaic`` switches stay within, or None.
        switch_sites: Sites before each boundary the ``mosaic``'s switches are chosen on (0: its
            latent space).

    Returns:
        The fitted models and the seconds each fit took, by kind.
    """
    from vae_genomics.generate.region import fit_region_model

    models, seconds = {}, {}
    for kind in kinds:
        started = time.perf_counter()
        models[kind] = fit_region_model(
            loaded,
            kind,
            source,  # type: ignore[arg-type]
            max_components=max_components,
            neighbours=neighbours,
            groups=groups,
            switch_sites=switch_sites,
        )
        seconds[kind] = round(time.perf_counter() - started, 2)
    return models, seconds


def _evaluation_sets(
    loaded: LoadedRegion,
    models: dict[str, Any],
    joint: str,
    haplotypes: np.ndarray,
    seed: int,
    decoder: str,
    head: Any,
) -> dict[str, np.ndarray]:
    """Samples of every joint model at the held-out set's size (at least 2) for the evaluation.

    Args:
        loaded: The loaded region.
        models: Fitted joint models, by kind.
        joint: The model of the VCF: its haplotypes are reused when there are enough.
        haplotypes: The VCF's haplotypes.
        seed: Seed of the draws.
        decoder: Decoder rule of the alleles.
        head: The region's fitted decoder head (``fit_region_head``).

    Returns:
        Haplotypes by kind.
    """
    from vae_genomics.generate.region import sample_region

    n_eval = max(len(loaded.val_rows), 2)
    return {
        kind: haplotypes
        if kind == joint and len(haplotypes) >= n_eval
        else sample_region(loaded, model, n_eval, seed, decoder, head)
        for kind, model in models.items()
    }  # fmt: skip


def _region_metrics(loaded: LoadedRegion, sets: dict[str, np.ndarray], seed: int) -> dict[str, Any]:
    """The region's evaluation (``region.json``) without its ``sampling`` entry.

    Args:
        loaded: The loaded region.
        sets: Generated haplotypes by joint model (:func:`_evaluation_sets`).
        seed: Seed of the evaluation.

    Returns:
        The metrics, with the region's description under ``region``.
    """
    from vae_genomics.evaluation.region import evaluate_region

    x = loaded.haplotypes
    x_train, x_val = x[loaded.train_rows], x[loaded.val_rows]
    metrics = evaluate_region(x_train, x_val, sets, loaded.positions, loaded.offsets, seed=seed)
    metrics["region"] = {
        "name": loaded.name,
        "contig": loaded.contig,
        "start": loaded.start,
        "end": loaded.end,
        "sections": loaded.section_names,
        "section_runs": [str(run.run_dir) for run in loaded.sections],
        "boundaries": [int(loaded.positions[o]) for o in loaded.offsets[1:-1]],
        "n_sites": len(loaded.positions),
        "n_train": len(loaded.train_rows),
        "n_validation": len(loaded.val_rows),
    }
    return metrics


def _write_report(
    files: tuple[Path, Path],
    metrics: dict[str, Any],
    runs_dir: str | Path,
    vcf: Path,
    overwrite: bool,
) -> Path:
    """Write ``region.json`` and the region's page, which links the runs' index when the VCF lies
    below the runs directory.

    Args:
        files: The JSON file and the page (``report.regions.region_files``).
        metrics: The region's evaluation.
        runs_dir: Runs directory.
        vcf: The region's VCF.
        overwrite: Replace existing files.

    Returns:
        The page's path.
    """
    from vae_genomics.report.region_page import write_region_page

    write_json(files[0], metrics, overwrite)
    runs_index = Path(runs_dir).resolve() / "index.html"
    link = (
        os.path.relpath(runs_index, vcf.parent.resolve())
        if vcf.parent.resolve().is_relative_to(Path(runs_dir).resolve())
        else None
    )
    from vae_genomics.report.index import section_tracks
    from vae_genomics.report.track import chromosome_track

    prefix = os.path.relpath(Path(runs_dir).resolve(), files[1].parent.resolve()) + "/"
    track = chromosome_track(section_tracks(runs_dir, metrics["region"]["sections"], prefix))
    return write_region_page(files[1], metrics, link, overwrite, track)
