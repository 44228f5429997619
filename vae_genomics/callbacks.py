"""Keras callbacks used by training: progress lines, latent diagnostics, divergence guard."""

from __future__ import annotations

import logging
import math

import keras
import numpy as np

from vae_genomics.evaluation.metrics import active_units, encode

log = logging.getLogger("vae_genomics.training")

#: Terms checked for NaN/inf, in the order that names the culprit (the first non-finite one).
WATCHED_TERMS = ("reconstruction", "kl", "reencode", "sigma", "capacity", "loss")


class EpochLogger(keras.callbacks.Callback):
    """One log line every ``every`` epochs (cluster-friendly progress)."""

    def __init__(self, epochs: int, every: int = 1) -> None:
        super().__init__()
        self.epochs, self.every = epochs, every

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        extra = f", re-enc {logs['reencode']:.3f}" if "reencode" in logs else ""
        log.info(
            "epoch %d/%d  loss %.2f (rec %.2f, KL %.2f%s, beta %.3g)  val_loss %.2f  "
            "val -ELBO %.2f  active units %s",
            epoch + 1, self.epochs, logs.get("loss", np.nan), logs.get("reconstruction", np.nan),
            logs.get("kl", np.nan), extra, logs.get("kl_weight", np.nan),
            logs.get("val_loss", np.nan), logs.get("val_neg_elbo", np.nan),
            logs.get("active_units", "?"),
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
