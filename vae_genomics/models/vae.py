"""``HaplotypeVAE``: a VAE for binary haplotypes whose custom training step carries the objective suite.

Objective per haplotype x (n variants, latent dimension L), batch-averaged, in nats:

    loss = reconstruction + rate term + λ_re · re-encoding
    reconstruction = sum_j softplus(l_j) - x_j l_j   (Bernoulli; or the Gaussian option)
    KL = sum_k 0.5 (sigma_k^2 + mu_k^2 - 1 - log sigma_k^2),  with z = mu + sigma * eps
    (learned prior, objective.prior.kind = mog: KL = log q(z|x) - log p(z), one draw, with
     p(z) = sum_k pi_k N(z; m_k, diag s_k^2) trained with the model)
    rate term = beta(t) * KL                                  (default)
              = beta(t) * sum_k max(free_bits, mean_batch KL_k) (free bits)
              = gamma * |KL - C(t)|                           (capacity)

beta(t) and C(t) are non-trainable variables recomputed inside the compiled step from the optimiser's
step counter (see ``schedules.py``), so they are right under ``tf.function``, XLA and
``steps_per_execution``. ``train_step`` and ``test_step`` share :meth:`HaplotypeVAE.objective`: the
validation numbers are the held-out objective (one posterior sample per haplotype) at the current
beta(t) and C(t). Options are validated by :class:`vae_genomics.config.ObjectiveConfig` and stored in
the model's config, so they round-trip through ``.keras``.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import layers, ops

from vae_genomics.config import ObjectiveConfig
from vae_genomics.models import schedules
from vae_genomics.models.losses import (
    bernoulli_nll,
    bound_log_var,
    diagonal_log_density,
    gaussian_kl,
    gaussian_nll,
    mixture_log_density,
    mixture_marginal_log_density,
    optimal_log_sigma,
    reencode_log_prob,
    reencode_squared_error,
)


def _mlp(
    units: list[int], activation: str, dropout: float, out: int, name: str
) -> keras.Sequential:
    stack: list[layers.Layer] = []
    for i, width in enumerate(units):
        stack.append(layers.Dense(width, activation=activation, name=f"{name}_dense_{i}"))
        if dropout > 0:
            stack.append(layers.Dropout(dropout, name=f"{name}_dropout_{i}"))
    stack.append(layers.Dense(out, name=f"{name}_out"))
    return keras.Sequential(stack, name=name)


@keras.saving.register_keras_serializable(package="vae_genomics")
class HaplotypeVAE(keras.Model):
    """Variational autoencoder over binary haplotypes.

    Args:
        n_variants: Input width (variants in the section).
        latent_dim: Latent dimension L.
        hidden_units: Encoder hidden widths, outermost first; the decoder mirrors them.
        activation: Hidden-layer activation (a Keras activation name).
        dropout: Dropout rate after each hidden layer (0 disables).
        objective: Objective options as a mapping (validated by ``ObjectiveConfig``; default: the
            Bernoulli ELBO with beta = 1).
        steps_per_epoch: Optimiser steps per epoch, to convert epoch-valued schedule options.
        epochs: Planned epochs (the cyclical schedule spreads its cycles over them).
        seed: Seed of the reparameterisation and Bernoulli noise.
        **kwargs: Passed to ``keras.Model`` (e.g. ``name``).

    Call:
        ``model(x)`` returns the decoder logits at the posterior mean, shape (batch, n_variants).
    """

    def __init__(
        self,
        n_variants: int,
        latent_dim: int,
        hidden_units: list[int] | tuple[int, ...],
        activation: str = "elu",
        dropout: float = 0.0,
        objective: dict[str, Any] | None = None,
        steps_per_epoch: int = 1,
        epochs: int = 1,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.n_variants = int(n_variants)
        self.latent_dim = int(latent_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.dropout = float(dropout)
        self.spec = ObjectiveConfig.model_validate(objective or {})
        self.steps_per_epoch = max(1, int(steps_per_epoch))
        self.epochs = max(1, int(epochs))
        self.seed = seed
        self.encoder = _mlp(
            list(self.hidden_units), activation, dropout, 2 * self.latent_dim, "encoder"
        )
        self.decoder = _mlp(
            list(self.hidden_units[::-1]), activation, dropout, self.n_variants, "decoder"
        )
        self.kl_weight = self._scalar("kl_weight", self._kl_weight_at(0))
        self.capacity_target = self._scalar("capacity_target", 0.0)
        self.log_sigma = None
        if self.spec.likelihood == "gaussian" and self.spec.sigma == "learned":
            self.log_sigma = self._scalar("log_sigma", 0.0, trainable=True)
        self.prior_logits = self.prior_means = self.prior_log_vars = None
        if self.spec.prior.kind == "mog":
            shape = (self.spec.prior.components, self.latent_dim)
            self.prior_logits = self.add_weight(
                name="prior_logits", shape=shape[:1], initializer="zeros", trainable=True
            )
            # Means spread like draws from N(0, I), so the components start apart.
            self.prior_means = self.add_weight(
                name="prior_means",
                shape=shape,
                initializer=keras.initializers.RandomNormal(stddev=1.0, seed=seed),
                trainable=True,
            )
            self.prior_log_vars = self.add_weight(
                name="prior_log_vars", shape=shape, initializer="zeros", trainable=True
            )
        self.noise = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.build((None, self.n_variants))

    def _scalar(self, name: str, value: float, trainable: bool = False) -> keras.Variable:
        return self.add_weight(
            name=name,
            shape=(),
            initializer=keras.initializers.Constant(float(value)),
            trainable=trainable,
        )

    def build(self, input_shape) -> None:
        """Create the encoder and decoder weights."""
        self.encoder.build((None, self.n_variants))
        self.decoder.build((None, self.latent_dim))
        super().build(input_shape)

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Numbers logged per epoch (Keras prefixes validation ones with ``val_``)."""
        names = ["loss", "reconstruction", "kl", "neg_elbo", "kl_weight"]
        if self.spec.capacity.enabled:
            names.append("capacity")
        if self.spec.reencode.weight > 0:
            names.append("reencode")
        if self.spec.likelihood == "gaussian":
            names.append("sigma")
        return tuple(names)

    # --- schedules -------------------------------------------------------------------------------
    def _kl_weight_at(self, step):
        s = self.spec.schedule
        return schedules.kl_weight_at(
            step,
            s.kind,
            target=self.spec.kl_weight,
            start=s.start,
            warmup_steps=schedules.epochs_to_steps(s.epochs, self.steps_per_epoch),
            total_steps=self.epochs * self.steps_per_epoch,
            steepness=s.steepness,
            cycles=s.cycles,
            ramp=s.ramp_fraction,
        )

    def update_schedules(self, step) -> None:
        """Set beta(t) and C(t) for optimiser step ``step`` (runs inside the compiled step).

        A constant schedule leaves ``kl_weight`` alone, so it can be set from outside.
        """
        if self.spec.schedule.kind != "constant":
            self.kl_weight.assign(ops.cast(self._kl_weight_at(step), self.kl_weight.dtype))
        cap = self.spec.capacity
        if cap.enabled:
            steps = schedules.epochs_to_steps(cap.epochs, self.steps_per_epoch)
            self.capacity_target.assign(schedules.capacity(step, cap.max, steps))

    def schedule_end_epoch(self) -> int:
        """First epoch (0-based) from which the objective no longer changes (for early stopping)."""
        s = self.spec.schedule
        end = schedules.schedule_end_epoch(s.kind, s.epochs, self.epochs, s.cycles, s.ramp_fraction)
        if self.spec.capacity.enabled:
            end = max(end, min(self.spec.capacity.epochs, self.epochs))
        return end

    # --- inference -------------------------------------------------------------------------------
    def encode(self, x, training: bool = False):
        """Posterior parameters.

        Args:
            x: Haplotypes, shape (batch, n_variants), any numeric dtype.
            training: Dropout on or off.

        Returns:
            ``(mean, log_var)``, each shape (batch, latent_dim); log_var bounded to (-10, 10).
        """
        h = self.encoder(ops.cast(x, self.compute_dtype), training=training)
        mean, raw = ops.split(h, 2, axis=-1)
        return mean, bound_log_var(raw)

    def decode(self, z, training: bool = False):
        """Decoder logits for latent codes ``z`` (batch, latent_dim) → (batch, n_variants)."""
        return self.decoder(z, training=training)

    def prior_parameters(self):
        """The learned prior's ``(logits (K,), means (K, L), log_vars (K, L))``, or None for N(0, I).

        Log-variances are bounded like the encoder's (see ``bound_log_var``).
        """
        if self.prior_means is None:
            return None
        return (
            ops.convert_to_tensor(self.prior_logits),
            ops.convert_to_tensor(self.prior_means),
            bound_log_var(ops.convert_to_tensor(self.prior_log_vars)),
        )

    def kl_terms(self, z, mean, log_var):
        """KL of the posterior from the prior: ``(kl (batch,), kl_per_dim (batch, L))``, nats.

        Standard normal prior: the analytic KL, whose per-dimension terms sum to it. Learned
        mixture: the one-draw estimate log q(z|x) - log p(z) at ``z``; per dimension, the same
        against each dimension's marginal of the prior (a diagnostic of each dimension's use,
        which does not sum to the KL).
        """
        prior = self.prior_parameters()
        if prior is None:
            per_dim = gaussian_kl(mean, log_var)
            return ops.sum(per_dim, axis=-1), per_dim
        log_q = diagonal_log_density(z, mean, log_var)
        kl = ops.sum(log_q, axis=-1) - mixture_log_density(z, *prior)
        return kl, log_q - mixture_marginal_log_density(z, *prior)

    def sample_posterior(self, mean, log_var, noise: keras.random.SeedGenerator | None = None):
        """Reparameterised draw ``z = mean + exp(log_var / 2) * eps``, ``eps`` from ``noise``
        (default: the model's own generator, the training noise)."""
        eps = keras.random.normal(
            ops.shape(mean), dtype=mean.dtype, seed=self.noise if noise is None else noise
        )
        return mean + ops.exp(0.5 * log_var) * eps

    def call(self, x, training: bool = False):
        """Logits of the reconstruction at the posterior mean."""
        mean, _ = self.encode(x, training=training)
        return self.decode(mean, training=training)

    # --- objective -------------------------------------------------------------------------------
    def reconstruction_nll(self, x, logits):
        """Per-haplotype reconstruction NLL (nats, shape (batch,)) and the log sigma used (or None)."""
        if self.spec.likelihood == "bernoulli":
            return bernoulli_nll(x, logits), None
        probs = ops.sigmoid(logits)
        if self.log_sigma is not None:
            log_sigma = ops.convert_to_tensor(self.log_sigma)
        elif self.spec.sigma == "optimal":
            log_sigma = optimal_log_sigma(x, probs)
        else:
            log_sigma = ops.log(ops.convert_to_tensor(float(self.spec.sigma)))
        return gaussian_nll(x, probs, log_sigma), log_sigma

    def reencode_loss(
        self, z, logits, training: bool = False, noise: keras.random.SeedGenerator | None = None
    ):
        """Re-encoding loss per haplotype (shape (batch,)): re-encode x_hat, compare with ``z``.

        ``x_hat`` is the decoder's probabilities, or (``input: sample``) a Bernoulli draw from them
        with a straight-through gradient (the draw's gradient is taken to be that of the
        probabilities); the draw comes from ``noise`` (default: the model's generator).
        """
        spec = self.spec.reencode
        x_hat = ops.sigmoid(logits)
        if spec.input == "sample":
            draw = ops.cast(
                keras.random.uniform(ops.shape(x_hat), seed=self.noise if noise is None else noise)
                < x_hat,
                x_hat.dtype,
            )
            x_hat = x_hat + ops.stop_gradient(draw - x_hat)
        mean_re, log_var_re = self.encode(x_hat, training=training)
        mean_re = ops.cast(mean_re, "float32")
        if spec.loss == "se":
            return reencode_squared_error(z, mean_re)
        return reencode_log_prob(z, mean_re, ops.cast(log_var_re, "float32"), spec.cap)

    def objective(
        self, x, training: bool = False, noise: keras.random.SeedGenerator | None = None
    ) -> dict[str, tf.Tensor]:
        """The objective and its parts on a batch (batch means, nats per haplotype).

        Args:
            x: Haplotypes, shape (batch, n_variants).
            training: Dropout on or off.
            noise: Where the posterior (and re-encoding) draws come from: ``None`` for the
                model's own generator (training, whose state is part of the model and advances
                with every draw), or a caller's generator (an evaluation: draws fixed by its seed,
                whatever ran before, and the model's generator left untouched).

        Returns:
            Scalars ``loss`` (what is minimised), ``reconstruction``, ``kl``, ``neg_elbo``
            (reconstruction + KL, whatever beta is), ``kl_weight``, and when enabled ``capacity``,
            ``reencode``, ``sigma``; plus ``kl_per_dim`` (L,), each dimension's batch-mean KL.
        """
        mean, log_var = self.encode(x, training=training)
        mean, log_var = ops.cast(mean, "float32"), ops.cast(log_var, "float32")
        z = self.sample_posterior(mean, log_var, noise)
        logits = ops.cast(
            self.decode(ops.cast(z, self.compute_dtype), training=training), "float32"
        )
        rec_vec, log_sigma = self.reconstruction_nll(x, logits)
        reconstruction = ops.mean(rec_vec)
        kl_vec, kl_dims = self.kl_terms(z, mean, log_var)
        kl_per_dim = ops.mean(kl_dims, axis=0)
        kl = ops.mean(kl_vec)
        beta = ops.convert_to_tensor(self.kl_weight)
        terms = {"reconstruction": reconstruction, "kl": kl, "neg_elbo": reconstruction + kl,
                 "kl_weight": beta, "kl_per_dim": kl_per_dim}  # fmt: skip
        if self.spec.capacity.enabled:
            target = ops.convert_to_tensor(self.capacity_target)
            rate = self.spec.capacity.gamma * ops.abs(kl - target)
            terms["capacity"] = target
        elif self.spec.free_bits > 0:
            rate = beta * ops.sum(ops.maximum(kl_per_dim, self.spec.free_bits))
        else:
            rate = beta * kl
        loss = reconstruction + rate
        if self.spec.reencode.weight > 0:
            terms["reencode"] = ops.mean(self.reencode_loss(z, logits, training, noise))
            loss = loss + self.spec.reencode.weight * terms["reencode"]
        if log_sigma is not None:
            terms["sigma"] = ops.exp(log_sigma)
        terms["loss"] = loss
        return terms

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """Trackers reset by Keras at the start of each epoch."""
        return list(self.trackers.values())

    def _update(self, terms: dict[str, tf.Tensor], x) -> dict[str, tf.Tensor]:
        # Weighting each batch mean by its size makes the epoch number the mean over haplotypes,
        # not the mean of batch means (which over-weights a short last batch).
        size = ops.cast(ops.shape(x)[0], "float32")
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], sample_weight=size)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        """One optimisation step on a batch of haplotypes (int8 is cast inside the graph)."""
        x = data[0] if isinstance(data, tuple) else data
        self.update_schedules(self.optimizer.iterations)
        with tf.GradientTape() as tape:
            terms = self.objective(x, training=True)
            loss = terms["loss"]
            if self.losses:
                loss = loss + ops.sum(self.losses)
            # Under tf.distribute (runtime.distribute: mirrored) each replica sees a slice of the
            # global batch and the optimiser SUMS the replicas' gradients, so the per-replica mean
            # is divided by the number of replicas: the sum is then the gradient of the global
            # batch mean. Keras does this only for losses it computes itself (compile(loss=...)).
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            if replicas > 1:
                loss = loss / replicas
            # Loss scaling for mixed precision, as Keras's own train_step does.
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        return self._update(terms, x)

    def test_step(self, data):
        """The training objective on a held-out batch, without dropout or weight updates."""
        x = data[0] if isinstance(data, tuple) else data
        return self._update(self.objective(x, training=False), x)

    # --- serialisation ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Constructor arguments, for ``.keras`` save/load."""
        config = super().get_config()
        config.update(
            n_variants=self.n_variants,
            latent_dim=self.latent_dim,
            hidden_units=list(self.hidden_units),
            activation=self.activation,
            dropout=self.dropout,
            objective=self.spec.model_dump(mode="json"),
            steps_per_epoch=self.steps_per_epoch,
            epochs=self.epochs,
            seed=self.seed,
        )
        return config
