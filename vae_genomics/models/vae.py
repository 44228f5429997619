"""``HaplotypeVAE``: a Bernoulli-likelihood VAE for binary haplotypes with a custom training step.

Objective per haplotype x (n variants, latent dimension L), averaged over the batch, in nats:

    loss = reconstruction + beta * KL
    reconstruction = sum_j softplus(l_j) - x_j l_j,    l = decoder(z),  z = mu + sigma * eps
    KL = sum_k 0.5 (sigma_k^2 + mu_k^2 - 1 - log sigma_k^2)

``beta`` (the KL weight) is a non-trainable variable read inside the graph, so later schedules can
update it in-graph. ``train_step`` and ``test_step`` compute the same objective; the validation numbers
Keras reports are the held-out objective (with one posterior sample per haplotype).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from vae_genomics.models.losses import bernoulli_nll, bound_log_var, gaussian_kl

#: Names of the numbers logged per epoch (Keras prefixes validation ones with ``val_``).
METRIC_NAMES = ("loss", "reconstruction", "kl", "kl_weight")


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
        kl_weight: Initial KL weight beta (>= 0).
        seed: Seed of the reparameterisation noise.
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
        kl_weight: float = 1.0,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.n_variants = int(n_variants)
        self.latent_dim = int(latent_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.dropout = float(dropout)
        self.initial_kl_weight = float(kl_weight)
        self.seed = seed
        self.encoder = _mlp(
            list(self.hidden_units), activation, dropout, 2 * self.latent_dim, "encoder"
        )
        self.decoder = _mlp(
            list(self.hidden_units[::-1]), activation, dropout, self.n_variants, "decoder"
        )
        self.kl_weight = self.add_weight(
            name="kl_weight",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_kl_weight),
            trainable=False,
        )
        self.noise = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in METRIC_NAMES}
        self.build((None, self.n_variants))

    def build(self, input_shape) -> None:
        """Create the encoder and decoder weights."""
        self.encoder.build((None, self.n_variants))
        self.decoder.build((None, self.latent_dim))
        super().build(input_shape)

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

    def sample_posterior(self, mean, log_var):
        """Reparameterised draw ``z = mean + exp(log_var / 2) * eps``."""
        eps = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.noise)
        return mean + ops.exp(0.5 * log_var) * eps

    def call(self, x, training: bool = False):
        """Logits of the reconstruction at the posterior mean."""
        mean, _ = self.encode(x, training=training)
        return self.decode(mean, training=training)

    # --- objective -------------------------------------------------------------------------------
    def objective(self, x, training: bool = False) -> dict[str, tf.Tensor]:
        """The objective and its parts on a batch (nats per haplotype).

        Args:
            x: Haplotypes, shape (batch, n_variants).
            training: Dropout on or off.

        Returns:
            Per-haplotype vectors of shape (batch,): ``loss`` (reconstruction + beta * KL),
            ``reconstruction`` and ``kl``; ``kl_weight`` (scalar beta); ``kl_per_dim`` (L,), the
            batch-mean KL of each latent dimension. The training loss is the batch mean of ``loss``.
        """
        mean, log_var = self.encode(x, training=training)
        z = self.sample_posterior(mean, log_var)
        logits = self.decode(z, training=training)
        reconstruction = bernoulli_nll(x, ops.cast(logits, "float32"))
        kl_matrix = gaussian_kl(ops.cast(mean, "float32"), ops.cast(log_var, "float32"))
        kl = ops.sum(kl_matrix, axis=-1)
        beta = ops.convert_to_tensor(self.kl_weight)
        return {
            "loss": reconstruction + beta * kl,
            "reconstruction": reconstruction,
            "kl": kl,
            "kl_weight": beta,
            "kl_per_dim": ops.mean(kl_matrix, axis=0),
        }

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """Trackers reset by Keras at the start of each epoch."""
        return list(self.trackers.values())

    def _update(self, terms: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        # Per-haplotype vectors make each epoch's number the mean over all haplotypes, not the
        # mean of batch means (which over-weights a short last batch).
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        """One optimisation step on a batch of haplotypes (int8 is cast inside the graph)."""
        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            terms = self.objective(x, training=True)
            loss = ops.mean(terms["loss"])
            if self.losses:
                loss = loss + ops.sum(self.losses)
            # Loss scaling for mixed precision, as Keras's own train_step does.
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        return self._update(terms)

    def test_step(self, data):
        """The training objective on a held-out batch, without dropout or weight updates."""
        x = data[0] if isinstance(data, tuple) else data
        return self._update(self.objective(x, training=False))

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
            kl_weight=self.initial_kl_weight,
            seed=self.seed,
        )
        return config
