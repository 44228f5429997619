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

from vae_genomics.run.directory import damaged


def _first(items: Sequence[str], k: int = 3) -> str:
    shown = ", ".join(repr(str(i)[:40]) for i in items[:k])
    return shown + (f" and {len(items) - k} more" if len(items) > k else "")


def check_split_lists(path: Path, split: Any) -> tuple[list[str], list[str]]:
    """The training and held-out IDs of a ``split.json``, checked without the run's data.

    Raises:
        RunError: Naming ``path`` and the first offending IDs (module docstring), as damaged.
    """
    if not isinstance(split, dict):
        raise damaged(path, "expected a JSON object with lists 'train' and 'validation'")
    lists = []
    for key in ("train", "validation"):
        ids = split.get(key)
        if not isinstance(ids, list) or not all(isinstance(h, str) for h in ids):
            raise damaged(path, f"'{key}' is not a list of haplotype IDs")
        if not ids:
            what = "held-out" if key == "validation" else "training"
            raise damaged(path, f"the {what} list '{key}' is empty; a run always has both")
        repeated = [h for h, n in Counter(ids).items() if n > 1]
        if repeated:
            raise damaged(path, f"'{key}' lists {_first(repeated)} more than once")
        lists.append(ids)
    both = sorted(set(lists[0]) & set(lists[1]))
    if both:
        raise damaged(
            path,
            f"{len(both)} haplotypes listed both as training and as held-out ({_first(both)}); "
            "its held-out numbers would score haplotypes the model was trained on",
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
        raise damaged(
            path,
            f"{len(unknown)} haplotypes ({_first(unknown)}) are not in its data (haplotypes.npz, "
            "or the VCF of an older run): the data or the split changed since training",
        )
    return (
        np.asarray([row[h] for h in train], dtype=np.int64),
        np.asarray([row[h] for h in val], dtype=np.int64),
    )
