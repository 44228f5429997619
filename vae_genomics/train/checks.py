"""Checks around a section's fit: a cohort too small for the evaluation is refused before
training (:func:`check_cohort_size`), and a finished run whose held-out −ELBO shows that training
blew up is named after it (:func:`blow_up`)."""

from __future__ import annotations

import math

from vae_genomics.common.errors import DataError
from vae_genomics.config import Config

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
