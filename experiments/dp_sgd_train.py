#!/usr/bin/env python
"""Train one section with clipped, noised per-example gradients (DP-SGD), for the privacy table.

Runs ``vae-genomics train`` with the model's ``train_step`` replaced: every haplotype's gradient of
its own negative ELBO (reconstruction + KL weight × KL, the default objective) is computed
(``tf.vectorized_map``), scaled down to L2 norm at most ``--clip``, summed, perturbed by Gaussian
noise of standard deviation ``--noise`` × ``--clip`` and divided by the batch size (Abadi et al.
2016). Everything else (data, split, early stopping, evaluation, report) is the train command's.
No privacy accounting is done: the noise is measured as a regulariser, by the realism and privacy
panel (``experiments/generator_seeds.py``). experiments/notebook/privacy.md
("Clipped and noised per-example gradients") was made with it.

Usage:
    python -m experiments.dp_sgd_train --clip 20 --noise 0.5 -- --config 1kg.yaml
        --section hotspot_2285807_2320833 --run-name dp-noise0.5
"""

from __future__ import annotations

import argparse
import sys

import tensorflow as tf

from vae_genomics.cli import main as cli_main
from vae_genomics.models.losses import bernoulli_nll
from vae_genomics.models.vae import HaplotypeVAE


def dp_train_step(clip: float, noise: float):
    """A ``train_step`` for :class:`HaplotypeVAE` with per-example clipping and Gaussian noise."""

    def train_step(self: HaplotypeVAE, data):
        x = data[0] if isinstance(data, tuple) else data
        spec = self.spec
        if (spec.likelihood != "bernoulli" or spec.capacity.enabled or spec.free_bits > 0
                or spec.reencode.weight > 0 or self.prior_parameters() is not None):  # fmt: skip
            raise ValueError("dp_sgd_train.py supports the default objective only")
        self.update_schedules(self.optimizer.iterations)
        x = tf.cast(x, "float32")
        eps = tf.random.normal((tf.shape(x)[0], self.latent_dim))
        beta = tf.convert_to_tensor(self.kl_weight)
        variables = self.trainable_variables

        def one(args):
            xi, ei = args
            with tf.GradientTape() as tape:
                mean, log_var = self.encode(xi[None], training=True)
                z = mean + tf.exp(0.5 * log_var) * ei[None]
                rec = bernoulli_nll(xi[None], self.decode(z, training=True))
                kl = 0.5 * tf.reduce_sum(tf.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)
                loss = tf.reduce_sum(rec + beta * kl)
            return tape.gradient(loss, variables)

        grads = tf.vectorized_map(one, (x, eps))  # each (batch, *variable shape)
        batch = tf.shape(x)[0]
        norms = tf.sqrt(
            tf.add_n([tf.reduce_sum(tf.reshape(g, (batch, -1)) ** 2, axis=1) for g in grads])
        )
        scale = tf.minimum(1.0, clip / (norms + 1e-12))
        noisy = []
        for g in grads:
            shape = tf.concat([[-1], tf.ones(tf.rank(g) - 1, tf.int32)], 0)
            total = tf.reduce_sum(g * tf.reshape(scale, shape), axis=0)
            total += tf.random.normal(tf.shape(total), stddev=noise * clip)
            noisy.append(total / tf.cast(batch, "float32"))
        self.optimizer.apply_gradients(zip(noisy, variables, strict=True))
        return self._update(self.objective(x, training=False), x)

    return train_step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=float, required=True, help="per-example L2 norm bound")
    parser.add_argument("--noise", type=float, default=0.0, help="noise std / clip")
    parser.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then train's arguments")
    args = parser.parse_args(argv)
    if args.clip <= 0 or args.noise < 0:
        parser.error("--clip must be > 0 and --noise >= 0")
    rest = [a for a in args.train_args if a != "--"]
    HaplotypeVAE.train_step = dp_train_step(args.clip, args.noise)
    # vectorized_map of the per-example tapes is not compiled with XLA
    return cli_main(["train", *rest, "--set", "training.jit_compile=false"])


if __name__ == "__main__":
    sys.exit(main())
