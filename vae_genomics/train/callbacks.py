"""Keras callbacks used by training: progress lines, latent diagnostics, divergence guard, checkpoints."""

from __future__ import annotations

import json
import logging
import math
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from vae_genomics.common.logs import rate_and_eta
from vae_genomics.evaluation.metrics import active_units
from vae_genomics.models.inference import encode

log = logging.getLogger("vae_genomics.train.fit")

#: Terms checked for NaN/inf, in the order that names the culprit (the first non-finite one).
WATCHED_TERMS = ("reconstruction", "kl", "reencode", "sigma", "capacity", "loss")


class EpochLogger(keras.callbacks.Callback):
    """One log line every ``every`` epochs with the time per epoch and the ETA (for SLURM logs).

    The ETA assumes every remaining epoch runs (early stopping may end training sooner).
    """

    def __init__(self, epochs: int, every: int = 1) -> None:
        super().__init__()
        self.epochs, self.every = epochs, every
        self._started: float | None = None
        self._first = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self._started is None:  # the first epoch of this process (after a resume: not 1)
            self._started, self._first = time.perf_counter(), epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        extra = f", re-enc {logs['reencode']:.3f}" if "reencode" in logs else ""
        elapsed = time.perf_counter() - (self._started or time.perf_counter())
        done = epoch + 1 - self._first
        progress = rate_and_eta(done, self.epochs - self._first, elapsed, "epoch")
        log.info(
            "epoch %d/%d  loss %.2f (rec %.2f, KL %.2f%s, beta %.3g)  val_loss %.2f  "
            "val -ELBO %.2f  active units %s  (%s)",
            epoch + 1, self.epochs, logs.get("loss", np.nan), logs.get("reconstruction", np.nan),
            logs.get("kl", np.nan), extra, logs.get("kl_weight", np.nan),
            logs.get("val_loss", np.nan), logs.get("val_neg_elbo", np.nan),
            logs.get("active_units", "?"), progress,
        )  # fmt: skip


class LatentMonitor(keras.callbacks.Callback):
    """Per-dimension KL and active units on held-out haplotypes at each epoch end.

    Adds ``active_units`` and ``kl_dim_<k>`` (k = 1..L, nats) to the epoch's logs, so they reach
    ``history.csv`` and TensorBoard (place this callback before those that record logs).

    Args:
        x: Held-out haplotypes, shape (n, n_variants); at most ``max_rows`` are used.
        threshold: Activity threshold of an active unit (Cov_x E_q[z_j] > threshold).
        max_rows: Row cap to keep the per-epoch cost small.
    """

    def __init__(self, x: np.ndarray, threshold: float = 0.01, max_rows: int = 2048) -> None:
        super().__init__()
        self.x = x[:max_rows]
        self.threshold = threshold

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is None:
            return
        mean, log_var = encode(self.model, self.x)
        mean, log_var = mean.astype(np.float64), log_var.astype(np.float64)
        kl = 0.5 * (np.exp(log_var) + mean**2 - 1.0 - log_var)
        count, _ = active_units(mean, self.threshold)
        logs["active_units"] = float(count)
        for k, value in enumerate(kl.mean(axis=0), start=1):
            logs[f"kl_dim_{k}"] = float(value)


