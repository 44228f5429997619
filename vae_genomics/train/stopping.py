"""Early stopping and the epoch whose weights are kept (``training.select``).

Early stopping watches the held-out −ELBO (``val_loss``), which scores the VAE alone: its decoder
draws every site independently given the code. The default generator decodes through the LD head
(:class:`~vae_genomics.generate.context.ContextHead`, fitted after training on the training
haplotypes), so what generates is decoder and head together. On long sections the two part ways:
the −ELBO keeps improving while the decoder sharpens on its training haplotypes, and the
decoder-with-head model fits unseen haplotypes worse and leaks more (``docs/privacy.md``, "The
epoch kept"). Under ``select: generator`` (the default), every ``check_every`` epochs
:class:`GeneratorCheck` fits the head the generator would fit at that epoch and scores the
held-out haplotypes under it:

    val_generator_nll = -(1/n) sum_i log (1/S) sum_s p_head(x_i | z_s) p(z_s) / q(z_s | x_i)

(importance-weighted with S = ``check_samples`` draws, z_s ~ q(z | x_i), nats per haplotype;
``evaluation.likelihood.importance_weighted_nlls``). The head is fitted on at most
``check_rows`` training haplotypes (a fixed seeded subset: the head's Newton fit is the check's
cost), one posterior draw each. Every check uses the same standard-normal draws (the run's
seed): two checks differ by the model, not by the noise of the draws (common random numbers).
The first epoch is checked, and between checks the last value is carried forward (in the
history, for the curve).

Training stops as before (early stopping on ``val_loss``, whose best weights are restored).
Then the restored epoch is checked too, and the best check's weights replace them only when its
NLL is lower by more than ``check_margin`` (a fraction of the restored epoch's): on sections where
the generator's NLL is flat the two epochs are within the check's noise and the −ELBO's later
epoch is kept, exactly as under ``select: elbo``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import keras
import numpy as np

from vae_genomics.config import Config
from vae_genomics.evaluation.likelihood import importance_weighted_nlls
from vae_genomics.generate import DEFAULT_GENERATOR
from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.decoders import context_order
from vae_genomics.generate.samplers import decode_logits
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE

log = logging.getLogger("vae_genomics.train.fit")

#: The history key of the checks (carried between them).
MONITOR = "val_generator_nll"


def generator_nll(
    model: keras.Model,
    x_fit: np.ndarray,
    x_val: np.ndarray,
    order: int,
    samples: int,
    seed: int,
) -> float:
    """Held-out importance-weighted NLL of the decoder with an LD head fitted now.

    Args:
        model: The VAE as it stands.
        x_fit: Training haplotypes the head is fitted on, shape (m, n_variants), 0/1.
        x_val: Held-out haplotypes scored, shape (n, n_variants), 0/1.
        order: The head's K (the generator's ``ld:K``).
        samples: S, importance draws per held-out haplotype.
        seed: Seed of the posterior draws (the head's and the bound's).

    Returns:
        Nats per held-out haplotype; ``inf`` when the decoder's logits are not finite.
    """
    rng = np.random.default_rng(seed)
    mean, log_var = encode(model, x_fit)
    z = mean + np.exp(0.5 * log_var) * rng.standard_normal(np.shape(mean))
    logits = decode_logits(model, z)
    if not np.isfinite(logits).all():
        return float("inf")
    head = ContextHead(order=order).fit(logits, x_fit)
    bound = importance_weighted_nlls(model, x_val, (head,), samples, rng)[0]["nll"]
    return float(bound) if np.isfinite(bound) else float("inf")


class GeneratorCheck(keras.callbacks.Callback):
    """Check the generator every ``every`` epochs, keep its best weights, and choose at the end.

    Place it after ``EarlyStopping``: its ``on_train_end`` then runs once early stopping has
    restored the −ELBO's best weights, which it checks against its own best.

    Args:
        x_train: Training haplotypes, shape (n_train, n_variants).
        x_val: Held-out haplotypes, shape (n_val, n_variants).
        early_stopping: The fit's early stopping (its best epoch is the −ELBO's).
        order: The head's K.
        every: Epochs between checks (epochs ``every``, ``2 every``, ...; and the first).
        samples: Importance draws per held-out haplotype.
        rows: Training haplotypes the head is fitted on (0: all).
        margin: Fraction by which the best check must beat the −ELBO's epoch to be kept.
        seed: The run's seed.

    Attributes:
        last: The latest check's value (carried in the history).
        best: ``{"epoch", "nll"}`` of the best check so far, or None; ``best_weights`` its weights.
        choice: After training: ``epoch`` kept, ``by`` ("generator" or "elbo"), ``elbo_epoch``,
            ``elbo_nll``, ``generator_epoch``, ``generator_nll``, ``margin``.
    """

    def __init__(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray,
        early_stopping: keras.callbacks.EarlyStopping,
        order: int,
        every: int,
        samples: int,
        rows: int,
        margin: float,
        seed: int,
    ) -> None:
        super().__init__()
        if 0 < rows < len(x_train):
            keep = np.random.default_rng(seed).permutation(len(x_train))[:rows]
            x_train = x_train[np.sort(keep)]
        self.x_fit, self.x_val, self.early_stopping = x_train, x_val, early_stopping
        self.order, self.every, self.samples = order, every, samples
        self.margin, self.seed = margin, seed
        self.last: float | None = None
        self.best: dict[str, Any] | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.choice: dict[str, Any] | None = None
        self.count, self.seconds = 0, 0.0  # checks made by this fit, and their wall time

    def restore(self, state: dict[str, Any], weights: list[np.ndarray] | None) -> None:
        """Continue a resumed fit: the last value and the best check (with its weights)."""
        self.last, self.best = state.get("last"), state.get("best")
        self.best_weights = weights

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps besides the best weights (JSON-ready)."""
        return {"last": self.last, "best": self.best}

    def _check(self) -> float:
        started = time.perf_counter()
        value = generator_nll(
            self.model, self.x_fit, self.x_val, self.order, self.samples,
            seed=self.seed,  # the same draws at every check: epochs differ by the model
        )  # fmt: skip
        self.count += 1
        self.seconds += time.perf_counter() - started
        return value

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is None:
            return
        diverged = self.model.stop_training and not self.early_stopping.stopped_epoch
        if not diverged and (self.last is None or (epoch + 1) % self.every == 0):
            self.last = self._check()
            log.debug("epoch %d: held-out NLL of the generator %.3f", epoch + 1, self.last)
            comparable = epoch >= self.early_stopping.start_from_epoch  # as early stopping
            if comparable and (self.best is None or self.last < self.best["nll"]):
                self.best = {"epoch": epoch + 1, "nll": self.last}
                self.best_weights = self.model.get_weights()
        if self.last is not None:
            logs[MONITOR] = self.last

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.best is None or self.best_weights is None:
            return
        es = self.early_stopping
        elbo_epoch = int(es.best_epoch) + 1 if es.best_weights is not None else None
        if elbo_epoch is None or elbo_epoch == self.best["epoch"]:
            elbo_nll = self.best["nll"] if elbo_epoch is not None else None
        else:
            elbo_nll = self._check()  # the weights early stopping restored
        by = (
            "generator"
            if elbo_nll is None or self.best["nll"] < (1 - self.margin) * elbo_nll
            else "elbo"
        )
        if by == "generator" and elbo_epoch != self.best["epoch"]:
            self.model.set_weights(self.best_weights)
        self.choice = {
            "epoch": self.best["epoch"] if by == "generator" else elbo_epoch, "by": by,
            "elbo_epoch": elbo_epoch, "elbo_nll": elbo_nll,
            "generator_epoch": self.best["epoch"], "generator_nll": self.best["nll"],
            "margin": self.margin,
        }  # fmt: skip


