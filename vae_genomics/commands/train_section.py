"""Train one section into its run directory: stage every artifact, write the report, commit.

:func:`train_section` is what ``vae-genomics train`` runs for one section;
:mod:`~vae_genomics.commands.train_sections` runs :func:`stage_section` and :func:`finish_section`
with the report drawn in between by another process.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vae_genomics import __version__
from vae_genomics.common.errors import TrainingDivergedError
from vae_genomics.common.io import atomic_write_text, to_jsonable, write_json, write_yaml
from vae_genomics.config import Config
from vae_genomics.data import SectionData
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.report.build import write_section_report
from vae_genomics.run.directory import (
    CONFIG_FILE,
    HISTORY_FILE,
    LATENT_FILE,
    METRICS_FILE,
    MODEL_FILE,
    REPORT_DIR,
    SPLIT_FILE,
    RunStaging,
    stage_run,
)
from vae_genomics.run.outputs import (
    evaluate_section,
    run_metrics,
    run_report_arguments,
    write_latent,
)
from vae_genomics.run.stored import (
    GMM_FILE,
    data_fingerprint,
    population_groups,
    store_run_data,
    write_gmm,
)
from vae_genomics.train.callbacks import DivergenceGuard
from vae_genomics.train.checks import blow_up, check_cohort_size, check_model_size
from vae_genomics.train.fit import fit_vae, split_haplotypes

log = logging.getLogger(__name__)

#: Top-level config keys a resumed run may change: they do not shape the trained model.
RESUME_FREE_KEYS = (
    "runtime", "evaluation", "report", "generation", "runs_dir", "sections_dir"
)  # fmt: skip


@dataclass
class TrainResult:
    """Where a finished run landed and its headline numbers."""

    run_dir: Path
    report: Path
    metrics: dict[str, Any]


@dataclass(frozen=True)
class RunTarget:
    """Where and how a section's run is written.

    Attributes:
        run_name: Name of the run directory (default: a timestamp).
        overwrite: Replace an existing run of the same name.
        parent: Directory that holds the run (default: ``<runs_dir>/<section>``).
        resume: Continue an interrupted run of the same name from its checkpoint, if it left one
            (``runtime.checkpoint``); without it such a checkpoint is discarded.
        origins: Where settings came from (e.g. ``{"objective.kl_weight": "command line"}``),
            recorded in ``config.yaml`` and ``metrics.json`` and shown in the report.
        command: The command line, shown in the report's header.
    """

    run_name: str | None = None
    overwrite: bool = False
    parent: Path | None = None
    resume: bool = False
    origins: dict[str, str] | None = None
    command: str = ""


def train_section(
    config: Config, data: SectionData, target: RunTarget | None = None
) -> TrainResult:
    """Train the VAE of one section and write its run directory.

    Args:
        config: Resolved configuration.
        data: The section's haplotypes.
        target: Where and how the run is written (default: a new timestamped run).

    Returns:
        The run directory, its report and metrics.
    """
    staged = stage_section(config, data, target)
    with staged.staging.discard_on_error():
        write_section_report(**staged.report)
    return finish_section(staged)


@dataclass
class StagedSection:
    """A trained and evaluated section whose run waits for its report, then its commit.

    Attributes:
        staging: The run's staging directory (holding the run name's lock).
        section: Section name.
        n_variants: Variants of the section.
        metrics: What ``metrics.json`` holds (already written into the staging directory).
        guard: The divergence guard of the fit.
        report: Keyword arguments of :func:`~vae_genomics.report.build.write_section_report`
            (picklable; see :func:`~vae_genomics.run.outputs.run_report_arguments`).
    """

    staging: RunStaging
    section: str
    n_variants: int
    metrics: dict[str, Any]
    guard: DivergenceGuard
    report: dict[str, Any]


def stage_section(
    config: Config, data: SectionData, target: RunTarget | None = None
) -> StagedSection:
    """Train and evaluate one section into a staging directory: every artifact but the report.

    Arguments as :func:`train_section`. On an error the staging directory is discarded (a
    checkpoint is kept for ``--resume``); on success it is left for :func:`finish_section`.
    """
    target = target or RunTarget()
    origins = target.origins
    section = data.section
    check_cohort_size(config, len(data.matrix.haplotypes), section.name)
    check_model_size(config, data.matrix.n_variants, section.name)
    staging = stage_run(
        target.parent or Path(config.runs_dir) / section.name,
        target.run_name,
        target.overwrite,
        resume=target.resume,
    )
    with staging.discard_on_error():
        out = staging.staging
        x = data.matrix.haplotypes
        train_rows, val_rows = split_haplotypes(
            len(x), config.training.validation_fraction, config.seed, data.matrix.haplotype_ids
        )
        x_train, x_val = x[train_rows], x[val_rows]
        log.info(
            "section %s: %d variants, %d training / %d held-out haplotypes",
            section.name, section.n_variants, len(train_rows), len(val_rows),
        )  # fmt: skip

        write_json(
            out / SPLIT_FILE,
            {
                "seed": config.seed,
                "validation_fraction": config.training.validation_fraction,
                "train": data.matrix.haplotype_ids[train_rows].tolist(),
                "validation": data.matrix.haplotype_ids[val_rows].tolist(),
            },
        )
        fitted = fit_vae(
            config, x_train, x_val, log_dir=out / "tensorboard", label=section.name,
            checkpoint=staging.checkpoint if config.runtime.checkpoint else None,
            fingerprint=_fingerprint(config, data, x_train, x_val),
        )  # fmt: skip
        model, history, guard = fitted.model, fitted.history, fitted.guard
        write_yaml(out / CONFIG_FILE, _resolved(config, data, model, origins))
        model.save(out / MODEL_FILE)
        store_run_data(out, config, data)
        _write_history(out / HISTORY_FILE, history)
        evaluation = evaluate_section(config, data, model, x_train, x_val, val_rows)
        if evaluation.gmm is not None:  # what `sample --sampler gmm` draws from
            write_gmm(out / GMM_FILE, evaluation.gmm)
        metrics = run_metrics(
            model, data, x_train, x_val, history, fitted.best_epoch, fitted.seconds, evaluation
        )
        metrics["diverged"] = {"epoch": guard.epoch, "term": guard.term} if guard.diverged else None
        metrics["epoch_selection"] = to_jsonable(fitted.selection)
        metrics["origins"] = origins or {}
        write_latent(out / LATENT_FILE, model, data, val_rows)
        write_json(out / METRICS_FILE, metrics)
        report = run_report_arguments(
            staging.final, section.name, staging.final.name, config, evaluation, history,
            metrics, positions=data.matrix.positions, groups=population_groups(config, data),
            command=target.command, report_dir=out / REPORT_DIR,
        )  # fmt: skip
    return StagedSection(staging, section.name, section.n_variants, metrics, guard, report)


def finish_section(staged: StagedSection) -> TrainResult:
    """Commit a staged section whose report is written; refuse a run that blew up or diverged.

    Raises:
        TrainingDivergedError: Training blew up or diverged (the run is committed for inspection).
    """
    run_dir = staged.staging.commit()
    metrics, guard, name = staged.metrics, staged.guard, staged.section
    blown = blow_up(metrics["heldout"].get("neg_elbo"), staged.n_variants)
    if blown and not guard.diverged:
        raise TrainingDivergedError(
            f"section {name}: training blew up: {blown}. {run_dir} is kept for "
            "inspection, but its model is not usable. Lower training.learning_rate (or the "
            "objective's weights) and train again with --overwrite."
        )
    if guard.diverged:
        raise TrainingDivergedError(
            f"section {name}: training diverged at epoch {guard.epoch} ({guard.term} "
            f"became NaN or infinite). {run_dir} holds the weights of the last good epoch "
            f"({guard.last_good_epoch}) or the best one before it. Lower training.learning_rate "
            "or the objective's weights and train again."
        )
    return TrainResult(run_dir, run_dir / REPORT_DIR / "index.html", metrics)


def _fingerprint(config: Config, data: SectionData, x_train: np.ndarray, x_val: np.ndarray) -> str:
    """SHA-256 of what a resumed run must share with the interrupted one: the configuration that
    shapes training (not ``runtime``, which may change between attempts, e.g. another GPU count,
    nor the settings used only after training, ``evaluation`` and ``report``, nor where runs and
    section files live), the section and the training and held-out haplotypes."""
    settings = config.to_dict()
    for key in RESUME_FREE_KEYS:
        settings.pop(key, None)
    settings["data"].pop("cache", None)  # the same haplotypes read from the VCF or its cache
    digest = hashlib.sha256(
        json.dumps({"config": settings, "section": data.section.to_dict()}, sort_keys=True).encode()
    )
    for x in (x_train, x_val):
        digest.update(np.ascontiguousarray(x).tobytes())
        digest.update(str(x.shape).encode())
    return digest.hexdigest()


def _resolved(
    config: Config, data: SectionData, model: HaplotypeVAE, origins: dict[str, str] | None
) -> dict[str, Any]:
    resolved = config.to_dict()
    resolved["resolved"] = {
        "version": __version__,
        "section": data.section.to_dict(),
        "hidden_units": list(model.hidden_units),
        "latent_dim": model.latent_dim,
        "origins": origins or {},
        "data": data_fingerprint(data.matrix),
    }
    return resolved


def _write_history(path: Path, history: dict[str, list[float]]) -> None:
    table = pd.DataFrame(history)
    table.insert(0, "epoch", np.arange(1, len(table) + 1))
    atomic_write_text(path, table.to_csv(index=False))
