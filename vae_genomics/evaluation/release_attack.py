"""The distance attack on a release itself: what an attacker holding the N haplotypes written learns.

The report's privacy numbers are measured on sets as large as the held-out set (a few hundred to a
few thousand haplotypes). What ``sample --n N`` releases can be far larger, and a larger release
leaks more: each synthetic haplotype of the default generator is decoded near one training
haplotype's code, so the more are drawn, the more training haplotypes have a near-copy in the
release. Over a simulated chromosome section (2,730 sites, 4,003 training haplotypes) the attack
below rose from AUC 0.580 at N = 1,000 to 0.693 at N = 16,000
(experiments/notebook/privacy-budget.md, "The size of a release").

The attack: every training haplotype (a member) and every held-out haplotype (a non-member) is
scored by minus its Hamming distance to the nearest released haplotype; the AUC of members against
non-members (0.5: the release tells them apart no better than chance) and the share of members
caught at 1% false positives. Members and non-members are a random split of one cohort, so for a
release that does not depend on who was trained on the AUC is 0.5 in expectation, whatever its
size: the reference is 0.5, and its spread under that null is ``null_sd``
(sqrt((n1 + n2 + 1) / (12 n1 n2)), Mann-Whitney without ties).

The released haplotypes are read in blocks, in release order, and the AUC is also recorded at
doubling prefixes of the release (``by_size``): the N at which the attack crosses a budget.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vae_genomics.common.hamming import as_binary
from vae_genomics.data.packed import PackedHaplotypes, rows_of
from vae_genomics.evaluation.attacks import ATTACK_FPR, roc_auc, tpr_at_fpr

__all__ = [
    "attack_from_nearest",
    "nearest_by_prefix",
    "null_sd",
    "prefix_sizes",
    "release_attack",
]

#: Released haplotypes per block of the distance matrix (memory: this × (members + non-members)
#: float32).
BLOCK = 2048
#: Smallest prefix of the release whose AUC is recorded.
FIRST_PREFIX = 500


def null_sd(n_members: int, n_nonmembers: int) -> float:
    """Standard deviation of the AUC of ``n_members`` against ``n_nonmembers`` exchangeable
    scores without ties (the Mann-Whitney null)."""
    n1, n2 = int(n_members), int(n_nonmembers)
    return math.sqrt((n1 + n2 + 1) / (12.0 * n1 * n2))


def prefix_sizes(n: int, first: int = FIRST_PREFIX) -> list[int]:
    """Doubling prefix sizes of a release of ``n`` (``first``, 2 × first, ... below n), then n."""
    sizes, k = [], first
    while k < n:
        sizes.append(k)
        k *= 2
    return [*sizes, n]


def nearest_by_prefix(
    released: np.ndarray | PackedHaplotypes, real: np.ndarray, sizes: list[int], block: int = BLOCK
) -> np.ndarray:
    """Each real haplotype's Hamming distance to its nearest released one, within each prefix.

    Args:
        released: Released haplotypes, shape (N, n_variants), 0/1, in release order: an array
            or a :class:`~vae_genomics.data.packed.PackedHaplotypes` (read a block at a time).
        real: Real haplotypes, shape (n_real, n_variants), 0/1.
        sizes: Increasing prefix sizes, the last N (:func:`prefix_sizes`).
        block: Released haplotypes per block of the distance matrix.

    Returns:
        Distances (variants), float32, shape (len(sizes), n_real): row p within the first
        ``sizes[p]`` released haplotypes.
    """
    released = rows_of(released)  # a packed release is unpacked a block at a time
    real = as_binary(real, "real")
    if released.shape[1] != real.shape[1]:
        raise ValueError(
            f"the release has {released.shape[1]} variants, the real haplotypes {real.shape[1]}"
        )
    real_sums = real.sum(axis=1)
    nearest = np.full(len(real), np.inf, dtype=np.float32)
    out = np.empty((len(sizes), len(real)), dtype=np.float32)
    done = 0
    for p, size in enumerate(sizes):
        for start in range(done, size, block):
            part = as_binary(released[start : min(start + block, size)], "released")
            d = real_sums[:, None] + part.sum(axis=1)[None, :] - 2.0 * (real @ part.T)
            np.minimum(nearest, d.min(axis=1), out=nearest)
        done = size
        out[p] = nearest
    return out


def attack_from_nearest(nearest: np.ndarray, n_members: int, sizes: list[int]) -> dict[str, Any]:
    """The attack's record from :func:`nearest_by_prefix`'s distances (members first): the
    score of a real haplotype is minus its distance (or summed distances) to the release.

    Args:
        nearest: Shape (len(sizes), n_real), members in the first ``n_members`` columns.
        n_members: Members among the real haplotypes.
        sizes: The prefix sizes of the rows.

    Returns:
        As :func:`release_attack`.
    """
    n1 = int(n_members)
    n2 = nearest.shape[1] - n1
    if n1 == 0 or n2 == 0:
        raise ValueError("the attack needs member and non-member haplotypes")
    scores = -np.rint(nearest.astype(np.float64))
    by_size = [
        {"n": int(size), "auc": roc_auc(row[:n1], row[n1:])}
        for size, row in zip(sizes, scores, strict=True)
    ]
    return {
        "n_released": int(sizes[-1]),
        "n_members": n1,
        "n_nonmembers": n2,
        "auc": by_size[-1]["auc"],
        "tpr_at_1pct_fpr": tpr_at_fpr(scores[-1, :n1], scores[-1, n1:], ATTACK_FPR),
        "null_sd": null_sd(n1, n2),
        "by_size": by_size,
    }


def release_attack(
    released: np.ndarray,
    members: np.ndarray,
    nonmembers: np.ndarray,
    *,
    block: int = BLOCK,
    first: int = FIRST_PREFIX,
) -> dict[str, Any]:
    """The distance attack on a release (module docstring).

    Args:
        released: The haplotypes released, shape (N, n_variants), 0/1, in release order.
        members: Training haplotypes, shape (n1, n_variants), 0/1.
        nonmembers: Held-out haplotypes, shape (n2, n_variants), 0/1.
        block: Released haplotypes per block of the distance matrix.
        first: Smallest prefix whose AUC is recorded (:func:`prefix_sizes`).

    Returns:
        ``n_released``, ``n_members``, ``n_nonmembers``, ``auc``, ``tpr_at_1pct_fpr``,
        ``null_sd``, and ``by_size``: ``[{"n": k, "auc": ...}, ...]`` over :func:`prefix_sizes`.

    Raises:
        ValueError: A set is empty, not 0/1, or the widths differ.
    """
    if len(members) == 0 or len(nonmembers) == 0 or len(released) == 0:
        raise ValueError("the attack needs released, member and non-member haplotypes")
    sizes = prefix_sizes(len(released), first)
    real = np.concatenate([np.asarray(members), np.asarray(nonmembers)])
    nearest = nearest_by_prefix(released, real, sizes, block)
    return attack_from_nearest(nearest, len(members), sizes)
