"""Checks around a section's fit: a cohort too small for the evaluation and a model too large
for the machine's memory are refused before training (:func:`check_cohort_size`,
:func:`check_model_size`), and a finished run whose held-out −ELBO shows that training blew up is
named after it (:func:`blow_up`)."""

from __future__ import annotations

import math
import os
from itertools import pairwise

from vae_genomics.common.errors import ConfigError, DataError
from vae_genomics.common.limits import human_bytes
from vae_genomics.config import Config

#: Bytes one parameter takes while it trains: float32 weights, gradients and Adam's two moments.
BYTES_PER_PARAMETER = 16

#: A held-out -ELBO this many times that of a fair coin per allele means training blew up.
BLOW_UP_FACTOR = 10.0


def blow_up(neg_elbo: float | None, n_variants: int) -> str | None:
    """Why a finished run's held-out -ELBO shows that training blew up, or ``None``.

    A model that guesses every allele by a fair coin costs ``n_variants * ln 2`` nats per
    haplotype; a trained model is far below that. Far above it (:data:`BLOW_UP_FACTOR` times), or
    not finite, the weights were thrown off (e.g. a too large learning rate) even when every
    epoch's loss stayed finite.

    Args:
        neg_elbo: Held-out -ELBO, nats per haplotype.
        n_variants: Variants of the section.
    """
    coin = n_variants * math.log(2)
    if neg_elbo is None or not math.isfinite(neg_elbo):
        return f"the held-out -ELBO is {neg_elbo}"
    if neg_elbo > BLOW_UP_FACTOR * coin:
        return (
            f"the held-out -ELBO is {neg_elbo:.3g} nats per haplotype, more than "
            f"{BLOW_UP_FACTOR:g} times the {coin:.3g} of guessing each allele by a coin flip"
        )
    return None


def check_cohort_size(config: Config, n: int, label: str) -> None:
    """Refuse, before training, a cohort whose held-out set is too small for the evaluation.

    The k-NN statistics (precision/recall/coverage) need more held-out haplotypes than
    ``evaluation.prdc_k``. The advice fits the case: a cohort that cannot hold out enough even
    at the largest fraction needs more samples; otherwise the fraction can be raised.

    Raises:
        DataError: The held-out set would have ``<= evaluation.prdc_k`` haplotypes.
    """
    k, fraction = config.evaluation.prdc_k, config.training.validation_fraction
    n_val = min(n - 1, max(1, round(fraction * n))) if n >= 2 else 0
    if n_val > k:
        return
    if n - 1 <= k:
        advice = (
            f"the cohort is too small for the evaluation (a larger validation fraction cannot "
            f"help): use a VCF with at least {k + 2} haplotypes ({(k + 3) // 2} diploid samples)"
            f"{'' if n < 3 else f', or lower evaluation.prdc_k to {n - 2}'}"
        )
    else:
        advice = (
            f"raise training.validation_fraction to at least {(k + 1) / n:.2f}, or lower "
            f"evaluation.prdc_k to {max(1, n_val - 1)}"
        )
    raise DataError(
        f"section {label}: {n} haplotypes, of which {n_val} would be held out at "
        f"training.validation_fraction = {fraction}; the evaluation's k-NN statistics need more "
        f"than evaluation.prdc_k = {k}. Nothing was trained: {advice}."
    )


def vae_parameters(n_variants: int, hidden: list[int], latent: int) -> int:
    """Parameters of the VAE: the encoder's dense layers ``n_variants → hidden… → 2·latent`` (mean
    and log-variance) and the decoder's ``latent → reversed hidden… → n_variants``, weights and
    biases."""
    encoder = [n_variants, *hidden, 2 * latent]
    decoder = [latent, *reversed(hidden), n_variants]
    return sum((a + 1) * b for widths in (encoder, decoder) for a, b in pairwise(widths))


def physical_memory() -> int | None:
    """This machine's memory in bytes (None where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_model_size(config: Config, n_variants: int, label: str) -> None:
    """Refuse, before anything is built, a model whose training state cannot fit in this machine's
    memory (``model.hidden_units: [100000000]``, a typo, would otherwise fail deep in TensorFlow
    or swap the node).

    Raises:
        ConfigError: :data:`BYTES_PER_PARAMETER` × the parameters exceed the physical memory.
    """
    from vae_genomics.models.factory import auto_hidden_units, resolve_architecture

    hidden, latent = resolve_architecture(n_variants, config.model)
    params = vae_parameters(n_variants, hidden, latent)
    memory = physical_memory()
    if memory is None or params * BYTES_PER_PARAMETER <= memory:
        return
    raise ConfigError(
        f"{label}: model.hidden_units {hidden} and latent_dim {latent} over {n_variants} variants "
        f"make a VAE of {params:,} parameters, about {human_bytes(params * BYTES_PER_PARAMETER)} "
        f"to train (weights, gradients and Adam's two moments), more than this machine's "
        f"{human_bytes(memory)} of memory. Use fewer units: model.hidden_units: auto picks "
        f"{auto_hidden_units(n_variants)} for this section."
    )