class DivergenceGuard(keras.callbacks.Callback):
    """Stop training when a logged term becomes NaN or infinite, and say which and when.

    The weights after the last finite epoch are kept in memory and restored when a term blows up
    (``EarlyStopping(restore_best_weights=True)`` then restores the best finite epoch, if it has
    one). ``epoch`` (1-based), ``term`` and ``last_good_epoch`` are recorded for the error message.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch: int | None = None
        self.term: str | None = None
        self.last_good_epoch = 0
        self._last_good: list[np.ndarray] | None = None

    def _check(self, epoch: int, logs: dict[str, float] | None) -> None:
        for prefix in ("", "val_"):
            for name in WATCHED_TERMS:
                value = (logs or {}).get(prefix + name)
                if value is not None and not math.isfinite(float(value)):
                    self.epoch, self.term = epoch + 1, prefix + name
                    self.model.stop_training = True
                    if self._last_good is not None:
                        self.model.set_weights(self._last_good)
                    log.error(
                        "training diverged at epoch %d: %s is %s", self.epoch, self.term, value
                    )
                    return
        self.last_good_epoch = epoch + 1
        self._last_good = self.model.get_weights()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self.epoch is None:
            self._check(epoch, logs)

    @property
    def diverged(self) -> bool:
        """Whether a non-finite term was seen."""
        return self.epoch is not None


#: Format version of the checkpoint file (a different version is never resumed).
CHECKPOINT_VERSION = 1


@dataclass
class CheckpointState:
    """The training state saved after an epoch (see :class:`TrainingCheckpoint`).

    ``epoch`` counts completed epochs; ``stopped`` says early stopping or the divergence guard ended
    training at that epoch; ``finished`` says ``fit`` returned (the weights are the final ones).
    """

    fingerprint: str
    epoch: int = 0
    stopped: bool = False
    finished: bool = False
    seconds: float = 0.0
    history: dict[str, list[float]] = field(default_factory=dict)
    early_stopping: dict[str, Any] = field(default_factory=dict)
    guard: dict[str, Any] = field(default_factory=dict)
    model: list[np.ndarray] = field(default_factory=list)
    optimizer: list[np.ndarray] = field(default_factory=list)
    best_weights: list[np.ndarray] | None = None
    last_good: list[np.ndarray] | None = None
    check: dict[str, Any] = field(default_factory=dict)
    check_weights: list[np.ndarray] | None = None


def _arrays(prefix: str, values: list[np.ndarray] | None) -> dict[str, np.ndarray]:
    return {f"{prefix}{i:05d}": np.asarray(v) for i, v in enumerate(values or [])}


def _unpack(archive: Any, prefix: str) -> list[np.ndarray]:
    keys = sorted(k for k in archive.files if k.startswith(prefix))
    return [archive[k] for k in keys]


def save_checkpoint(path: Path, state: CheckpointState) -> None:
    """Write ``state`` to ``path`` (one ``.npz`` file) atomically: a temporary file, then a rename."""
    meta = {
        "version": CHECKPOINT_VERSION,
        "fingerprint": state.fingerprint,
        "epoch": state.epoch,
        "stopped": state.stopped,
        "finished": state.finished,
        "seconds": state.seconds,
        "history": state.history,
        "early_stopping": state.early_stopping,
        "guard": state.guard,
        "has_best": state.best_weights is not None,
        "has_good": state.last_good is not None,
        "check": state.check,
        "has_check": state.check_weights is not None,
    }
    arrays = {
        "meta": np.array(json.dumps(meta)),
        **_arrays("model_", state.model),
        **_arrays("optimizer_", state.optimizer),
        **_arrays("best_", state.best_weights),
        **_arrays("good_", state.last_good),
        **_arrays("check_", state.check_weights),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> CheckpointState | None:
    """Read a checkpoint written by :func:`save_checkpoint` (``None`` when there is none)."""
    if not path.is_file():
        return None
    try:
        return _read_checkpoint(path)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        from vae_genomics.common.errors import RunError

        raise RunError(
            f"{path}: the checkpoint is damaged ({str(exc)[:200]}). Start afresh with --overwrite "
            "instead of --resume."
        ) from None


def _read_checkpoint(path: Path) -> CheckpointState | None:
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        if meta.get("version") != CHECKPOINT_VERSION:
            return None
        return CheckpointState(
            fingerprint=meta["fingerprint"],
            epoch=int(meta["epoch"]),
            stopped=bool(meta["stopped"]),
            finished=bool(meta["finished"]),
            seconds=float(meta["seconds"]),
            history=meta["history"],
            early_stopping=meta["early_stopping"],
            guard=meta["guard"],
            model=_unpack(archive, "model_"),
            optimizer=_unpack(archive, "optimizer_"),
            best_weights=_unpack(archive, "best_") if meta["has_best"] else None,
            last_good=_unpack(archive, "good_") if meta["has_good"] else None,
            check=meta.get("check") or {},
            check_weights=_unpack(archive, "check_") if meta.get("has_check") else None,
        )


def model_state(model: keras.Model) -> tuple[list[keras.Variable], list[keras.Variable]]:
    """Every variable training changes: weights, β(t)/C(t), the noise seed state, the optimiser's."""
    return list(model.variables), list(model.optimizer.variables)


