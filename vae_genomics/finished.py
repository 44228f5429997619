"""Work on finished runs: re-open one, re-draw its report, sample from it, encode with it."""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from vae_genomics.config import Config, read_yaml
from vae_genomics.data import SectionData, load_section
from vae_genomics.errors import RunError
from vae_genomics.evaluation.metrics import encode
from vae_genomics.io import to_jsonable, write_json
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.report.build import write_section_report
from vae_genomics.run_outputs import evaluate_section, run_metrics, run_report_arguments
from vae_genomics.rundata import (
    GMM_FILE,
    HAPLOTYPES_FILE,
    data_changes,
    read_gmm,
    read_run_data,
)
from vae_genomics.runs import (
    CONFIG_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    REPORT_DIR,
    SPLIT_FILE,
    damaged,
    read_json,
    resolve_run_dir,
)

log = logging.getLogger(__name__)

#: Where ``report`` writes a run's new metrics and report before renaming them into place.
STAGING_DIR = ".report.partial"


@dataclass
class LoadedRun:
    """A finished run re-opened: its configuration, data, split and model.

    Attributes:
        run_dir: The run directory (absolute).
        config: The resolved configuration it was trained with.
        data: The section's haplotypes (int8 0/1, training and held-out rows) and sites.
        train_rows: Rows of ``data.matrix.haplotypes`` trained on, int64.
        val_rows: Rows held out, int64.
        model: The trained model.
        resolved: What training resolved (version, section, architecture, origins of settings).
        superpopulations: Superpopulation per haplotype row, or ``None``.
        contig_length: Length of the section's contig (``None`` when the VCF header gave none).
        gmm: The stored aggregate-posterior mixture, or ``None`` (an older run: refit on demand).
    """

    run_dir: Path
    config: Config
    data: SectionData
    train_rows: np.ndarray
    val_rows: np.ndarray
    model: HaplotypeVAE
    resolved: dict = field(default_factory=dict)
    superpopulations: np.ndarray | None = None
    contig_length: int | None = None
    gmm: Any = None

    def mixture(self) -> Any:
        """The aggregate-posterior mixture: the stored one, or refit as the evaluation fits it."""
        if self.gmm is None:
            from vae_genomics.evaluation.summary import fit_aggregate_gmm

            x_train = self.data.matrix.haplotypes[self.train_rows]
            self.gmm = fit_aggregate_gmm(
                self.model, x_train, self.config.evaluation, seed=self.config.seed
            )
        return self.gmm


def load_run(run_dir: str | Path) -> LoadedRun:
    """Re-open a finished run: resolved config, the section's data, split and model.

    The data comes from the run's own ``haplotypes.npz`` (:mod:`vae_genomics.rundata`), so a run
    copied elsewhere works without the training VCF and from any working directory; runs written
    before it was stored re-read the VCF through their configuration.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).

    Raises:
        RunError: Not a finished run, or the data no longer holds the run's haplotypes.
    """
    run_dir = resolve_run_dir(run_dir).resolve()
    config_dict = read_yaml(run_dir / CONFIG_FILE)
    resolved = config_dict.pop("resolved", None)
    if not isinstance(resolved, dict) or not isinstance(resolved.get("section"), dict):
        raise damaged(run_dir / CONFIG_FILE, "no 'resolved' entry naming the section")
    section_name = resolved["section"].get("name")
    try:
        config = Config.model_validate(config_dict)
    except ValueError as exc:
        raise damaged(run_dir / CONFIG_FILE, exc) from None
    try:
        stored = read_run_data(run_dir)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged(run_dir / HAPLOTYPES_FILE, exc) from None
    if stored is not None:
        data = SectionData(stored.section, stored.matrix, stored.populations)
    else:
        log.info(
            "%s: no %s (an older run); reading the section from the VCF", run_dir, HAPLOTYPES_FILE
        )
        data = load_section(config.data, section_name)
    fingerprint = resolved.get("data")
    changed = data_changes(fingerprint, data.matrix) if isinstance(fingerprint, dict) else None
    if changed:
        source = HAPLOTYPES_FILE if stored is not None else config.data.vcf
        raise RunError(
            f"{run_dir}: the data changed since this run was trained ({changed}; read from "
            f"{source}). Its numbers would no longer be those of its model's data: restore the "
            "data, or train the section again."
        )
    split = read_json(run_dir / SPLIT_FILE)
    if not isinstance(split, dict) or not all(
        isinstance(split.get(k), list) for k in ("train", "validation")
    ):
        raise damaged(run_dir / SPLIT_FILE, "expected lists 'train' and 'validation'")
    row = {h: i for i, h in enumerate(data.matrix.haplotype_ids)}
    unknown = [h for h in split["train"] + split["validation"] if h not in row]
    if unknown:
        raise RunError(
            f"{run_dir / SPLIT_FILE}: {len(unknown)} haplotypes of this run (e.g. '{unknown[0]}') "
            f"are not in {config.data.vcf}; the data changed since training. Retrain the section."
        )
    train_rows = np.asarray([row[h] for h in split["train"]], dtype=np.int64)
    val_rows = np.asarray([row[h] for h in split["validation"]], dtype=np.int64)
    model = load_model(run_dir / MODEL_FILE)
    return LoadedRun(
        run_dir, config, data, train_rows, val_rows, model, resolved=resolved,
        superpopulations=None if stored is None else stored.superpopulations,
        contig_length=None if stored is None else stored.contig_length,
        gmm=_read_gmm(run_dir / GMM_FILE),
    )  # fmt: skip


