"""Train one section: seeded split, input pipeline, callbacks, artifacts in a run directory."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from vae_genomics import __version__
from vae_genomics.callbacks import (
    DivergenceGuard,
    EpochLogger,
    LatentMonitor,
    TrainingCheckpoint,
    load_checkpoint,
    restore_model_state,
)
from vae_genomics.config import Config, load_config
from vae_genomics.data import SectionData, load_section
from vae_genomics.devices import distribution_strategy, dtype_policy, log_devices
from vae_genomics.errors import DataError, RunError, TrainingDivergedError
from vae_genomics.evaluation.metrics import encode
from vae_genomics.evaluation.modeseek import to_jsonable
from vae_genomics.evaluation.result import Evaluation
from vae_genomics.evaluation.summary import evaluate_model
from vae_genomics.io import atomic_write_text, write_json, write_yaml
from vae_genomics.models.factory import build_vae
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.report.build import write_section_report
from vae_genomics.rundata import (
    GMM_FILE,
    data_fingerprint,
    population_groups,
    store_run_data,
    write_gmm,
)
from vae_genomics.runs import (
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

log = logging.getLogger(__name__)

#: Top-level config keys a resumed run may change: they do not shape the trained model.
RESUME_FREE_KEYS = ("runtime", "evaluation", "report", "runs_dir", "sections_dir")


def split_haplotypes(
    n: int,
    validation_fraction: float,
    seed: int,
    ids: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of haplotype rows into training and held-out sets, by haplotype identity.

    Each haplotype gets the key SHA-256(``"<seed>:<id>"``) (its first 8 bytes as an integer); the
    ``round(validation_fraction * n)`` haplotypes with the smallest keys are held out. The held-out
    set is a function of the seed and the set of haplotype IDs only, not of their order or of the
    section: every section of a cohort (the same samples) holds out the same haplotypes, so a
    region assembled from several sections has one consistent split.

    Args:
        n: Number of haplotypes (>= 2).
        validation_fraction: Fraction held out, in (0, 1); at least one row goes to each side.
        seed: Seed of the split.
        ids: Haplotype IDs of the rows, shape (n,) (default: the row numbers ``"0".."n-1"``).

    Returns:
        ``(train_rows, validation_rows)``, sorted int64 index arrays that partition ``range(n)``.
    """
    if n < 2:
        raise ValueError(f"need at least 2 haplotypes to split, got {n}")
    ids = [str(i) for i in range(n)] if ids is None else [str(i) for i in ids]
    if len(ids) != n:
        raise ValueError(f"{len(ids)} haplotype IDs for {n} haplotypes")
    n_val = min(n - 1, max(1, round(validation_fraction * n)))
    keys = np.array(
        [int.from_bytes(hashlib.sha256(f"{seed}:{h}".encode()).digest()[:8], "big") for h in ids],
        dtype=np.uint64,
    )
    order = np.lexsort((np.asarray(ids, dtype=object).astype(str), keys))  # ties: by ID
    return np.sort(order[n_val:]).astype(np.int64), np.sort(order[:n_val]).astype(np.int64)


def make_dataset(x: np.ndarray, batch_size: int, shuffle: bool, seed: int) -> tf.data.Dataset:
    """Batches of int8 haplotypes (cast to float inside the model's graph)."""
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def prepare(
    config_path: str | Path | None,
    section: str | None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Config, SectionData]:
    """Resolve the section and its configuration (defaults ← config file ← section file ← CLI).

    The section name is needed to find its override file, and the data config to find the
    section, so the data is read with the base config first and re-read only if the section file
    changes the data options.
    """
    base = load_config(config_path, overrides=overrides)
    data = load_section(base.data, section)
    config = load_config(config_path, section=data.section.name, overrides=overrides)
    if config.data != base.data:
        data = load_section(config.data, data.section.name)
    return config, data


@dataclass
class FitResult:
    """A fitted model with its per-epoch history."""

    model: HaplotypeVAE
    history: dict[str, list[float]]
    seconds: float
    best_epoch: int
    guard: DivergenceGuard


