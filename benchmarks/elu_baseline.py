#!/usr/bin/env python
"""A plain ELU VAE baseline, and its held-out IW-NLL beside a finished run's.

The baseline is the common recipe: encoder and decoder of two ELU layers each (widths
``--hidden``, decoder mirrored), latent dimension 8, a Bernoulli likelihood summed over variants,
β = 1, Adam at 1e-3, batch 64; 10% of the run's *training* haplotypes are held out for early stopping
(patience ``--patience`` epochs, best weights kept). Both models are then scored on the run's own
held-out haplotypes, which neither trained on, by the importance-weighted NLL
(:func:`~vae_genomics.evaluation.likelihood.importance_weighted_nll`, K = ``--iw-samples``, the same
seed): lower is better; ``gain`` is the run's relative improvement, (baseline - run) / baseline.

Usage:
    python benchmarks/elu_baseline.py runs/<section>/<run> [more runs] [--epochs 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from vae_genomics.evaluation.likelihood import importance_weighted_nll
from vae_genomics.run.load import load_run

log = logging.getLogger("elu_baseline")


class EluVAE(keras.Model):
    """Two ELU layers per side, Gaussian posterior, Bernoulli decoder (logits)."""

    def __init__(self, n_variants: int, hidden: tuple[int, int], latent_dim: int = 8) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.tracker = keras.metrics.Mean(name="nelbo")
        self.enc = keras.Sequential([keras.layers.Dense(h, activation="elu") for h in hidden])
        self.to_mean = keras.layers.Dense(latent_dim)
        self.to_log_var = keras.layers.Dense(latent_dim)
        self.dec = keras.Sequential(
            [keras.layers.Dense(h, activation="elu") for h in reversed(hidden)]
            + [keras.layers.Dense(n_variants)]
        )

    def encode(self, x, training: bool = False):
        h = self.enc(tf.cast(x, tf.float32), training=training)
        return self.to_mean(h), self.to_log_var(h)

    def decode(self, z, training: bool = False):
        return self.dec(z, training=training)

    def _loss(self, x):
        x = tf.cast(x, tf.float32)
        mean, log_var = self.encode(x, training=True)
        z = mean + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mean))
        logits = self.decode(z, training=True)
        rec = tf.reduce_sum(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1
        )
        kl = -0.5 * tf.reduce_sum(1 + log_var - mean**2 - tf.exp(log_var), axis=-1)
        return tf.reduce_mean(rec + kl)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = self._loss(data)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        self.tracker.update_state(loss)
        return {"nelbo": self.tracker.result()}

    def test_step(self, data):
        self.tracker.update_state(self._loss(data))
        return {"nelbo": self.tracker.result()}

    @property
    def metrics(self):
        return [self.tracker]


def train_baseline(
    x_train: np.ndarray, hidden: tuple[int, int], epochs: int, patience: int, seed: int
) -> EluVAE:
    """The baseline fitted on ``x_train`` (n, n_variants) with 10% of it for early stopping."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_train))
    n_val = max(1, len(x_train) // 10)
    val, fit = x_train[order[:n_val]], x_train[order[n_val:]]
    model = EluVAE(x_train.shape[1], hidden)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    fit_ds = tf.data.Dataset.from_tensor_slices(fit.astype(np.float32)).shuffle(len(fit), seed=seed)
    val_ds = tf.data.Dataset.from_tensor_slices(val.astype(np.float32)).batch(256)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_nelbo", mode="min", patience=patience, restore_best_weights=True
    )
    history = model.fit(
        fit_ds.batch(64), validation_data=val_ds, epochs=epochs, callbacks=[stop], verbose=0
    )
    val = history.history["val_nelbo"]
    log.info("baseline: %d epochs, best validation -ELBO %.2f", len(val), min(val))
    return model


def compare(run_dir: Path, hidden: tuple[int, int], epochs: int, patience: int, k: int) -> dict:
    """IW-NLL of the run's model and of the baseline on the run's held-out haplotypes."""
    run = load_run(run_dir)
    x = run.data.matrix.haplotypes
    x_train, x_val = x[run.train_rows], x[run.val_rows]
    seed = int(run.config.seed)
    baseline = train_baseline(x_train, hidden, epochs, patience, seed)
    ours = importance_weighted_nll(run.model, x_val, n_samples=k, seed=seed)["nll"]
    theirs = importance_weighted_nll(baseline, x_val, n_samples=k, seed=seed)["nll"]
    row = {
        "run": str(run_dir),
        "section": run.data.section.name,
        "haplotypes": int(x.shape[0]),
        "variants": int(x.shape[1]),
        "iw_nll_run": ours,
        "iw_nll_elu_baseline": theirs,
        "gain": (theirs - ours) / theirs,
    }
    log.info("%s", row)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished run directories")
    parser.add_argument("--hidden", type=int, nargs=2, default=[256, 64])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rows = [
        compare(r, tuple(args.hidden), args.epochs, args.patience, args.iw_samples)
        for r in args.runs
    ]
    print("| section | haplotypes × variants | IW-NLL run | IW-NLL ELU baseline | gain |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['section']} | {r['haplotypes']} × {r['variants']} | {r['iw_nll_run']:.2f} | "
            f"{r['iw_nll_elu_baseline']:.2f} | {100 * r['gain']:.1f}% |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