def _read_gmm(path: Path) -> Any:
    try:
        return read_gmm(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged(path, exc) from None


def load_model(path: Path) -> HaplotypeVAE:
    """Load a run's ``model.keras`` in Keras safe mode (no code in the file runs).

    Raises:
        RunError: The file is damaged (not a zip archive, truncated) or holds another model.
    """
    if not zipfile.is_zipfile(path):
        raise damaged(path, "not a .keras zip archive; truncated or overwritten")
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as exc:  # Keras raises many kinds for a damaged or foreign archive
        raise damaged(path, f"Keras could not load it: {exc}") from None
    if not isinstance(model, HaplotypeVAE):
        raise damaged(path, f"it holds a {type(model).__name__}, not this program's HaplotypeVAE")
    return model


def report_run(run_dir: str | Path, command: str = "") -> Path:
    """Re-compute the evaluation and re-draw the report of a finished run.

    The evaluation is seeded by the run's config, so the sets, their numbers and verdicts are those
    training wrote (only the Monte Carlo held-out -ELBO, which draws with the model's own Keras
    noise, can differ in the last digits). They are written back into ``metrics.json`` (its
    ``heldout``, ``active_units``, ``activity`` and ``evaluation`` entries), which also brings a run
    from an older version up to date; what only training knew (epochs, seconds, divergence) stays.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).
        command: The command line, shown in the report's header.

    Returns:
        Path of the written ``report/index.html``.
    """
    run = load_run(run_dir)
    config, data, x = run.config, run.data, run.data.matrix.haplotypes
    x_train, x_val = x[run.train_rows], x[run.val_rows]
    evaluation = evaluate_section(config, data, run.model, x_train, x_val, run.val_rows)
    try:
        history_table = pd.read_csv(run.run_dir / HISTORY_FILE, encoding="utf-8")
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise damaged(run.run_dir / HISTORY_FILE, exc) from None
    history = {c: history_table[c].tolist() for c in history_table.columns if c != "epoch"}
    metrics_path = run.run_dir / METRICS_FILE
    previous = read_json(metrics_path) if metrics_path.is_file() else {}
    fresh = run_metrics(
        run.model, data, x_train, x_val, history,
        previous.get("best_epoch", len(history.get("loss", []))),
        previous.get("train_seconds", float("nan")), evaluation,
    )  # fmt: skip
    # keep what only training knew (e.g. divergence); replace the evaluated numbers
    evaluated = ("heldout", "active_units", "activity", "evaluation")
    metrics = {**fresh, **previous, **{k: fresh[k] for k in evaluated}}
    groups = None
    if run.superpopulations is not None and data.populations is not None:
        groups = dict(zip(map(str, data.populations), map(str, run.superpopulations), strict=True))
    # metrics.json and the report are replaced together or not at all: both are written into a
    # staging directory first (where a full disk fails), then renamed into place
    staging = run.run_dir / STAGING_DIR
    shutil.rmtree(staging, ignore_errors=True)
    try:
        write_json(staging / METRICS_FILE, to_jsonable(metrics))
        page = write_section_report(
            **run_report_arguments(
                run.run_dir, data.section.name, run.run_dir.name, config, evaluation, history,
                metrics, positions=data.matrix.positions, groups=groups, command=command,
                report_dir=staging / REPORT_DIR,
            )
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report, old = run.run_dir / REPORT_DIR, run.run_dir / f".{REPORT_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if report.exists():
        os.replace(report, old)
    os.replace(staging / REPORT_DIR, report)
    os.replace(staging / METRICS_FILE, metrics_path)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    return report / page.name


SAMPLERS = ("prior", "gmm")


def draw_haplotypes(
    run: LoadedRun, n: int, sampler: str | None = None, seed: int | None = None
) -> np.ndarray:
    """Generated haplotypes of a run's model.

    Args:
        run: A loaded run.
        n: Number of haplotypes.
        sampler: A generator name (``source/decoder``,
            :func:`~vae_genomics.evaluation.generators.make_generator`), fitted to the posteriors of
            the run's training haplotypes; ``None`` is
            :data:`~vae_genomics.evaluation.generators.DEFAULT_GENERATOR`, what the report
            evaluates. Two short names are kept: ``prior`` (Bernoulli draws at z ~ p(z), the
            model's prior) and ``gmm`` (Bernoulli draws at codes from the run's stored BIC mixture,
            :meth:`LoadedRun.mixture`).
        seed: Seed of the draws (default: the run's seed).

    Returns:
        Haplotypes, int8 0/1, shape (n, n_variants).

    Raises:
        DataError: An unknown generator name.
    """
    from vae_genomics.errors import DataError
    from vae_genomics.evaluation.generators import DEFAULT_GENERATOR, make_generator
    from vae_genomics.evaluation.samplers import sample_gmm, sample_prior

    seed = run.config.seed if seed is None else seed
    sampler = sampler or DEFAULT_GENERATOR
    if sampler == "gmm":
        return sample_gmm(run.model, run.mixture(), n, seed=seed)["samples"].astype(np.int8)
    if sampler == "prior":
        return sample_prior(run.model, n, seed=seed)["samples"].astype(np.int8)
    try:
        gen = make_generator(sampler, run.config.evaluation.gmm_max_components)
    except ValueError as err:
        raise DataError(f"--sampler: {err}") from None
    x_train = run.data.matrix.haplotypes[run.train_rows]
    gen.fit(run.model, x_train, seed=run.config.seed)
    return gen.sample(run.model, n, seed=seed)["samples"].astype(np.int8)


def sample_run(
    run_dir: str | Path,
    n: int,
    out: str | Path,
    sampler: str | None = None,
    seed: int | None = None,
    command: str = "",
) -> Path | None:
    """Generate ``n`` haplotypes with a run's model and write them as a phased, bgzipped VCF.

    Haplotypes come from a generator (:func:`draw_haplotypes`; the default generator when
    ``sampler`` is None, the one the report evaluates). Haplotypes 2i and 2i + 1 become the two
    phased haplotypes of synthetic sample i (see :func:`vae_genomics.export.write_haplotype_vcf`).
    The header carries the contig's length, a ``##source`` line with the version and ``command``,
    and the run's provenance; a tabix index is written beside the file.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).
        n: Number of haplotypes, even and positive.
        out: Output path (``.vcf.gz``), or ``-`` for uncompressed VCF on standard output.
        sampler: A generator name, or None for the default (:func:`draw_haplotypes`).
        seed: Seed of the draws (default: the run's seed).
        command: The command line, for the ``##source`` line.

    Returns:
        The written path (``None`` for standard output).
    """
    from vae_genomics.export import check_haplotype_count, provenance_header, write_haplotype_vcf

    check_haplotype_count(n)
    run = load_run(run_dir)
    seed = run.config.seed if seed is None else seed
    haplotypes = draw_haplotypes(run, n, sampler, seed)
    if sampler is None:
        from vae_genomics.evaluation.generators import DEFAULT_GENERATOR

        sampler = DEFAULT_GENERATOR
    matrix = run.data.matrix
    return write_haplotype_vcf(
        out,
        haplotypes,
        contig=run.data.section.contig,
        positions=matrix.positions,
        ref=matrix.ref,
        alt=matrix.alt,
        ids=matrix.variant_ids,
        header_lines=[
            *provenance_header(command),
            f"##vae_genomics_sample=<section={run.data.section.name},run={run.run_dir.name},"
            f"sampler={sampler},seed={seed},haplotypes={n}>",
        ],
        contig_length=run.contig_length,
        source=f"run {run.run_dir}",
    )


def encode_run(run_dir: str | Path, out: str | Path, vcf: str | Path | None = None) -> Path:
    """Embed haplotypes with a run's encoder and write a latent TSV.

    Without ``vcf`` the run's own haplotypes are embedded (``split`` says train or validation).
    With ``vcf``, the haplotypes of that file at the section's sites (same contig, positions,
    REF and ALT; ``split`` = ``external``); every site must be present.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).
        out: Output TSV path.
        vcf: Optional phased VCF/BCF to embed instead of the run's data.

    Returns:
        The written path.
    """
    from vae_genomics.export import read_section_haplotypes, write_latent_tsv

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
    return write_latent_tsv(out, ids, samples, mean, log_var, populations=populations, split=split)