def stopping_callbacks(
    config: Config, model: HaplotypeVAE, x_train: np.ndarray, x_val: np.ndarray
) -> tuple[list[keras.callbacks.Callback], keras.callbacks.EarlyStopping, GeneratorCheck | None]:
    """Early stopping and, under ``select: generator``, the generator check after it.

    Args:
        config: Resolved configuration (``training``, ``seed``).
        model: The model (its schedule's end is where early stopping may start).
        x_train: Training haplotypes (the check's LD head).
        x_val: Held-out haplotypes (the check's bound).

    Returns:
        The callbacks to place after the divergence guard, the early stopping and the check.
    """
    t = config.training
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=t.patience,
        restore_best_weights=True,
        # objectives under a still-changing beta(t) or C(t) are not comparable
        start_from_epoch=model.schedule_end_epoch(),
    )
    if t.select != "generator":
        return [early_stopping], early_stopping, None
    order = context_order(DEFAULT_GENERATOR.split("/")[1])  # the default generator's head
    check = GeneratorCheck(
        x_train, x_val, early_stopping, order, t.check_every, t.check_samples, t.check_rows,
        t.check_margin, config.seed,
    )  # fmt: skip
    return [early_stopping, check], early_stopping, check


def describe_choice(choice: dict[str, Any] | None) -> str:
    """The epoch kept and why, for the log line that ends training."""
    if choice is None:
        return "best val_loss"
    if choice["elbo_nll"] is None:  # early stopping never compared an epoch
        return f"the generator's best check: held-out NLL {choice['generator_nll']:.2f}"
    if choice["by"] == "generator" and choice["epoch"] != choice["elbo_epoch"]:
        return (
            f"the generator's best check: held-out NLL {choice['generator_nll']:.2f} against "
            f"{choice['elbo_nll']:.2f} at the best val_loss epoch {choice['elbo_epoch']}, lower "
            f"by more than training.check_margin = {choice['margin']:g}"
        )
    return (
        f"best val_loss; the generator's best check (epoch {choice['generator_epoch']}, NLL "
        f"{choice['generator_nll']:.2f} against {choice['elbo_nll']:.2f}) is not lower by more "
        f"than training.check_margin = {choice['margin']:g}"
    )