def fit_vae(
    config: Config,
    x_train: np.ndarray,
    x_val: np.ndarray,
    log_dir: Path | None = None,
    label: str = "",
    checkpoint: Path | None = None,
    fingerprint: str = "",
) -> FitResult:
    """Build a VAE for ``x_train``'s width and fit it with early stopping on ``x_val``.

    With ``checkpoint``, the training state is saved there after every epoch
    (:class:`~vae_genomics.callbacks.TrainingCheckpoint`), and a checkpoint already there with the
    same ``fingerprint`` is resumed: model, optimiser (step counter, so β(t) and C(t), and moments),
    noise seed state, early-stopping and divergence-guard state and history continue from its last
    completed epoch. Only the order of the shuffled batches restarts (the data pipeline is not part
    of the state).

    Args:
        config: Resolved configuration (model, objective, training, seed).
        x_train: Training haplotypes, int8, shape (n_train, n_variants).
        x_val: Held-out haplotypes, int8, shape (n_val, n_variants).
        log_dir: TensorBoard directory (none when ``None``).
        label: Name used in log lines and errors (e.g. the section).
        checkpoint: Checkpoint file to save to and resume from (none when ``None``).
        fingerprint: Identity of the configuration and data the checkpoint must match.

    Returns:
        The model with its best weights restored, the history and timing (over every attempt).

    Raises:
        TrainingDivergedError: The objective was not finite in the first epoch.
        RunError: The checkpoint belongs to another configuration or data.
    """
    keras.utils.set_random_seed(config.seed)
    batch = config.training.batch_size
    strategy = distribution_strategy(config.runtime)
    training_options = config.training
    if config.runtime.distribute == "mirrored" and training_options.steps_per_execution > 1:
        # Keras 3 / TF 2.21: the multi-step loop fails on a distributed iterator
        # (InvalidArgumentError in multi_step_on_iterator), so mirrored runs one step per call
        log.info("%s runtime.distribute mirrored: steps_per_execution 1 (not %d)",
                 label, training_options.steps_per_execution)  # fmt: skip
        training_options = training_options.model_copy(update={"steps_per_execution": 1})
    with strategy.scope(), dtype_policy(config.runtime.precision):
        model = build_vae(
            x_train.shape[1], config.model, config.objective, training_options, config.seed,
            steps_per_epoch=math.ceil(len(x_train) / batch),
        )  # fmt: skip
    log_devices(model, strategy, label)
    state = load_checkpoint(checkpoint) if checkpoint is not None else None
    if state is not None:
        if state.fingerprint != fingerprint:
            raise RunError(
                f"{checkpoint}: this checkpoint was written with another configuration or other "
                "data. Train without --resume to start again, or use another --run-name."
            )
        with strategy.scope():
            restore_model_state(model, state)
        log.info(
            "%s resuming after epoch %d of %d (%s)", label, state.epoch, config.training.epochs,
            "training had ended" if state.stopped else "optimiser step "
            f"{int(model.optimizer.iterations.numpy())}",
        )  # fmt: skip
    log.info(
        "%s model: hidden %s, latent %d, %d parameters",
        label, list(model.hidden_units), model.latent_dim, model.count_params(),
    )  # fmt: skip
    guard = DivergenceGuard()
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=config.training.patience,
        restore_best_weights=True,
        # objectives under a still-changing beta(t) or C(t) are not comparable
        start_from_epoch=model.schedule_end_epoch(),
    )
    callbacks = [
        LatentMonitor(x_val),  # first: adds per-dimension KL and active units to the logs
        guard,
        early_stopping,
        EpochLogger(config.training.epochs, every=max(1, config.training.epochs // 20)),
    ]
    if log_dir is not None:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False))
    saver = None
    if checkpoint is not None:  # last: saves what the other callbacks updated
        saver = TrainingCheckpoint(checkpoint, fingerprint, early_stopping, guard, resumed=state)
        callbacks.append(saver)
    initial_epoch = state.epoch if state is not None else 0
    # a run that had ended (early stop, divergence, last epoch) runs no epoch: fit only ends it
    epochs = initial_epoch if state is not None and state.stopped else config.training.epochs
    started = time.perf_counter()
    fit = model.fit(
        make_dataset(x_train, batch, shuffle=True, seed=config.seed),
        validation_data=make_dataset(x_val, batch, shuffle=False, seed=config.seed),
        initial_epoch=initial_epoch,
        epochs=max(epochs, initial_epoch),
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself, seeded
        verbose=0,
    )
    seconds = time.perf_counter() - started
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    if saver is not None:
        history, seconds = saver.history, saver.seconds
    if guard.diverged and guard.last_good_epoch == 0:
        if checkpoint is not None:  # it holds only the diverged state: nothing to resume
            Path(checkpoint).unlink(missing_ok=True)
        raise TrainingDivergedError(
            f"{label}: training diverged in epoch 1 ({guard.term} is not finite) before any good "
            "weights existed; nothing was saved. Lower training.learning_rate or the objective's "
            "weights."
        )
    finite = np.where(np.isfinite(history["val_loss"]), history["val_loss"], np.inf)
    best = int(np.argmin(finite)) + 1
    _log_stop(label, len(history["val_loss"]), config.training.epochs, best,
              config.training.patience, guard)  # fmt: skip
    return FitResult(model, history, seconds, best, guard)


