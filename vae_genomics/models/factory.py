"""Per-section model factory: layer sizes derived from the section's width.

Rules used when the config says ``auto`` (override them with explicit values in the config):

- ``hidden_units``: two encoder layers, ``h1 = clip(2**round(log2(n_variants / 4)), 64, 1024)`` and
  ``h2 = clip(h1 // 4, 32, 256)``; the decoder mirrors them (h2, h1). A 1,000-SNP section gets
  [256, 64], a 5,000-SNP section [1024, 256].
- ``latent_dim``: ``min(16, max(2, n_variants // 16))``: 16 for every section of 256 SNPs or more.
  Chosen by measurement (``experiments/default_candidates.py``,
  ``experiments/notebook/default-architecture.md``): 16 gave the best
  held-out -ELBO of the latent sizes tried (4, the former sqrt rule's 6-11, 16) on cohorts of
  500-2,000 SNPs and 600-5,000 haplotypes; tying the latent size to the number of variants
  (e.g. n/10) with sigmoid units and dropout collapses every dimension.

Activation ELU and no dropout are defaults for the same reason (ReLU was no better; dropout 0.2
helped some cohorts and hurt others).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from vae_genomics.config import ModelConfig, ObjectiveConfig, TrainingConfig
from vae_genomics.models.vae import HaplotypeVAE


def _clip(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def auto_hidden_units(n_variants: int) -> list[int]:
    """Encoder hidden widths for a section of ``n_variants`` SNPs (see module docstring)."""
    h1 = _clip(2 ** round(math.log2(max(n_variants, 1) / 4)), 64, 1024)
    return [h1, _clip(h1 // 4, 32, 256)]


def auto_latent_dim(n_variants: int) -> int:
    """Latent dimension for a section of ``n_variants`` SNPs (see module docstring)."""
    return min(16, max(2, n_variants // 16))


def resolve_architecture(n_variants: int, config: ModelConfig) -> tuple[list[int], int]:
    """Hidden widths and latent dimension after applying the 'auto' rules."""
    hidden = auto_hidden_units(n_variants) if config.hidden_units == "auto" else config.hidden_units
    latent = auto_latent_dim(n_variants) if config.latent_dim == "auto" else config.latent_dim
    return list(hidden), int(latent)


def build_vae(
    n_variants: int,
    model: ModelConfig,
    objective: ObjectiveConfig,
    training: TrainingConfig,
    seed: int,
    steps_per_epoch: int = 1,
) -> HaplotypeVAE:
    """Build and compile the VAE for one section.

    Args:
        n_variants: The section's width.
        model: Architecture options.
        objective: Objective options.
        training: Optimiser options (learning rate, planned epochs).
        seed: Seed of the reparameterisation noise (weights are seeded by
            ``keras.utils.set_random_seed``, called by the caller).
        steps_per_epoch: Optimiser steps per epoch (schedules are given in epochs).

    Returns:
        A compiled :class:`HaplotypeVAE`.
    """
    hidden, latent = resolve_architecture(n_variants, model)
    vae = HaplotypeVAE(
        n_variants=n_variants,
        latent_dim=latent,
        hidden_units=hidden,
        activation=model.activation,
        dropout=model.dropout,
        objective=objective.model_dump(mode="json"),
        steps_per_epoch=steps_per_epoch,
        epochs=training.epochs,
        seed=seed,
        name="haplotype_vae",
    )
    # XLA and steps per execution: defaults measured in benchmarks/bench_training.py. XLA was
    # measured on one device only; under a tf.distribute strategy Keras's "auto" decides (off).
    jit = "auto" if tf.distribute.has_strategy() else training.jit_compile
    vae.compile(
        optimizer=keras.optimizers.Adam(learning_rate=training.learning_rate),
        jit_compile=jit,
        steps_per_execution=training.steps_per_execution,
    )
    return vae
