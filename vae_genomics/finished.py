"""Work on finished runs: re-open one, re-draw its report, sample from it, encode with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from vae_genomics import __version__
from vae_genomics.config import Config, read_yaml
from vae_genomics.data import SectionData, load_section
from vae_genomics.errors import RunError
from vae_genomics.evaluation.metrics import encode
from vae_genomics.evaluation.modeseek import to_jsonable
from vae_genomics.io import write_json
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.runs import (
    CONFIG_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    SPLIT_FILE,
    read_json,
    resolve_run_dir,
)
from vae_genomics.training import evaluate_section, run_metrics, write_run_report

log = logging.getLogger(__name__)


@dataclass
class LoadedRun:
    """A finished run re-opened: its configuration, data, split and model."""

    run_dir: Path
    config: Config
    data: SectionData
    train_rows: np.ndarray
    val_rows: np.ndarray
    model: HaplotypeVAE


def load_run(run_dir: str | Path) -> LoadedRun:
    """Re-open a finished run: resolved config, the section's data (re-read), split and model.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).

    Raises:
        RunError: Not a finished run, or the data no longer holds the run's haplotypes.
    """
    run_dir = resolve_run_dir(run_dir)
    config_dict = read_yaml(run_dir / CONFIG_FILE)
    section_name = config_dict.pop("resolved")["section"]["name"]
    config = Config.model_validate(config_dict)
    data = load_section(config.data, section_name)
    split = read_json(run_dir / SPLIT_FILE)
    row = {h: i for i, h in enumerate(data.matrix.haplotype_ids)}
    unknown = [h for h in split["train"] + split["validation"] if h not in row]
    if unknown:
        raise RunError(
            f"{run_dir / SPLIT_FILE}: {len(unknown)} haplotypes of this run (e.g. '{unknown[0]}') "
            f"are not in {config.data.vcf}; the data changed since training. Retrain the section."
        )
    train_rows = np.asarray([row[h] for h in split["train"]], dtype=np.int64)
    val_rows = np.asarray([row[h] for h in split["validation"]], dtype=np.int64)
    model = keras.models.load_model(run_dir / MODEL_FILE, safe_mode=True)
    return LoadedRun(run_dir, config, data, train_rows, val_rows, model)


def report_run(run_dir: str | Path) -> Path:
    """Re-compute the evaluation and re-draw the report of a finished run.

    The evaluation is seeded by the run's config, so the sets, their numbers and verdicts are those
    training wrote (only the Monte Carlo held-out -ELBO, which draws with the model's own Keras
    noise, can differ in the last digits). They are written back into ``metrics.json`` (its
    ``heldout``, ``active_units``, ``activity`` and ``evaluation`` entries), which also brings a run
    from an older version up to date; what only training knew (epochs, seconds, divergence) stays.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).

    Returns:
        Path of the written ``report/index.html``.
    """
    run = load_run(run_dir)
    config, data, x = run.config, run.data, run.data.matrix.haplotypes
    x_train, x_val = x[run.train_rows], x[run.val_rows]
    evaluation = evaluate_section(config, data, run.model, x_train, x_val, run.val_rows)
    history_table = pd.read_csv(run.run_dir / HISTORY_FILE)
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
    write_json(metrics_path, to_jsonable(metrics))
    return write_run_report(
        run.run_dir, data.section.name, run.run_dir.name, config, evaluation, history, metrics
    )


def sample_run(
    run_dir: str | Path,
    n: int,
    out: str | Path,
    sampler: str = "prior",
    seed: int | None = None,
) -> Path:
    """Generate ``n`` haplotypes with a run's model and write them as a phased, bgzipped VCF.

    Haplotypes are Bernoulli draws from the decoder probabilities of codes drawn from the prior
    N(0, I) (``prior``) or from a Gaussian mixture fitted to the aggregate posterior of the run's
    training haplotypes (``gmm``; ``evaluation.gmm_components`` of the run's config). Haplotypes
    2i and 2i + 1 become the two phased haplotypes of synthetic sample i (see
    :func:`vae_genomics.export.write_haplotype_vcf`).

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).
        n: Number of haplotypes, even and positive.
        out: Output path (``.vcf.gz``).
        sampler: ``prior`` or ``gmm``.
        seed: Seed of the draws (default: the run's seed).

    Returns:
        The written path.
    """
    from vae_genomics.errors import DataError
    from vae_genomics.evaluation.samplers import sample_gmm, sample_prior
    from vae_genomics.evaluation.summary import fit_aggregate_gmm
    from vae_genomics.export import check_haplotype_count, write_haplotype_vcf

    check_haplotype_count(n)
    if sampler not in ("prior", "gmm"):
        raise DataError(f"unknown sampler {sampler!r}: use prior or gmm")
    run = load_run(run_dir)
    seed = run.config.seed if seed is None else seed
    if sampler == "gmm":
        x_train = run.data.matrix.haplotypes[run.train_rows]
        gmm = fit_aggregate_gmm(run.model, x_train, run.config.evaluation, seed=run.config.seed)
        haplotypes = sample_gmm(run.model, gmm, n, seed=seed)["samples"]
    else:
        haplotypes = sample_prior(run.model, n, seed=seed)["samples"]
    matrix = run.data.matrix
    return write_haplotype_vcf(
        out,
        haplotypes.astype(np.int8),
        contig=run.data.section.contig,
        positions=matrix.positions,
        ref=matrix.ref,
        alt=matrix.alt,
        ids=matrix.variant_ids,
        header_lines=[
            f"##vae_genomics_version={__version__}",
            f"##vae_genomics_sample=<section={run.data.section.name},run={run.run_dir.name},"
            f"sampler={sampler},seed={seed},haplotypes={n}>",
        ],
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