class TrainingCheckpoint(keras.callbacks.Callback):
    """Save the whole training state at every epoch end, so a killed job can resume.

    The state is the model's variables (weights, the scheduled β(t) and C(t), the seed generator of
    the reparameterisation noise), the optimiser's variables (its step counter, from which the
    schedules are recomputed, and Adam's moments), early-stopping and divergence-guard state, the
    history so far and the training seconds. Place it last, so the other callbacks have updated
    their state (and the logs) before it saves. ``history`` holds the full history, including the
    epochs of earlier attempts.

    Args:
        path: The checkpoint file (written atomically).
        fingerprint: Identifies the configuration and data; a checkpoint is resumed only by the same.
        early_stopping: The run's early-stopping callback.
        guard: The run's divergence guard.
        resumed: The state this attempt started from (``None`` for a fresh start).
        check: The run's generator check (``train.stopping.GeneratorCheck``), or None.
    """

    def __init__(
        self,
        path: Path,
        fingerprint: str,
        early_stopping: keras.callbacks.EarlyStopping,
        guard: DivergenceGuard,
        resumed: CheckpointState | None = None,
        check: Any = None,
    ) -> None:
        super().__init__()
        self.path, self.fingerprint = Path(path), fingerprint
        self.early_stopping, self.guard, self.resumed = early_stopping, guard, resumed
        self.check = check
        self.history: dict[str, list[float]] = dict(resumed.history) if resumed else {}
        self.seconds_before = resumed.seconds if resumed else 0.0
        self._started = time.perf_counter()
        self._epoch = resumed.epoch if resumed else 0

    @property
    def seconds(self) -> float:
        """Training seconds over every attempt."""
        return self.seconds_before + time.perf_counter() - self._started

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        # runs after EarlyStopping.on_train_begin, which resets its state
        self._started = time.perf_counter()
        state = self.resumed
        if state is None:
            return
        es = self.early_stopping
        for name, value in state.early_stopping.items():
            setattr(es, name, value)
        es.best_weights = state.best_weights
        g = state.guard
        self.guard.epoch, self.guard.term = g.get("epoch"), g.get("term")
        self.guard.last_good_epoch = int(g.get("last_good_epoch", 0))
        self.guard._last_good = state.last_good
        if self.check is not None:
            self.check.restore(state.check, state.check_weights)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self._epoch = epoch + 1
        self._save(stopped=bool(self.model.stop_training), finished=False)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self._save(stopped=True, finished=True)

    def _save(self, stopped: bool, finished: bool) -> None:
        es = self.early_stopping
        variables, optimizer = model_state(self.model)
        save_checkpoint(
            self.path,
            CheckpointState(
                fingerprint=self.fingerprint,
                epoch=self._epoch,
                stopped=stopped,
                finished=finished,
                seconds=self.seconds,
                history=self.history,
                early_stopping={
                    "wait": int(es.wait),
                    "best": float(es.best) if es.best is not None else None,
                    "best_epoch": int(es.best_epoch),
                    "stopped_epoch": int(es.stopped_epoch),
                },
                guard={
                    "epoch": self.guard.epoch,
                    "term": self.guard.term,
                    "last_good_epoch": self.guard.last_good_epoch,
                },
                model=[np.asarray(v) for v in variables],
                optimizer=[np.asarray(v) for v in optimizer],
                best_weights=es.best_weights,
                last_good=self.guard._last_good,
                check=self.check.state() if self.check is not None else {},
                check_weights=self.check.best_weights if self.check is not None else None,
            ),
        )
        log.debug("checkpoint: epoch %d saved to %s", self._epoch, self.path)


def restore_model_state(model: keras.Model, state: CheckpointState) -> None:
    """Assign a checkpoint's model and optimiser variables (the optimiser is built first)."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    variables, optimizer = model_state(model)
    if len(variables) != len(state.model) or len(optimizer) != len(state.optimizer):
        raise ValueError("checkpoint does not match the model's variables")
    for var, value in zip(variables + optimizer, state.model + state.optimizer, strict=True):
        var.assign(value)
