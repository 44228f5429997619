"""Fit one section's VAE: seeded split, input pipeline, callbacks, early stopping, checkpoints."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from vae_genomics.common.errors import RunError, TrainingDivergedError
from vae_genomics.config import Config, TrainingConfig, load_config
from vae_genomics.data import SectionData, load_section
from vae_genomics.models.factory import build_vae
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.train.callbacks import (
    CheckpointState,
    DivergenceGuard,
    EpochLogger,
    LatentMonitor,
    TrainingCheckpoint,
    load_checkpoint,
    restore_model_state,
)
from vae_genomics.train.devices import distribution_strategy, dtype_policy, log_devices
from vae_genomics.train.stopping import GeneratorCheck, describe_choice, stopping_callbacks

log = logging.getLogger(__name__)


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
    """A fitted model with its per-epoch history (``selection``: the generator check's choice of
    the epoch kept, ``train.stopping.GeneratorCheck.choice``, under ``training.select:
    generator``)."""

    model: HaplotypeVAE
    history: dict[str, list[float]]
    seconds: float
    best_epoch: int
    guard: DivergenceGuard
    selection: dict[str, Any] | None = None


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
    (:class:`~vae_genomics.train.callbacks.TrainingCheckpoint`), and a checkpoint already there with the
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
    model, strategy = _seeded_model(config, x_train.shape, label)
    batch = config.training.batch_size
    state = _resume(model, strategy, config, checkpoint, fingerprint, label)
    callbacks, guard, saver = _callbacks(
        config, model, x_train, x_val, log_dir, checkpoint, fingerprint, state
    )
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
    _check_first_epoch(guard, checkpoint, label)
    finite = np.where(np.isfinite(history["val_loss"]), history["val_loss"], np.inf)
    best = int(np.argmin(finite)) + 1
    check = next((c for c in callbacks if isinstance(c, GeneratorCheck)), None)
    choice = check.choice if check is not None else None
    if check is not None:
        log.info("%s generator checks: %d in %.1f s of this attempt's fit", label, check.count,
                 check.seconds)  # fmt: skip
    if choice is not None:
        best = choice["epoch"]
    _log_stop(label, len(history["val_loss"]), config, best, guard, describe_choice(choice))
    return FitResult(model, history, seconds, best, guard, choice)


def _seeded_model(
    config: Config, shape: tuple[int, int], label: str
) -> tuple[HaplotypeVAE, tf.distribute.Strategy]:
    """Seed Keras (and make every kernel deterministic if asked); build the VAE under its strategy.

    Args:
        config: Resolved configuration.
        shape: The training matrix's shape (n_train, n_variants).
        label: Name used in log lines (e.g. the section).
    """
    keras.utils.set_random_seed(config.seed)
    if config.runtime.deterministic:  # every op's kernel deterministic (docs/architecture.md)
        tf.config.experimental.enable_op_determinism()
    strategy = distribution_strategy(config.runtime)
    training_options = _training_options(config, label)
    with strategy.scope(), dtype_policy(config.runtime.precision):
        model = build_vae(
            shape[1], config.model, config.objective, training_options, config.seed,
            steps_per_epoch=math.ceil(shape[0] / config.training.batch_size),
        )  # fmt: skip
    log_devices(model, strategy, label)
    log.info(
        "%s model: hidden %s, latent %d, %d parameters",
        label, list(model.hidden_units), model.latent_dim, model.count_params(),
    )  # fmt: skip
    return model, strategy


def _training_options(config: Config, label: str) -> TrainingConfig:
    """The training options the model is compiled with, adjusted to the distribution strategy.

    Args:
        config: Resolved configuration.
        label: Name used in log lines (e.g. the section).

    Returns:
        ``config.training``, with ``steps_per_execution`` 1 under ``runtime.distribute: mirrored``.
    """
    training_options = config.training
    if config.runtime.distribute == "mirrored" and training_options.steps_per_execution > 1:
        # Keras 3 / TF 2.21: the multi-step loop fails on a distributed iterator
        # (InvalidArgumentError in multi_step_on_iterator), so mirrored runs one step per call
        log.info("%s runtime.distribute mirrored: steps_per_execution 1 (not %d)",
                 label, training_options.steps_per_execution)  # fmt: skip
        training_options = training_options.model_copy(update={"steps_per_execution": 1})
    return training_options


def _resume(
    model: HaplotypeVAE,
    strategy: tf.distribute.Strategy,
    config: Config,
    checkpoint: Path | None,
    fingerprint: str,
    label: str,
) -> CheckpointState | None:
    """Restore the training state saved in ``checkpoint`` into ``model``, if there is one.

    Args:
        model: The freshly built model (restored in place).
        strategy: Distribution strategy the model was built under.
        config: Resolved configuration (for the number of epochs in the log line).
        checkpoint: Checkpoint file (none when ``None``).
        fingerprint: Identity of the configuration and data the checkpoint must match.
        label: Name used in log lines (e.g. the section).

    Returns:
        The checkpoint's state, or ``None`` when there is nothing to resume.

    Raises:
        RunError: The checkpoint belongs to another configuration or data.
    """
    state = load_checkpoint(checkpoint) if checkpoint is not None else None
    if state is None:
        return None
    if state.fingerprint != fingerprint:
        raise RunError(
            f"{checkpoint}: this checkpoint was written with another configuration or other "
            "data. Pass --overwrite instead of --resume to discard it and start again, or use "
            "another --run-name."
        )
    with strategy.scope():
        restore_model_state(model, state)
    log.info(
        "%s resuming after epoch %d of %d (%s)", label, state.epoch, config.training.epochs,
        "training had ended" if state.stopped else "optimiser step "
        f"{int(model.optimizer.iterations.numpy())}",
    )  # fmt: skip
    return state


def _callbacks(
    config: Config,
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_val: np.ndarray,
    log_dir: Path | None,
    checkpoint: Path | None,
    fingerprint: str,
    state: CheckpointState | None,
) -> tuple[list[keras.callbacks.Callback], DivergenceGuard, TrainingCheckpoint | None]:
    """The callbacks of a fit, in the order they must run.

    Args:
        config: Resolved configuration (training options).
        model: The model (its schedule's end is where early stopping may start).
        x_train: Training haplotypes, for the generator check's LD head.
        x_val: Held-out haplotypes, for the latent monitor and the generator check.
        log_dir: TensorBoard directory (none when ``None``).
        checkpoint: Checkpoint file to save to (none when ``None``).
        fingerprint: Identity of the configuration and data, saved with the checkpoint.
        state: The resumed training state, or ``None``.

    Returns:
        ``(callbacks, divergence guard, checkpoint saver or None)``.
    """
    guard = DivergenceGuard()
    stopping, early_stopping, check = stopping_callbacks(config, model, x_train, x_val)
    callbacks = [
        LatentMonitor(x_val),  # first: adds per-dimension KL and active units to the logs
        guard,
        *stopping,  # after the guard (good weights); the check after early stopping (restores)
        EpochLogger(config.training.epochs, every=max(1, config.training.epochs // 20)),
    ]
    if log_dir is not None:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False))
    saver = None
    if checkpoint is not None:  # last: saves what the other callbacks updated
        saver = TrainingCheckpoint(
            checkpoint, fingerprint, early_stopping, guard, resumed=state, check=check
        )
        callbacks.append(saver)
    return callbacks, guard, saver


def _check_first_epoch(guard: DivergenceGuard, checkpoint: Path | None, label: str) -> None:
    """Refuse a fit that diverged before any good weights existed.

    Args:
        guard: The fit's divergence guard.
        checkpoint: Checkpoint file (removed then: it holds only the diverged state).
        label: Name used in the error (e.g. the section).

    Raises:
        TrainingDivergedError: The objective was not finite in the first epoch.
    """
    if guard.diverged and guard.last_good_epoch == 0:
        if checkpoint is not None:  # it holds only the diverged state: nothing to resume
            Path(checkpoint).unlink(missing_ok=True)
        raise TrainingDivergedError(
            f"{label}: training diverged in epoch 1 ({guard.term} is not finite) before any good "
            "weights existed; nothing was saved. Lower training.learning_rate or the objective's "
            "weights."
        )


def _log_stop(
    label: str, ran: int, config: Config, best: int, guard: DivergenceGuard, kept: str
) -> None:
    """Say why training ended, at which epoch, and whose weights were kept (``kept``: why)."""
    epochs, patience = config.training.epochs, config.training.patience
    if guard.diverged:
        why = f"diverged at epoch {guard.epoch} ({guard.term} not finite)"
    elif ran < epochs:
        why = (
            f"early stopping after epoch {ran} of {epochs}: the held-out objective (val_loss) "
            f"did not improve for {patience} epochs (training.patience)"
        )
    else:
        why = f"reached training.epochs = {epochs}"
    log.info("%s training ended: %s; keeping the weights of epoch %d (%s)",
             label, why, best, kept)  # fmt: skip
