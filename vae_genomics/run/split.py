"""A run's ``split.json`` read as untrusted input: which haplotypes were trained on, which held out.

The numbers of a run (held-out objective, the ceiling, the privacy panel) mean something only if
the held-out haplotypes were never trained on. A file edited by hand, or copied from another run,
is refused with the first offending IDs: lists that are not lists of IDs, an empty list, an ID
listed twice, an ID in both lists, or an ID the run's data does not hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.common.errors import RunError

_FIX = "Restore split.json from a copy of the run, or train the section again."


def _first(items: Sequence[str], k: int = 3) -> str:
    shown = ", ".join(repr(str(i)[:60]) for i in items[:k])
    return shown + (f" and {len(items) - k} more" if len(items) > k else "")


def check_split_lists(path: Path, split: Any) -> tuple[list[str], list[str]]:
    """The training and held-out IDs of a ``split.json``, checked without the run's data.

    Raises:
        RunError: Naming ``path`` and the first offending IDs (module docstring).
    """
    if not isinstance(split, dict):
        raise RunError(
            f"{path}: expected a JSON object with lists 'train' and 'validation'. {_FIX}"
        )
    lists = []
    for key in ("train", "validation"):
        ids = split.get(key)
        if not isinstance(ids, list) or not all(isinstance(h, str) for h in ids):
            raise RunError(f"{path}: '{key}' is not a list of haplotype IDs. {_FIX}")
        if not ids:
            what = "held-out" if key == "validation" else "training"
            raise RunError(
                f"{path}: the {what} list '{key}' is empty; a run always has both. {_FIX}"
            )
        repeated = [h for h, n in Counter(ids).items() if n > 1]
        if repeated:
            raise RunError(f"{path}: '{key}' lists {_first(repeated)} more than once. {_FIX}")
        lists.append(ids)
    both = sorted(set(lists[0]) & set(lists[1]))
    if both:
        raise RunError(
            f"{path}: {len(both)} haplotypes are listed both as training and as held-out "
            f"({_first(both)}); held-out numbers would score haplotypes the model was trained on. "
            + _FIX
        )
    return lists[0], lists[1]


def split_rows(
    path: Path, split: Any, haplotype_ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out rows of ``haplotype_ids`` from a run's ``split.json``.

    Raises:
        RunError: The lists are malformed (:func:`check_split_lists`) or name IDs the run's data
            does not hold.
    """
    train, val = check_split_lists(path, split)
    row = {h: i for i, h in enumerate(haplotype_ids)}
    unknown = [h for h in train + val if h not in row]
    if unknown:
        raise RunError(
            f"{path}: {len(unknown)} haplotypes of this run ({_first(unknown)}) are not in its "
            "data (haplotypes.npz, or the VCF of an older run); the data or the split changed "
            f"since training. {_FIX}"
        )
    return (
        np.asarray([row[h] for h in train], dtype=np.int64),
        np.asarray([row[h] for h in val], dtype=np.int64),
    )
