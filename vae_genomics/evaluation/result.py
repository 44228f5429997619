"""The result of a section's evaluation: numbers and the arrays its report draws.

Kept apart from :mod:`~vae_genomics.evaluation.summary` (which computes it) so that drawing a report
needs neither TensorFlow nor the model: a report can be drawn in another process
(:mod:`vae_genomics.commands.train_sections`) from a pickled :class:`Evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from vae_genomics.evaluation.pca import HaplotypePCA
    from vae_genomics.generate.samplers import AggregatePosteriorGMM


@dataclass
class Evaluation:
    """The numbers (``summary``, JSON-ready) and the arrays the report draws.

    Attributes:
        summary: Everything for ``metrics.json`` (see :func:`evaluate_model`).
        pca: PCA fitted on the real training haplotypes.
        heldout: The held-out haplotypes compared, shape (n_ref, n_variants).
        heldout_populations: Their population labels, or ``None``.
        ceiling: A sample of real training haplotypes of the same size (drawn, not the ceiling's own
            sample; for the figures).
        sets: Set name → haplotypes or probabilities, each (n_ref, n_variants), in report order.
        heldout_latent: Posterior means of the held-out haplotypes, shape (n_ref, latent_dim).
        traversals: See :func:`latent_traversals`.
        gmm: The aggregate-posterior mixture the mixture samples were drawn from (a run stores it).
    """

    summary: dict[str, Any]
    pca: HaplotypePCA
    heldout: np.ndarray
    heldout_populations: np.ndarray | None
    ceiling: np.ndarray
    sets: dict[str, np.ndarray]
    heldout_latent: np.ndarray
    traversals: dict[str, Any] = field(default_factory=dict)
    gmm: AggregatePosteriorGMM | None = None
