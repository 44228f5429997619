"""Early stopping: on the generator's held-out likelihood (``training.stop_on: generator``, the
default) or on the held-out −ELBO (``elbo``).

The held-out −ELBO (``val_loss``) scores the VAE alone: its decoder draws every site
independently given the code. The default generator decodes through the LD head
(:class:`~vae_genomics.generate.context.ContextHead`, fitted after training on the training
haplotypes), so what generates is decoder and head together. On long sections the two part
ways: the −ELBO keeps improving while the decoder sharpens on its training haplotypes, and the
decoder-with-head model fits unseen haplotypes worse and leaks more (``docs/privacy.md``,
"Early stopping on the generator"). Every ``check_every`` epochs :class:`GeneratorCheck` fits
the head the generator would fit at that epoch and scores the held-out haplotypes under it:

    val_generator_nll = -(1/n) sum_i log (1/S) sum_s p_head(x_i | z_s) p(z_s) / q(z_s | x_i)

(importance-weighted with S = ``check_samples`` draws, z_s ~ q(z | x_i), nats per haplotype;
``evaluation.likelihood.importance_weighted_nlls``). The head is fitted on at most
``check_rows`` training haplotypes (a fixed seeded subset: the head's Newton fit is the check's
cost), one posterior draw each. The first and the last epoch are checked too. Between checks the
last value is carried forward (across a resume as well), so Keras's ``EarlyStopping`` monitoring
it counts patience in epochs and restores the checked epoch's weights (a carried value never
counts as an improvement).
"""

from __future__ import annotations

import logging
import time

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

#: The log key early stopping monitors under ``training.stop_on: generator``.
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
    """Log :data:`MONITOR` at every epoch end (computed every ``every`` epochs, carried between).

    Place it after the divergence guard and before ``EarlyStopping``: the guard has restored good
    weights before a check, and early stopping reads the value from the same logs.

    Args:
        x_train: Training haplotypes, shape (n_train, n_variants).
        x_val: Held-out haplotypes, shape (n_val, n_variants).
        order: The head's K.
        every: Epochs between checks: epochs ``every``, ``2 every``, ..., the first epoch and
            the last (``training.epochs``).
        samples: Importance draws per held-out haplotype.
        rows: Training haplotypes the head is fitted on (0: all).
        seed: The run's seed.
        last: The value carried at the epoch a resumed fit starts after (None: check at the
            first epoch).
    """

    def __init__(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray,
        order: int,
        every: int,
        samples: int,
        rows: int,
        seed: int,
        last: float | None = None,
    ) -> None:
        super().__init__()
        if 0 < rows < len(x_train):
            keep = np.random.default_rng(seed).permutation(len(x_train))[:rows]
            x_train = x_train[np.sort(keep)]
        self.x_fit, self.x_val = x_train, x_val
        self.order, self.every, self.samples, self.seed = order, every, samples, seed
        self.last = last
        self.count, self.seconds = 0, 0.0  # checks made by this fit, and their wall time

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is None:
            return
        if self.model.stop_training and self.last is not None:  # diverged: nothing to score
            logs[MONITOR] = self.last
            return
        final = epoch + 1 == (self.params or {}).get("epochs")
        if self.last is None or (epoch + 1) % self.every == 0 or final:
            started = time.perf_counter()
            self.last = generator_nll(
                self.model, self.x_fit, self.x_val, self.order, self.samples,
                seed=self.seed * 100_003 + epoch,
            )  # fmt: skip
            self.count += 1
            self.seconds += time.perf_counter() - started
            log.debug("epoch %d: held-out NLL of the generator %.3f (%.1f s)",
                      epoch + 1, self.last, time.perf_counter() - started)  # fmt: skip
        logs[MONITOR] = self.last


def monitor_key(config: Config) -> str:
    """The log key early stopping watches (``training.stop_on``)."""
    return MONITOR if config.training.stop_on == "generator" else "val_loss"


def watched(config: Config) -> str:
    """What early stopping watches, in words for the log."""
    if config.training.stop_on == "generator":
        return f"the generator's held-out NLL ({MONITOR}, checked every {config.training.check_every} epochs)"
    return "the held-out objective (val_loss)"


def stopping_callbacks(
    config: Config,
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_val: np.ndarray,
    carried: float | None = None,
) -> tuple[list[keras.callbacks.Callback], keras.callbacks.EarlyStopping]:
    """The generator check (under ``stop_on: generator``) and early stopping, in that order.

    Args:
        config: Resolved configuration (``training``, ``seed``).
        model: The model (its schedule's end is where early stopping may start).
        x_train: Training haplotypes (the check's LD head).
        x_val: Held-out haplotypes (the check's bound).
        carried: A resumed fit's last :data:`MONITOR` value.

    Returns:
        The callbacks to place after the divergence guard, and the early stopping among them.
    """
    t = config.training
    early_stopping = keras.callbacks.EarlyStopping(
        monitor=monitor_key(config),
        mode="min",
        patience=t.patience,
        restore_best_weights=True,
        # objectives under a still-changing beta(t) or C(t) are not comparable
        start_from_epoch=model.schedule_end_epoch(),
    )
    if t.stop_on != "generator":
        return [early_stopping], early_stopping
    order = context_order(DEFAULT_GENERATOR.split("/")[1])  # the default generator's head
    check = GeneratorCheck(
        x_train, x_val, order, t.check_every, t.check_samples, t.check_rows, config.seed, carried
    )
    return [check, early_stopping], early_stopping
