"""Markdown cells of a table over seeds: each column's mean, ± the SD where asked."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np


def mean_cells(
    rows: Sequence[Mapping[str, float]], keys: Sequence[str], spread: Callable[[str], bool]
) -> list[str]:
    """One cell per key: the mean over ``rows`` (one per seed), with ``± SD`` (ddof 1) for the
    keys ``spread`` accepts when there are two rows or more; three decimals."""
    cells = []
    for key in keys:
        v = np.array([r[key] for r in rows], dtype=float)
        sd = f" ± {v.std(ddof=1):.3f}" if spread(key) and len(v) > 1 else ""
        cells.append(f"{v.mean():.3f}{sd}")
    return cells