def _log_stop(
    label: str, ran: int, epochs: int, best: int, patience: int, guard: DivergenceGuard
) -> None:
    """Say why training ended, at which epoch, and whose weights were kept."""
    if guard.diverged:
        why = f"diverged at epoch {guard.epoch} ({guard.term} not finite)"
    elif ran < epochs:
        why = (
            f"early stopping after epoch {ran} of {epochs}: the held-out objective (val_loss) "
            f"did not improve for {patience} epochs (training.patience)"
        )
    else:
        why = f"reached training.epochs = {epochs}"
    log.info("%s training ended: %s; keeping the weights of epoch %d (best val_loss)",
             label, why, best)  # fmt: skip


@dataclass
class TrainResult:
    """Where a finished run landed and its headline numbers."""

    run_dir: Path
    report: Path
    metrics: dict[str, Any]


def train_section(
    config: Config,
    data: SectionData,
    run_name: str | None = None,
    overwrite: bool = False,
    parent: Path | None = None,
    resume: bool = False,
    origins: dict[str, str] | None = None,
    command: str = "",
) -> TrainResult:
    """Train the VAE of one section and write its run directory.

    Args:
        config: Resolved configuration.
        data: The section's haplotypes.
        run_name: Name of the run directory (default: a timestamp).
        overwrite: Replace an existing run of the same name.
        parent: Directory that holds the run (default: ``<runs_dir>/<section>``).
        resume: Continue an interrupted run of the same name from its checkpoint, if it left one
            (``runtime.checkpoint``); without it such a checkpoint is discarded.
        origins: Where settings came from (e.g. ``{"objective.kl_weight": "command line"}``),
            recorded in ``config.yaml`` and ``metrics.json`` and shown in the report.
        command: The command line, shown in the report's header.

    Returns:
        The run directory, its report and metrics.
    """
    staged = stage_section(
        config, data, run_name=run_name, overwrite=overwrite, parent=parent, resume=resume,
        origins=origins, command=command,
    )  # fmt: skip
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
            (picklable; see :func:`run_report_arguments`).
    """

    staging: RunStaging
    section: str
    n_variants: int
    metrics: dict[str, Any]
    guard: DivergenceGuard
    report: dict[str, Any]


def stage_section(
    config: Config,
    data: SectionData,
    run_name: str | None = None,
    overwrite: bool = False,
    parent: Path | None = None,
    resume: bool = False,
    origins: dict[str, str] | None = None,
    command: str = "",
) -> StagedSection:
    """Train and evaluate one section into a staging directory: every artifact but the report.

    Arguments as :func:`train_section`. On an error the staging directory is discarded (a
    checkpoint is kept for ``--resume``); on success it is left for :func:`finish_section`.
    """
    section = data.section
    check_cohort_size(config, len(data.matrix.haplotypes), section.name)
    staging = stage_run(
        parent or Path(config.runs_dir) / section.name, run_name, overwrite, resume=resume
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
        metrics["origins"] = origins or {}
        write_latent(out / LATENT_FILE, model, data, val_rows)
        write_json(out / METRICS_FILE, metrics)
        report = run_report_arguments(
            staging.final, section.name, staging.final.name, config, evaluation, history,
            metrics, positions=data.matrix.positions, groups=population_groups(config, data),
            command=command, report_dir=out / REPORT_DIR,
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


#: A held-out -ELBO this many times that of a fair coin per allele means training blew up.
BLOW_UP_FACTOR = 10.0


def blow_up(neg_elbo: float | None, n_variants: int) -> str | None:
    """Why a finished run's held-out -ELBO shows that training blew up, or ``None``.

    A model that guesses every allele by a fair coin costs ``n_variants * ln 2`` nats per
    haplotype; a trained model is far below that. Far above it (:data:`BLOW_UP_FACTOR` times), or
    not finite, the weights were thrown off (e.g. a too large learning rate) even when every
    epoch's loss stayed finite.

    Args:
        neg_elbo: Held-out -ELBO, nats per haplotype.
        n_variants: Variants of the section.
    """
    coin = n_variants * math.log(2)
    if neg_elbo is None or not math.isfinite(neg_elbo):
        return f"the held-out -ELBO is {neg_elbo}"
    if neg_elbo > BLOW_UP_FACTOR * coin:
        return (
            f"the held-out -ELBO is {neg_elbo:.3g} nats per haplotype, more than "
            f"{BLOW_UP_FACTOR:g} times the {coin:.3g} of guessing each allele by a coin flip"
        )
    return None


def check_cohort_size(config: Config, n: int, label: str) -> None:
    """Refuse, before training, a cohort whose held-out set is too small for the evaluation.

    The k-NN statistics (precision/recall/coverage) need more held-out haplotypes than
    ``evaluation.prdc_k``. The advice fits the case: a cohort that cannot hold out enough even
    at the largest fraction needs more samples; otherwise the fraction can be raised.

    Raises:
        DataError: The held-out set would have ``<= evaluation.prdc_k`` haplotypes.
    """
    k, fraction = config.evaluation.prdc_k, config.training.validation_fraction
    n_val = min(n - 1, max(1, round(fraction * n))) if n >= 2 else 0
    if n_val > k:
        return
    if n - 1 <= k:
        advice = (
            f"the cohort is too small for the evaluation (a larger validation fraction cannot "
            f"help): use a VCF with at least {k + 2} haplotypes ({(k + 3) // 2} diploid samples)"
            f"{'' if n < 3 else f', or lower evaluation.prdc_k to {n - 2}'}"
        )
    else:
        advice = (
            f"raise training.validation_fraction to at least {(k + 1) / n:.2f}, or lower "
            f"evaluation.prdc_k to {max(1, n_val - 1)}"
        )
    raise DataError(
        f"section {label}: {n} haplotypes, of which {n_val} would be held out at "
        f"training.validation_fraction = {fraction}; the evaluation's k-NN statistics need more "
        f"than evaluation.prdc_k = {k}. Nothing was trained: {advice}."
    )


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


def write_latent(path: Path, model: HaplotypeVAE, data: SectionData, val_rows: np.ndarray) -> None:
    mean, log_var = encode(model, data.matrix.haplotypes)
    sd = np.exp(0.5 * log_var)
    split = np.full(len(mean), "train", dtype=object)
    split[val_rows] = "validation"
    table = pd.DataFrame(
        {
            "haplotype": data.matrix.haplotype_ids,
            "sample": data.matrix.haplotype_samples,
            "population": data.populations if data.populations is not None else "unknown",
            "split": split,
        }
    )
    dims = range(1, model.latent_dim + 1)
    table = pd.concat(
        [
            table,
            pd.DataFrame(mean, columns=[f"mean_{k}" for k in dims]),
            pd.DataFrame(sd, columns=[f"sd_{k}" for k in dims]),
        ],
        axis=1,
    )
    atomic_write_text(path, table.to_csv(sep="\t", index=False, float_format="%.6g"))


def evaluate_section(
    config: Config,
    data: SectionData,
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_val: np.ndarray,
    val_rows: np.ndarray,
) -> Evaluation:
    """The evaluation summary of a trained model (``evaluation.summary.evaluate_model``)."""
    populations = None if data.populations is None else data.populations[val_rows]
    return evaluate_model(
        model,
        x_train,
        x_val,
        config.evaluation,
        populations=populations,
        n_components=config.report.n_components,
        seed=config.seed,
        positions=data.matrix.positions,
    )


def run_metrics(
    model: HaplotypeVAE,
    data: SectionData,
    x_train: np.ndarray,
    x_val: np.ndarray,
    history: dict[str, list[float]],
    best_epoch: int,
    seconds: float,
    evaluation: Evaluation,
) -> dict[str, Any]:
    summary = dict(evaluation.summary)
    heldout = summary.pop("heldout")
    return to_jsonable(
        {
            "version": __version__,
            "section": data.section.to_dict(),
            "n_haplotypes": int(data.matrix.n_haplotypes),
            "n_train": len(x_train),
            "n_validation": len(x_val),
            "latent_dim": model.latent_dim,
            "epochs_run": len(history["loss"]),
            "best_epoch": best_epoch,
            "train_seconds": round(seconds, 2),
            "heldout": heldout,
            "active_units": summary["latent"]["active_units"],
            "activity": summary["latent"]["activity"],
            "filters": data.matrix.filter_counts,
            "evaluation": summary,
        }
    )


def write_run_report(
    run_dir: Path,
    section: str,
    run_name: str,
    config: Config,
    evaluation: Evaluation,
    history: dict[str, list[float]],
    metrics: dict[str, Any],
    positions: np.ndarray | None = None,
    groups: dict[str, str] | None = None,
    command: str = "",
    report_dir: Path | None = None,
) -> Path:
    """Write ``<run_dir>/report/`` (figures and index.html) of one run; returns index.html.

    ``positions`` (bp of each variant) put the traversal and LD axes in bp; ``groups``
    (population → superpopulation) group the population colours; ``command`` is shown in the
    page's header with the version and date. ``report_dir`` writes the report elsewhere (a staging
    directory later renamed to ``<run_dir>/report``; its links are those of the final place).
    """
    return write_section_report(
        **run_report_arguments(
            run_dir, section, run_name, config, evaluation, history, metrics,
            positions=positions, groups=groups, command=command, report_dir=report_dir,
        )
    )  # fmt: skip


def run_report_arguments(
    run_dir: Path,
    section: str,
    run_name: str,
    config: Config,
    evaluation: Evaluation,
    history: dict[str, list[float]],
    metrics: dict[str, Any],
    positions: np.ndarray | None = None,
    groups: dict[str, str] | None = None,
    command: str = "",
    report_dir: Path | None = None,
) -> dict[str, Any]:
    """The keyword arguments of :func:`~vae_genomics.report.build.write_section_report` for one
    run (see :func:`write_run_report`): plain data, picklable, so another process can draw it."""
    from datetime import UTC, datetime

    final = Path(run_dir) / REPORT_DIR
    out = final if report_dir is None else Path(report_dir)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = f"vae-genomics {__version__} · {stamp}" + (f" · {command}" if command else "")
    return {
        "out_dir": out,
        "title": f"section {section} · run {run_name}",
        "evaluation": evaluation,
        "history": history,
        "summary": report_summary(metrics),
        "config": config.to_dict(),
        "ld_window": config.report.ld_window,
        "metrics": metrics,
        "positions": positions,
        "groups": groups,
        "header": header,
        "index_link": _index_link(final, Path(config.runs_dir)),
        "dpi": config.report.dpi,
        "svg": config.report.svg,
    }


def _index_link(report_dir: Path, runs_dir: Path) -> str | None:
    """Relative link from a report to ``<runs_dir>/index.html`` (``None`` outside ``runs_dir``)."""
    import os

    report_dir, runs_dir = report_dir.resolve(), runs_dir.resolve()
    if not report_dir.is_relative_to(runs_dir):
        # a run moved elsewhere: ``<runs>/<section>/<run>/report`` keeps the usual layout
        runs_dir = report_dir.parent.parent.parent
        if not (runs_dir / "index.html").is_file():
            return None
    return os.path.relpath(runs_dir / "index.html", report_dir)


def report_summary(metrics: dict[str, Any]) -> dict[str, Any]:
    held = metrics["heldout"]
    ev = metrics["evaluation"]
    iw, mi, gmm = ev["iw_nll"], ev["mutual_information"], ev["gmm"]
    return {
        "section": metrics["section"]["name"],
        "variants": metrics["section"]["n_variants"],
        "haplotypes (train / held-out)": f"{metrics['n_train']} / {metrics['n_validation']}",
        "KL weight β": held["kl_weight"],
        "held-out −ELBO (nats/haplotype)": held["neg_elbo"],
        "held-out reconstruction NLL (distortion)": held["reconstruction"],
        "held-out KL (rate)": held["kl"],
        f"held-out importance-weighted NLL (K = {iw['n_samples']})": iw["nll"],
        **(
            {"held-out IW-NLL with the generator's LD head": iw["nll_ld_head"]}
            if "nll_ld_head" in iw
            else {}
        ),
        "mutual information I_q (upper bound)": f"{mi['mi']:.3f} ({mi['upper_bound']:.3f})",
        "aggregate-posterior KL, KL(q(z) ‖ p(z))": mi["aggregate_kl"],
        "active units": f"{metrics['active_units']} of {metrics['latent_dim']}",
        "re-encoding error (from mean / from a draw)": (
            f"{ev['reencoding']['mean']:.4g} / {ev['reencoding']['sample_mean']:.4g}"
        ),
        "aggregate-posterior mixture components": (
            f"{gmm['n_components']} (chosen by {gmm['chosen_by']})"
        ),
        "epochs (best)": f"{metrics['epochs_run']} ({metrics['best_epoch']})",
        "training seconds": metrics["train_seconds"],
    }
