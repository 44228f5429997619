"""Latent codes as a TSV for other tools (``vae-genomics encode --out``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vae_genomics.common.io import atomic_write_text


def write_latent_tsv(
    path: str | Path,
    haplotype_ids: Sequence[str],
    samples: Sequence[str],
    mean: np.ndarray,
    log_var: np.ndarray,
    populations: Sequence[str] | None = None,
    split: Sequence[str] | None = None,
    overwrite: bool = True,
) -> Path | None:
    """Write posterior means and standard deviations per haplotype as a TSV.

    Columns: ``haplotype``, ``sample``, ``population`` (``unknown`` when not given), ``split``,
    ``mean_1..L``, ``sd_1..L`` (the same layout as a run's ``latent.tsv``).

    Args:
        path: Output file, or ``-`` for standard output.
        haplotype_ids: Row names, shape (n,).
        samples: Sample of each row, shape (n,).
        mean: Posterior means, shape (n, L).
        log_var: Posterior log-variances, shape (n, L).
        populations: Population label per row, or None.
        split: ``train`` / ``validation`` / ``external`` per row, or None (``unknown``).
        overwrite: Replace an existing file (else the final rename is exclusive).

    Returns:
        ``path`` (None for standard output).
    """
    n, dims = np.shape(mean)
    table = pd.DataFrame(
        {
            "haplotype": list(haplotype_ids),
            "sample": list(samples),
            "population": list(populations) if populations is not None else ["unknown"] * n,
            "split": list(split) if split is not None else ["unknown"] * n,
        }
    )
    sd = np.exp(0.5 * np.asarray(log_var, dtype=np.float64))
    table = pd.concat(
        [
            table,
            pd.DataFrame(np.asarray(mean), columns=[f"mean_{k}" for k in range(1, dims + 1)]),
            pd.DataFrame(sd, columns=[f"sd_{k}" for k in range(1, dims + 1)]),
        ],
        axis=1,
    )
    text = table.to_csv(sep="\t", index=False, float_format="%.6g")
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    atomic_write_text(Path(path), text, overwrite)
    return Path(path)
