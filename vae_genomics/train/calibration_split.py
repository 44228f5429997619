"""The calibration split: training haplotypes kept out of training for the privacy budget.

:mod:`vae_genomics.evaluation.calibration` needs haplotypes the model never saw and that are not
the held-out set; this module carves them out of the training rows, by haplotype identity like the
held-out split (:func:`vae_genomics.train.fit.split_haplotypes`), so every section of a cohort
keeps out the same haplotypes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def calibration_rows(
    train_rows: np.ndarray,
    ids: Sequence[str],
    fraction: float,
    seed: int,
    minimum: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Split training rows into the rows trained on and the calibration rows.

    Each training haplotype gets the key SHA-256(``"<seed>:calibration:<id>"``) (first 8 bytes);
    the ``round(fraction * n_train)`` with the smallest keys are the calibration rows. When that
    is fewer than ``minimum`` the cohort is too small to calibrate: every row stays in training.

    Args:
        train_rows: Training rows of the held-out split, sorted int64, shape (n_train,).
        ids: Haplotype ID of every row of the section (indexed by row).
        fraction: Share of the training rows kept out, in (0, 0.5).
        seed: The run's seed.
        minimum: Fewest calibration rows worth keeping out.

    Returns:
        ``(train_rows, calibration_rows)``, sorted int64; the second is empty when the cohort is
        too small.
    """
    train_rows = np.asarray(train_rows, dtype=np.int64)
    n_cal = round(fraction * len(train_rows))
    if n_cal < minimum or n_cal >= len(train_rows):
        return train_rows, np.zeros(0, dtype=np.int64)
    keys = np.array(
        [
            int.from_bytes(
                hashlib.sha256(f"{seed}:calibration:{ids[r]}".encode()).digest()[:8], "big"
            )
            for r in train_rows
        ],
        dtype=np.uint64,
    )
    order = np.lexsort((np.asarray([str(ids[r]) for r in train_rows]), keys))
    return np.sort(train_rows[order[n_cal:]]), np.sort(train_rows[order[:n_cal]])
