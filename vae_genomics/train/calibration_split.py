"""The calibration split: training haplotypes kept out of training to calibrate the generator.

A section calibrates its generator to its privacy budget (:mod:`vae_genomics.evaluation.calibration`)
on haplotypes the model never saw and the held-out set does not include, so the held-out numbers
judge the choice without bias. They are carved out of the training side of the split by the same
keyed order as the held-out set (:func:`~vae_genomics.train.fit.split_haplotypes`): the
haplotypes with the next-smallest keys, a function of the seed and the haplotype IDs only, so every
section of a cohort keeps the same ones (a region's sections agree).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vae_genomics.config import Config
from vae_genomics.config.budget import parse_budget
from vae_genomics.train.fit import split_haplotypes

__all__ = ["MIN_CALIBRATION", "calibration_size", "carve_calibration"]

#: Fewest calibration haplotypes: below this the privacy numbers of a split scatter more than any
#: budget (experiments/notebook/privacy-budget.md), so small cohorts keep this many.
MIN_CALIBRATION = 100


def calibration_size(n_train: int, fraction: float) -> int:
    """Haplotypes carved out of ``n_train`` training haplotypes for calibration (0: none).

    ``round(fraction * n_train)``, raised to :data:`MIN_CALIBRATION` for small cohorts; 0 when
    ``fraction`` is 0 or when fewer than three times as many would be left to train on (a cohort
    too small to spare them).
    """
    if fraction <= 0:
        return 0
    m = max(MIN_CALIBRATION, round(fraction * n_train))
    return m if n_train - m >= 3 * m else 0


def carve_calibration(
    config: Config, train_rows: np.ndarray, ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``train_rows`` into the rows trained on and the calibration rows (module docstring).

    Args:
        config: ``generation.privacy`` (``off``: nothing is carved), ``generation.
            calibration_fraction`` and ``seed``.
        train_rows: The training side of the held-out split, sorted int64 rows.
        ids: Haplotype IDs of every row of the section.

    Returns:
        ``(train_rows, calibration_rows)``, sorted int64; the second is empty when nothing is
        carved.
    """
    train_rows = np.asarray(train_rows, dtype=np.int64)
    empty = np.empty(0, dtype=np.int64)
    if parse_budget(config.generation.privacy) is None:
        return train_rows, empty
    m = calibration_size(len(train_rows), config.generation.calibration_fraction)
    if m == 0:
        return train_rows, empty
    kept, carved = split_haplotypes(
        len(train_rows), m / len(train_rows), config.seed, np.asarray(ids)[train_rows]
    )
    return train_rows[kept], train_rows[carved]
